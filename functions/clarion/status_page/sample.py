"""A deterministic sample history for previews, tests and benchmarks.

With ``realistic=True`` every update's text is rendered from the runbook's own status-page
templates, so a preview shows exactly what customers would read.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Literal

from clarion.domain.enums import (
    Audience,
    Channel,
    ComponentStatus,
    IncidentKind,
    IncidentStatus,
    Phase,
    Severity,
)
from clarion.domain.incident import Incident
from clarion.domain.messaging.render import context_for, render
from clarion.domain.metrics import MetricsSnapshot
from clarion.domain.runbooks.model import Runbook, localized
from clarion.domain.status_page import AffectedComponent, PageIncident, PageUpdate

_PROGRESS = [
    (IncidentStatus.INVESTIGATING, Phase.INVESTIGATING),
    (IncidentStatus.IDENTIFIED, Phase.IDENTIFIED),
    (IncidentStatus.MONITORING, Phase.MONITORING),
    (IncidentStatus.RESOLVED, Phase.RESOLVED),
]
_IMPACT: dict[ComponentStatus, Literal["minor", "major", "critical"]] = {
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.MAJOR_OUTAGE: "critical",
}


def _bodies(
    runbook: Runbook, realistic: bool, incident: Incident, phase: Phase, at: datetime, n: int
) -> dict[str, str]:
    if not realistic:
        return {lang: f"Update {n} ({phase.value}) on {incident.id}." for lang in runbook.settings.languages}
    out = {}
    for lang in runbook.settings.languages:
        ctx = context_for(runbook, incident, lang, Channel.STATUS_PAGE, now=at)
        out[lang] = render(runbook, phase, Audience.CUSTOMERS, Channel.STATUS_PAGE, lang, ctx).body
    return out


def sample_history(
    runbook: Runbook,
    now: datetime,
    *,
    past: int = 40,
    active: int = 2,
    maintenance: int = 1,
    span_days: int | None = None,
    offset_days: int = 0,
    seed: int = 7,
    realistic: bool = True,
) -> list[PageIncident]:
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    comps = runbook.components.components
    by_group: dict[str, list[str]] = {}
    for c in comps:
        by_group.setdefault(c.group, []).append(c.id)
    span = span_days or max(120, past // 3)
    default = runbook.settings.default_language
    out: list[PageIncident] = []
    cadence = runbook.policy(Severity.SEV2).update_every or timedelta(hours=1)  # what the bodies promise

    def make(i: int, start: datetime, duration: timedelta | None, steps: int) -> PageIncident:
        group = rng.choice(sorted(by_group))
        chosen = rng.sample(by_group[group], k=min(len(by_group[group]), rng.choice([1, 1, 2])))
        status = rng.choice(list(_IMPACT))
        end = start + duration if duration else None
        base = Incident(
            id=f"{group}-{start.strftime('%Y%m%dT%H%M%S')}-{i:05d}",
            group=group,
            title={
                lang: f"{localized(runbook.component(chosen[0]).name, lang, default)}"
                for lang in runbook.settings.languages
            },
            severity=Severity.SEV2,
            components=dict.fromkeys(chosen, status),
            started_at=start,
            created_at=start,
            updated_at=end or start,
            resolved_at=end,
        )
        updates = []
        last = start
        for n, (st, phase) in enumerate(_PROGRESS[:steps]):
            at = start if n == 0 else (end if st is IncidentStatus.RESOLVED and end else last + timedelta(minutes=12))
            last = at
            affected = [
                AffectedComponent(
                    code=c,
                    name=localized(runbook.component(c).name, default, default),
                    old_status=ComponentStatus.OPERATIONAL if n == 0 else status,
                    new_status=ComponentStatus.OPERATIONAL if st is IncidentStatus.RESOLVED else status,
                )
                for c in chosen
            ]
            updates.append(
                PageUpdate(
                    id=f"{base.id}-u{n}",
                    status=st.value,
                    body=_bodies(runbook, realistic, base, phase, at, n),
                    created_at=at,
                    affected_components=affected,
                )
            )
        final = _PROGRESS[steps - 1][0]
        return PageIncident(
            id=base.id,
            name=base.title,
            status=final.value,
            impact=_IMPACT[status],
            components=dict(base.components),
            created_at=start,
            updated_at=updates[-1].created_at,
            started_at=start,
            monitoring_at=updates[2].created_at if steps >= 3 else None,
            resolved_at=end if final is IncidentStatus.RESOLVED else None,
            next_update_at=None if end else updates[-1].created_at + cadence,
            updates=updates,
        )

    for i in range(past):
        start = now - timedelta(days=span + offset_days) + timedelta(minutes=rng.randrange(0, span * 1440 - 1440))
        out.append(make(i, start.replace(second=0, microsecond=0), timedelta(minutes=rng.randrange(15, 360)), 4))
    for i in range(active):
        start = (now - timedelta(minutes=rng.randrange(10, 90))).replace(second=0, microsecond=0)
        out.append(make(past + i, start, None, rng.choice([1, 2, 3])))
    for i in range(maintenance):
        group = sorted(by_group)[i % len(by_group)]
        start = (now + timedelta(days=2 + i)).replace(hour=2, minute=0, second=0, microsecond=0)
        name = {lang: f"{localized(runbook.group(group).name, lang, default)}" for lang in runbook.settings.languages}
        base = Incident(
            id=f"maint-{group}-{start.strftime('%Y%m%d')}",
            kind=IncidentKind.MAINTENANCE,
            group=group,
            title=name,
            severity=Severity.SEV4,
            components=dict.fromkeys(by_group[group][:1], ComponentStatus.UNDER_MAINTENANCE),
            started_at=start,
            created_at=now - timedelta(days=1),
            updated_at=now - timedelta(days=1),
            scheduled_for=start,
            scheduled_until=start + timedelta(hours=2),
        )
        out.append(
            PageIncident(
                id=base.id,
                kind=IncidentKind.MAINTENANCE,
                name=name,
                status="scheduled",
                impact="maintenance",
                components=dict(base.components),
                created_at=base.created_at,
                updated_at=base.updated_at,
                started_at=start,
                scheduled_for=start,
                scheduled_until=base.scheduled_until,
                updates=[
                    PageUpdate(
                        id=f"{base.id}-u0",
                        status="scheduled",
                        body=_bodies(runbook, realistic, base, Phase.MAINTENANCE_SCHEDULED, base.created_at, 0),
                        created_at=base.created_at,
                    )
                ],
            )
        )
    return out


def sample_metrics(runbook: Runbook, now: datetime, seed: int = 7) -> MetricsSnapshot:
    """Plausible series for every metric the runbook charts: a daily rhythm with some noise, values
    in the range the unit suggests (response times around 120 ms, success rates near 100 %)."""
    import math

    from clarion.domain.metrics import WINDOWS, Series, charted

    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    snapshot = MetricsSnapshot(now)
    end = now.replace(second=0, microsecond=0)
    for component, metric in charted(runbook):
        base, swing = {"Percent": (99.7, 0.25), "Milliseconds": (120.0, 40.0), "Seconds": (0.4, 0.15)}.get(
            metric.unit, (60.0, 25.0)
        )
        for window in WINDOWS:
            count = int(window.span.total_seconds() // window.period)
            points = []
            for i in range(count, 0, -1):
                at = end - timedelta(seconds=i * window.period)
                daily = math.sin((at.hour + at.minute / 60) / 24 * 2 * math.pi)
                value = base + swing * 0.5 * daily + rng.uniform(-swing, swing) * 0.3
                points.append((at, round(min(value, 100.0) if metric.unit == "Percent" else value, 3)))
            snapshot.add(Series(component.id, metric.id, window, points))
    return snapshot
