"""The status page's model: what a reader sees, computed from incidents; no rendering, no I/O.

* Component status: the worst status any unresolved incident gives it; ``under_maintenance`` while a
  maintenance window covering it is in progress and nothing worse holds.
* The overall banner (Statuspage's ``status.indicator``): ``none`` when all is operational,
  ``minor`` for degraded performance, ``major`` for a partial outage, ``critical`` for a major
  outage; under maintenance alone is ``none`` with "Service under maintenance".
* 90-day uptime per component: each UTC day takes the worst status of the incidents that touched
  the component that day. Uptime counts a major-outage minute as fully down and a partial-outage
  minute as 30 % down (Statuspage's weighting); degraded performance is not downtime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from clarion.domain.enums import ComponentStatus, IncidentKind, IncidentStatus, MaintenanceStatus

UPTIME_DAYS = 90
PARTIAL_WEIGHT = 0.3
Indicator = Literal["none", "minor", "major", "critical"]
POSTMORTEM = "postmortem"  # Statuspage's incident status once the post-incident report is published


class AffectedComponent(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    old_status: ComponentStatus
    new_status: ComponentStatus


class PageUpdate(BaseModel):
    """One update on an incident's timeline, as customers read it."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: str  # IncidentStatus or MaintenanceStatus value
    body: dict[str, str]  # language -> text (plain text; escaped when shown)
    created_at: AwareDatetime
    affected_components: list[AffectedComponent] = Field(default_factory=list)
    draft_id: str = ""  # the draft that published it: what feedback on this update is about
    phase: str = ""


class PageIncident(BaseModel):
    """An incident or maintenance as the status page shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: IncidentKind = IncidentKind.INCIDENT
    name: dict[str, str]
    status: str
    impact: Literal["none", "minor", "major", "critical", "maintenance"]
    components: dict[str, ComponentStatus]  # affected component -> worst status it had
    created_at: AwareDatetime
    updated_at: AwareDatetime
    started_at: AwareDatetime
    monitoring_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    next_update_at: AwareDatetime | None = None
    scheduled_for: AwareDatetime | None = None
    scheduled_until: AwareDatetime | None = None
    cancelled: bool = False  # maintenance called off; Statuspage's JSON still says "completed"
    updates: list[PageUpdate] = Field(default_factory=list)  # oldest first
    report: dict[str, str] = Field(default_factory=dict)  # the post-incident report: language -> Markdown
    report_at: datetime | None = None
    slot: int | None = None  # its row on the history pages (1: the first incident ever published)

    @cached_property
    def unresolved(self) -> bool:
        return self.status not in (IncidentStatus.RESOLVED.value, MaintenanceStatus.COMPLETED.value, POSTMORTEM)

    @cached_property
    def is_maintenance(self) -> bool:
        return self.kind is IncidentKind.MAINTENANCE

    def maintenance_state(self, now: datetime) -> Literal["upcoming", "active", "done"]:
        if not self.unresolved:
            return "done"
        if self.status in (MaintenanceStatus.IN_PROGRESS.value, MaintenanceStatus.VERIFYING.value):
            return "active"
        if self.scheduled_for is not None and self.scheduled_for <= now:
            return "active"
        return "upcoming"

    @property
    def version_key(self) -> str:
        """Changes whenever what the incident's own page shows changes."""
        return f"{self.updated_at.isoformat()}|{len(self.updates)}|{self.status}|{self.report_at}"

    def end(self, now: datetime) -> datetime:
        return self.resolved_at or now


@dataclass(frozen=True)
class DayStatus:
    day: date
    status: ComponentStatus  # operational, degraded_performance, partial_outage or major_outage
    minutes_partial: int
    minutes_major: int


@dataclass(frozen=True)
class Uptime:
    first_day: date
    statuses: list[ComponentStatus]  # one per day, oldest first
    minutes: dict[int, tuple[int, int, int]]  # day index -> (degraded, partial, major) minutes; bad days only
    percent: float

    @property
    def days(self) -> list[DayStatus]:
        out = []
        for i, status in enumerate(self.statuses):
            _, part, major = self.minutes.get(i, (0, 0, 0))
            out.append(DayStatus(self.first_day + timedelta(days=i), status, part, major))
        return out

    @property
    def counts(self) -> dict[ComponentStatus, int]:
        out: dict[ComponentStatus, int] = {ComponentStatus.OPERATIONAL: len(self.statuses) - len(self.minutes)}
        for i in self.minutes:
            out[self.statuses[i]] = out.get(self.statuses[i], 0) + 1
        return {k: v for k, v in out.items() if v}


