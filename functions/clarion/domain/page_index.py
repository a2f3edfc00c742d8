"""The status page's model, maintained incrementally: what one page update must read stays the same
size whatever the history.

Each published incident has a *page summary* (a :class:`PageIncident`, with its history slot). The
*page index* holds everything else the page needs, each part bounded:

* ``live``: unresolved incidents and unfinished maintenance (component statuses, the banner);
* ``recent``: incidents resolved in the last few days (the index's past days);
* ``newest`` / ``maintenance`` / ``feed``: the newest incidents and maintenance by start, and the
  most recently updated, as many as the JSON API and the feeds show;
* ``uptime``: the bad minutes of resolved incidents per component and UTC day, for 90 days (the
  unresolved ones are added at render time, since they grow with the clock);
* ``history_versions``: one counter per history page, bumped whenever a row of that page changes.

History rows are numbered in the order incidents first reach the page (slot 1 is the first incident
ever published) and pages hold ``HISTORY_PAGE_SIZE`` slots, oldest first: a page's rows never move,
so a page is re-rendered exactly when one of its rows changes (or, once, when a newer page appears
and it gains its "newer" link). Every incident ever published keeps its row.

:func:`fold` applies one summary change to the index; the DynamoDB store and the in-memory source
(:class:`MemoryPage`, for the CLI and tests) both use it, so both give the renderer the same view.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from clarion.domain.enums import ComponentStatus, IncidentKind, IncidentStatus
from clarion.domain.incident import Incident
from clarion.domain.status_page import POSTMORTEM, UPTIME_DAYS, PageIncident, PageUpdate

HISTORY_PAGE_SIZE = 25
RECENT_DAYS = 7
FEED_ENTRIES = 50
API_INCIDENTS = 50

_SLOT = {
    ComponentStatus.DEGRADED_PERFORMANCE: 0,
    ComponentStatus.PARTIAL_OUTAGE: 1,
    ComponentStatus.MAJOR_OUTAGE: 2,
}

DayMinutes = dict[str, dict[str, list[int]]]  # component -> ISO day -> [degraded, partial, major] minutes


class HistoryRow(BaseModel):
    """One incident as a history page lists it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: dict[str, str]
    status: str
    started_at: datetime

    @classmethod
    def of(cls, inc: PageIncident) -> HistoryRow:
        return cls(id=inc.id, name=dict(inc.name), status=inc.status, started_at=inc.started_at)


