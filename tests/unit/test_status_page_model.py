"""Status roll-up and uptime arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clarion.domain.enums import ComponentStatus, IncidentKind
from clarion.domain.status_page import PageIncident, component_statuses, overall, uptime_by_component

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY0 = datetime(2026, 11, 23, tzinfo=UTC)


def inc(
    id_: str, comps: dict[str, ComponentStatus], start: datetime, end: datetime | None, **kw: object
) -> PageIncident:
    data: dict[str, object] = dict(
        id=id_,
        name={"en": id_},
        status="resolved" if end else "investigating",
        impact="major",
        components=comps,
        created_at=start,
        updated_at=end or start,
        started_at=start,
        resolved_at=end,
    )
    data.update(kw)
    return PageIncident.model_validate(data)


MAJ, PART, DEG = (
    ComponentStatus.MAJOR_OUTAGE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.DEGRADED_PERFORMANCE,
)


def test_roll_up_takes_the_worst_unresolved() -> None:
    incidents = [
        inc("a", {"api": DEG, "web": PART}, NOW - timedelta(hours=1), None),
        inc("b", {"api": MAJ}, NOW - timedelta(hours=2), NOW - timedelta(hours=1)),  # resolved: ignored
        inc("c", {"api": PART}, NOW - timedelta(minutes=5), None),
    ]
    st = component_statuses(["api", "web", "db"], incidents, NOW)
    assert st == {"api": PART, "web": PART, "db": ComponentStatus.OPERATIONAL}
    assert overall(st) == ("major", "partial_outage")


def test_overall_indicator_levels() -> None:
    assert overall({"a": ComponentStatus.OPERATIONAL}) == ("none", "all_operational")
    assert overall({"a": DEG}) == ("minor", "minor_outage")
    assert overall({"a": MAJ, "b": DEG}) == ("critical", "major_outage")
    assert overall({"a": ComponentStatus.UNDER_MAINTENANCE}) == ("none", "under_maintenance")


def test_active_maintenance_marks_components_unless_worse() -> None:
    m = inc(
        "m",
        {"api": ComponentStatus.UNDER_MAINTENANCE, "web": ComponentStatus.UNDER_MAINTENANCE},
        NOW - timedelta(hours=1),
        None,
        kind=IncidentKind.MAINTENANCE,
        status="in_progress",
        impact="maintenance",
        scheduled_for=NOW - timedelta(hours=1),
        scheduled_until=NOW + timedelta(hours=1),
    )
    upcoming = m.model_copy(
        update={
            "id": "u",
            "status": "scheduled",
            "scheduled_for": NOW + timedelta(days=1),
            "components": {"db": ComponentStatus.UNDER_MAINTENANCE},
        }
    )
    st = component_statuses(["api", "web", "db"], [m, upcoming, inc("x", {"web": MAJ}, NOW, None)], NOW)
    assert st == {"api": ComponentStatus.UNDER_MAINTENANCE, "web": MAJ, "db": ComponentStatus.OPERATIONAL}


def test_uptime_distinguishes_partial_and_major_days_and_weights_them() -> None:
    incidents = [
        inc(
            "major",
            {"api": MAJ},
            DAY0 - timedelta(days=3) + timedelta(hours=1),
            DAY0 - timedelta(days=3) + timedelta(hours=3),
        ),  # 120 min major
        inc(
            "partial",
            {"api": PART},
            DAY0 - timedelta(days=10),
            DAY0 - timedelta(days=10) + timedelta(hours=10),
        ),
        inc("slow", {"api": DEG}, DAY0 - timedelta(days=20), DAY0 - timedelta(days=20) + timedelta(hours=1)),
        inc("old", {"api": MAJ}, DAY0 - timedelta(days=200), DAY0 - timedelta(days=199)),  # outside the window
    ]
    up = uptime_by_component(["api", "web"], incidents, NOW)["api"]
    assert len(up.days) == 90 and up.days[-1].day == NOW.date()
    by_day = {d.day: d for d in up.days}
    assert by_day[(DAY0 - timedelta(days=3)).date()].status is MAJ
    assert by_day[(DAY0 - timedelta(days=3)).date()].minutes_major == 120
    assert by_day[(DAY0 - timedelta(days=10)).date()].status is PART
    assert by_day[(DAY0 - timedelta(days=20)).date()].status is DEG
    assert up.counts == {ComponentStatus.OPERATIONAL: 87, MAJ: 1, PART: 1, DEG: 1}
    down = 120 + 0.3 * 600  # minutes: the major outage in full, the partial outage at 0.3
    assert round(100 * (1 - down / (90 * 1440)), 2) == 99.77  # 99.768...: rounding would say 99.77
    assert up.percent == 99.76  # floored
    assert uptime_by_component(["web"], incidents, NOW)["web"].percent == 100.0


def test_incident_spanning_midnight_counts_on_both_days() -> None:
    start = DAY0 - timedelta(days=1) + timedelta(hours=23)
    up = uptime_by_component(["api"], [inc("x", {"api": MAJ}, start, start + timedelta(hours=2))], NOW)["api"]
    by_day = {d.day: d for d in up.days}
    assert by_day[start.date()].minutes_major == 60
    assert by_day[DAY0.date()].minutes_major == 60


def test_open_incident_counts_until_now() -> None:
    up = uptime_by_component(["api"], [inc("x", {"api": MAJ}, NOW - timedelta(hours=2), None)], NOW)["api"]
    assert up.days[-1].minutes_major == 120


def test_live_incident_carries_the_next_update_its_last_update_promised() -> None:
    from clarion.domain.enums import Severity
    from clarion.domain.incident import Incident
    from clarion.domain.page_index import updated_summary
    from clarion.domain.status_page import PageUpdate

    incident = Incident(
        id="core-1",
        group="core",
        title={"en": "Slow sign-in"},
        severity=Severity.SEV3,
        components={"login": ComponentStatus.DEGRADED_PERFORMANCE},
        started_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )

    def update(n: int, at: datetime) -> PageUpdate:
        return PageUpdate(id=f"u{n}", status="investigating", body={"en": "x"}, created_at=at)

    first, second = NOW + timedelta(hours=2), NOW + timedelta(hours=3)
    summary = updated_summary(None, incident, update(1, NOW), first)
    summary = updated_summary(summary, incident, update(2, NOW + timedelta(hours=1)), second)
    assert summary.next_update_at == second  # the latest promise
    resolved = incident.model_copy(update={"resolved_at": NOW + timedelta(hours=2)})
    assert (
        updated_summary(summary, resolved, update(2, NOW + timedelta(hours=1)), second).next_update_at is None
    )  # nothing more to promise


def test_uptime_of_a_short_outage_never_reads_100_percent() -> None:
    start = DAY0 - timedelta(days=2)
    short = [inc("blip", {"api": PART}, start, start + timedelta(minutes=5))]
    up = uptime_by_component(["api"], short, NOW)["api"]
    assert up.counts[PART] == 1
    assert up.percent == 99.99  # 1.5 weighted minutes of 129,600 would round to 100.00
    slow = [inc("slow", {"api": DEG}, start, start + timedelta(minutes=5))]
    assert uptime_by_component(["api"], slow, NOW)["api"].percent == 100.0  # degraded is not downtime
