"""In-memory DeskStore."""

from __future__ import annotations

from datetime import datetime

from clarion.ports import DeskStore


class InMemoryDeskStore:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.claimed: set[str] = set()

    def hit(self, source: str, window: str, limit: int, expires: datetime) -> bool:
        key = f"{source}#{window}"
        if self.counts.get(key, 0) >= limit:
            return False
        self.counts[key] = self.counts.get(key, 0) + 1
        return True

    def claim_once(self, key: str, expires: datetime) -> bool:
        if key in self.claimed:
            return False
        self.claimed.add(key)
        return True


_check: DeskStore = InMemoryDeskStore()