def component_statuses(
    component_ids: list[str], incidents: list[PageIncident], now: datetime
) -> dict[str, ComponentStatus]:
    status = dict.fromkeys(component_ids, ComponentStatus.OPERATIONAL)
    for inc in incidents:
        if not inc.unresolved:
            continue
        if inc.is_maintenance:
            if inc.maintenance_state(now) == "active":
                for cid in inc.components:
                    if cid in status and status[cid] is ComponentStatus.OPERATIONAL:
                        status[cid] = ComponentStatus.UNDER_MAINTENANCE
            continue
        for cid, st in inc.components.items():
            if cid in status:
                status[cid] = st.worse_of(status[cid])
    return status


def overall(statuses: dict[str, ComponentStatus]) -> tuple[Indicator, str]:
    """Statuspage's indicator and the banner's key (translated by the renderer)."""
    worst = max(statuses.values(), key=lambda s: s.badness, default=ComponentStatus.OPERATIONAL)
    table: dict[ComponentStatus, tuple[Indicator, str]] = {
        ComponentStatus.OPERATIONAL: ("none", "all_operational"),
        ComponentStatus.UNDER_MAINTENANCE: ("none", "under_maintenance"),
        ComponentStatus.DEGRADED_PERFORMANCE: ("minor", "minor_outage"),
        ComponentStatus.PARTIAL_OUTAGE: ("major", "partial_outage"),
        ComponentStatus.MAJOR_OUTAGE: ("critical", "major_outage"),
    }
    return table[worst]


def _day_start(d: date, tz: object) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz)  # type: ignore[arg-type]


_SLOT = {
    ComponentStatus.DEGRADED_PERFORMANCE: 0,
    ComponentStatus.PARTIAL_OUTAGE: 1,
    ComponentStatus.MAJOR_OUTAGE: 2,
}


def uptime_by_component(
    component_ids: list[str],
    incidents: list[PageIncident],
    now: datetime,
    days: int = UPTIME_DAYS,
    base: dict[str, dict[str, list[int]]] | None = None,
) -> dict[str, Uptime]:
    """90 days of history per component. Cost grows with the incidents inside the window, and with
    the components; never with the whole history. ``base``: minutes already counted per component
    and ISO day (degraded, partial, major), e.g. the resolved incidents kept by the page index."""
    first_day = (now - timedelta(days=days - 1)).date()
    window_start = _day_start(first_day, now.tzinfo)
    minutes: dict[str, dict[int, list[int]]] = {cid: {} for cid in component_ids}
    for cid, by_day in (base or {}).items():
        if cid not in minutes:
            continue
        for day, values in by_day.items():
            i = (date.fromisoformat(day) - first_day).days
            if 0 <= i < days:
                counted = minutes[cid].setdefault(i, [0, 0, 0])
                for k in range(3):
                    counted[k] += values[k]
    for inc in incidents:
        if inc.is_maintenance or inc.end(now) < window_start:
            continue
        start = max(inc.started_at, window_start)
        end = min(inc.end(now), now)
        if end <= start:
            continue
        for cid, st in inc.components.items():
            slot = _SLOT.get(st)
            if slot is None or cid not in minutes:
                continue
            cursor = start
            while cursor < end:
                next_day = _day_start(cursor.date() + timedelta(days=1), now.tzinfo)
                chunk = int((min(end, next_day) - cursor).total_seconds() // 60) or 1
                minutes[cid].setdefault((cursor.date() - first_day).days, [0, 0, 0])[slot] += chunk
                cursor = next_day
    total = days * 24 * 60
    all_up = [ComponentStatus.OPERATIONAL] * days
    out: dict[str, Uptime] = {}
    for cid in component_ids:
        bad = minutes[cid]
        if not bad:
            out[cid] = Uptime(first_day, all_up, {}, 100.0)
            continue
        statuses = list(all_up)
        clean: dict[int, tuple[int, int, int]] = {}
        down = 0.0
        for i, (deg, part, major) in bad.items():
            part, major = min(part, 1440), min(major, 1440)
            statuses[i] = (
                ComponentStatus.MAJOR_OUTAGE
                if major
                else ComponentStatus.PARTIAL_OUTAGE
                if part
                else ComponentStatus.DEGRADED_PERFORMANCE
            )
            clean[i] = (deg, part, major)
            down += major + PARTIAL_WEIGHT * part
        # Floored to two decimals: an outage of a few minutes reads 99.99 %, never a rounded 100 %.
        out[cid] = Uptime(first_day, statuses, clean, math.floor(10000 * (total - down) / total) / 100)
    return out