class Ranked(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    at: datetime


class PageIndex(BaseModel):
    version: int = 0  # for conditional writes
    slots: int = 0  # history rows handed out so far
    history_versions: list[int] = Field(default_factory=list)  # page 1 first
    live: list[str] = Field(default_factory=list)
    recent: list[Ranked] = Field(default_factory=list)  # resolved incidents by start
    newest: list[Ranked] = Field(default_factory=list)  # incidents by start, newest last
    maintenance: list[Ranked] = Field(default_factory=list)  # maintenance by start, newest last
    feed: list[Ranked] = Field(default_factory=list)  # everything by last update, newest last
    uptime: DayMinutes = Field(default_factory=dict)
    last_change: dict[str, datetime] = Field(default_factory=dict)
    epoch: datetime | None = None  # the earliest start on the page

    @property
    def pages(self) -> int:
        return max(1, -(-self.slots // HISTORY_PAGE_SIZE))

    def shown_ids(self) -> list[str]:
        """Every incident the index, the JSON API and the feeds can show, newest first."""
        ids = [*self.live, *(r.id for lst in (self.feed, self.newest, self.maintenance, self.recent) for r in lst)]
        return list(dict.fromkeys(reversed(ids)))


def page_of(slot: int) -> int:
    return (slot - 1) // HISTORY_PAGE_SIZE + 1


def bad_minutes(inc: PageIncident, until: datetime) -> DayMinutes:
    """Minutes per component and UTC day that ``inc`` counted as degraded, partial or major, from its
    start to its end (or ``until``); each day's part of the incident counts at least one minute."""
    out: DayMinutes = {}
    if inc.is_maintenance:
        return out
    end = min(inc.end(until), until)
    for cid, st in inc.components.items():
        slot = _SLOT.get(st)
        if slot is None:
            continue
        cursor = inc.started_at.astimezone(UTC)
        while cursor < end:
            day = cursor.date()
            next_day = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
            chunk = int((min(end, next_day) - cursor).total_seconds() // 60) or 1
            out.setdefault(cid, {}).setdefault(day.isoformat(), [0, 0, 0])[slot] += chunk
            cursor = next_day
    return out


def _add_minutes(total: DayMinutes, part: DayMinutes, sign: int, keep_from: date) -> None:
    first = keep_from.isoformat()
    for cid, days in part.items():
        mine = total.setdefault(cid, {})
        for day, values in days.items():
            if day < first:
                continue
            cur = mine.setdefault(day, [0, 0, 0])
            for i in range(3):
                cur[i] = max(0, cur[i] + sign * values[i])
            if not any(cur):
                del mine[day]
        if not mine:
            del total[cid]


def _rank(lst: list[Ranked], item_id: str, at: datetime | None, keep: int) -> list[Ranked]:
    """``lst`` without ``item_id`` and, when ``at`` is given, with it at its place (ascending by time),
    cut to the newest ``keep``."""
    out = [r for r in lst if r.id != item_id]
    if at is not None:
        keys = [(r.at, r.id) for r in out]
        out.insert(bisect.bisect(keys, (at, item_id)), Ranked(id=item_id, at=at))
    return out[-keep:]


@dataclass(frozen=True)
class Folded:
    index: PageIndex
    summary: PageIncident  # with its slot
    row: HistoryRow | None  # the history row to write; None when it did not change
    touched_pages: tuple[int, ...]  # history pages whose version was bumped


def fold(index: PageIndex, previous: PageIncident | None, current: PageIncident, now: datetime) -> Folded:
    """The index after ``current`` replaces ``previous`` (None: the incident is new to the page)."""
    versions = list(index.history_versions)
    touched: list[int] = []
    slots = index.slots
    summary = current
    row: HistoryRow | None = None
    if not current.is_maintenance:
        slot = previous.slot if previous is not None and previous.slot else None
        if slot is None:
            slots += 1
            slot = slots
            if page_of(slot) > len(versions):
                if versions:  # the page that was newest gains its "newer" link
                    versions[-1] += 1
                    touched.append(len(versions))
                versions.append(0)
        summary = current.model_copy(update={"slot": slot})
        new_row = HistoryRow.of(current)
        if previous is None or previous.slot != slot or HistoryRow.of(previous) != new_row:
            row = new_row
            versions[page_of(slot) - 1] += 1
            touched.append(page_of(slot))

    live = [i for i in index.live if i != current.id]
    if current.unresolved:
        live.append(current.id)
    keep_from = (now - timedelta(days=UPTIME_DAYS + 1)).date()
    uptime = {cid: {d: list(v) for d, v in days.items()} for cid, days in index.uptime.items()}
    if previous is not None and not previous.unresolved:
        _add_minutes(uptime, bad_minutes(previous, previous.end(now)), -1, keep_from)
    if not current.unresolved:
        _add_minutes(uptime, bad_minutes(current, current.end(now)), +1, keep_from)
    uptime = {cid: {d: v for d, v in days.items() if d >= keep_from.isoformat()} for cid, days in uptime.items()}
    uptime = {cid: days for cid, days in uptime.items() if days}

    resolved_recently = not current.unresolved and not current.is_maintenance
    recent_from = now - timedelta(days=RECENT_DAYS + 1)
    recent = [
        r
        for r in _rank(index.recent, current.id, current.started_at if resolved_recently else None, 10_000)
        if r.at >= recent_from
    ]
    last_change = dict(index.last_change)
    for cid in current.components:
        if cid not in last_change or last_change[cid] < current.updated_at:
            last_change[cid] = current.updated_at
    epoch = min(index.epoch, current.started_at) if index.epoch else current.started_at
    folded = index.model_copy(
        update={
            "slots": slots,
            "history_versions": versions,
            "live": live,
            "recent": recent,
            "newest": index.newest
            if current.is_maintenance
            else _rank(index.newest, current.id, current.started_at, API_INCIDENTS),
            "maintenance": _rank(index.maintenance, current.id, current.started_at, API_INCIDENTS)
            if current.is_maintenance
            else index.maintenance,
            "feed": _rank(index.feed, current.id, current.updated_at, FEED_ENTRIES),
            "uptime": uptime,
            "last_change": last_change,
            "epoch": epoch,
        }
    )
    return Folded(folded, summary, row, tuple(touched))


def updated_summary(
    previous: PageIncident | None,
    incident: Incident,
    update: PageUpdate,
    next_update_at: datetime | None = None,
) -> PageIncident:
    """The incident's page summary after ``update`` is published: what the incident says now, with
    the updates customers have been shown (a retried update replaces itself) and the next update
    this one promised (while the incident is open). The post-incident report (status
    ``postmortem``) is its own part of the page, not an update: it sets the report and the status."""
    if update.status == POSTMORTEM and previous is not None:
        return previous.model_copy(
            update={
                "name": dict(incident.title),
                "status": POSTMORTEM,
                "resolved_at": incident.resolved_at or previous.resolved_at,
                "updated_at": max(previous.updated_at, update.created_at),
                "next_update_at": None,
                "report": dict(update.body),
                "report_at": update.created_at,
            }
        )
    updates = [u for u in (previous.updates if previous else []) if u.id != update.id]
    updates.append(update)
    updates.sort(key=lambda u: (u.created_at, u.id))
    monitoring_at = next((u.created_at for u in updates if u.status == IncidentStatus.MONITORING.value), None)
    maintenance = incident.kind is IncidentKind.MAINTENANCE
    worst: dict[str, ComponentStatus] = dict(previous.components) if previous else {}
    for cid, st in incident.components.items():
        worst[cid] = st.worse_of(worst.get(cid, ComponentStatus.OPERATIONAL))
    for link in incident.alarms.values():
        for cid, st in link.components.items():
            worst[cid] = st.worse_of(worst.get(cid, ComponentStatus.OPERATIONAL))
    return PageIncident(
        id=incident.id,
        kind=incident.kind,
        name=dict(incident.title),
        # A report once published stays, whatever is published after it (a retried resolution).
        status=POSTMORTEM if previous and previous.report and update.status == "resolved" else update.status,
        impact="maintenance" if maintenance else incident.severity.impact,
        components=worst,
        created_at=incident.created_at,
        updated_at=max([incident.updated_at, *(u.created_at for u in updates)]),
        started_at=incident.scheduled_for if maintenance and incident.scheduled_for else incident.started_at,
        monitoring_at=monitoring_at,
        resolved_at=incident.resolved_at,
        next_update_at=next_update_at if incident.is_open and not maintenance else None,
        scheduled_for=incident.scheduled_for,
        scheduled_until=incident.scheduled_until,
        cancelled=incident.cancelled_at is not None,
        updates=updates,
        report=dict(previous.report) if previous else {},
        report_at=previous.report_at if previous else None,
        slot=previous.slot if previous else None,
    )


def refreshed_summary(previous: PageIncident, incident: Incident, now: datetime) -> PageIncident:
    """The incident's page summary brought in line with the incident when it changed without a page
    update (maintenance cancelled): its name, status, end and whether it was called off."""
    status = (
        incident.maintenance_status.value
        if incident.maintenance_status
        else (POSTMORTEM if previous.report else "resolved")
        if incident.resolved_at
        else previous.status
    )
    return previous.model_copy(
        update={
            "name": dict(incident.title),
            "status": status,
            "resolved_at": incident.resolved_at,
            "updated_at": max(previous.updated_at, now),
            "next_update_at": previous.next_update_at if incident.is_open else None,
            "cancelled": incident.cancelled_at is not None,
        }
    )


class PageSource(Protocol):
    """What the renderer reads: the index, the summaries it shows, and history rows on demand."""

    def index(self) -> PageIndex: ...

    def shown(self) -> dict[str, PageIncident]:
        """At least every incident in the index's live, recent, newest, maintenance and feed lists."""
        ...

    def changed_since(self, since: datetime | None) -> list[PageIncident]:
        """Every incident updated at or after ``since`` (all of them when None)."""
        ...

    def history_keys(self) -> list[str]:
        """One key per history page, page 1 first: a page's key changes when its rows change."""
        ...

    def history_rows(self, pages: Iterable[int]) -> dict[int, list[HistoryRow]]:
        """The rows of each of ``pages``, oldest first."""
        ...


class MemoryPage:
    """A :class:`PageSource` over incidents held in memory (the CLI, tests, benches): folded in order
    of start, as if each had been published once in that order."""

    def __init__(self, incidents: list[PageIncident], now: datetime) -> None:
        index = PageIndex()
        self._all: dict[str, PageIncident] = {}
        self._rows: dict[int, list[HistoryRow]] = {}
        for inc in sorted(incidents, key=lambda i: (i.started_at, i.id)):
            folded = fold(index, None, inc.model_copy(update={"slot": None}), now)
            index = folded.index
            self._all[inc.id] = folded.summary
            if folded.summary.slot is not None and folded.row is not None:
                self._rows.setdefault(page_of(folded.summary.slot), []).append(folded.row)
        self._index = index

    def index(self) -> PageIndex:
        return self._index

    def shown(self) -> dict[str, PageIncident]:
        return self._all

    def changed_since(self, since: datetime | None) -> list[PageIncident]:
        return [i for i in self._all.values() if since is None or i.updated_at >= since]

    def history_keys(self) -> list[str]:
        return [
            hashlib.sha256("|".join(r.model_dump_json() for r in self._rows.get(p, [])).encode()).hexdigest()[:16]
            for p in range(1, self._index.pages + 1)
        ]

    def history_rows(self, pages: Iterable[int]) -> dict[int, list[HistoryRow]]:
        return {p: list(self._rows.get(p, [])) for p in pages}


PageInput = PageSource | list[PageIncident]


def as_source(page: PageInput, now: datetime) -> PageSource:
    return MemoryPage(page, now) if isinstance(page, list) else page


__all__ = [
    "API_INCIDENTS",
    "FEED_ENTRIES",
    "HISTORY_PAGE_SIZE",
    "RECENT_DAYS",
    "Folded",
    "HistoryRow",
    "MemoryPage",
    "PageIndex",
    "PageInput",
    "PageSource",
    "Ranked",
    "as_source",
    "bad_minutes",
    "fold",
    "page_of",
    "refreshed_summary",
    "updated_summary",
]
