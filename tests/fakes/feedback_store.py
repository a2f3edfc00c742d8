"""In-memory FeedbackStore with the adapter's once-per-reader condition."""

from __future__ import annotations

from datetime import datetime

from clarion.domain.feedback.model import Feedback
from clarion.ports import FeedbackStore


class InMemoryFeedbackStore:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.answers: dict[tuple[str, str, str], Feedback] = {}

    def hit(self, source: str, window: str, limit: int, expires: datetime) -> bool:
        key = f"{source}#{window}"
        if self.counts.get(key, 0) >= limit:
            return False
        self.counts[key] = self.counts.get(key, 0) + 1
        return True

    def record(self, feedback: Feedback) -> bool:
        key = (feedback.incident_id, feedback.update_id, feedback.reader)
        if key in self.answers:
            return False
        self.answers[key] = feedback
        return True

    def feedback(self, incident_id: str) -> list[Feedback]:
        return [f for (i, _, _), f in sorted(self.answers.items()) if i == incident_id]


_check: FeedbackStore = InMemoryFeedbackStore()
