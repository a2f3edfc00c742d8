"""The status page's model in memory: the same folds as the DynamoDB page store, with the
``page_update`` entry written on the in-memory incident store's timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clarion.domain.incident import Change, Incident, TimelineEntry
from clarion.domain.page_index import Folded, MemoryPage, PageIndex, fold, refreshed_summary, updated_summary
from clarion.domain.status_page import PageIncident, PageUpdate
from clarion.ports import PageStore

from tests.fakes.store import InMemoryIncidentStore


class InMemoryPageStore:
    def __init__(self, store: InMemoryIncidentStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self.index = PageIndex()
        self.summaries: dict[str, PageIncident] = {}  # every incident the page was ever told of
        self.unreadable: list[str] = []  # the fake holds models, never unreadable records

    def record(
        self,
        incident: Incident,
        update: PageUpdate,
        entry: TimelineEntry,
        now: datetime,
        next_update_at: datetime | None = None,
    ) -> Folded:
        previous = self.summaries.get(incident.id)
        folded = fold(self.index, previous, updated_summary(previous, incident, update, next_update_at), now)
        if previous is None or all(u.id != update.id for u in previous.updates):
            self.store.commit(Change(timeline=[(incident.id, entry)]))
        self.index = folded.index
        self.summaries[incident.id] = folded.summary
        return folded

    def refresh(self, incident: Incident, now: datetime) -> bool:
        previous = self.summaries.get(incident.id)
        if previous is None:
            return False
        folded = fold(self.index, previous, refreshed_summary(previous, incident, now), now)
        self.index = folded.index
        self.summaries[incident.id] = folded.summary
        return True

    def load(self) -> MemoryPage:
        return MemoryPage(list(self.summaries.values()), self.clock())


_check: PageStore = InMemoryPageStore(InMemoryIncidentStore(), datetime.now)
