"""In-memory SubscriptionStore."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clarion.domain.subscriptions import SubscriptionStore


class InMemorySubscriptionStore:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.codes: dict[str, dict[str, Any]] = {}

    def hit(self, source: str, window: str, limit: int, expires: datetime) -> bool:
        key = f"{source}#{window}"
        if self.counts.get(key, 0) >= limit:
            return False
        self.counts[key] = self.counts.get(key, 0) + 1
        return True

    def save_code(self, phone: str, record: dict[str, Any], expires: datetime) -> None:
        self.codes[phone] = dict(record)

    def load_code(self, phone: str) -> dict[str, Any] | None:
        found = self.codes.get(phone)
        return dict(found) if found else None

    def drop_code(self, phone: str) -> None:
        self.codes.pop(phone, None)


_check: SubscriptionStore = InMemorySubscriptionStore()
