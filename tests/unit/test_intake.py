"""Intake rules on in-memory fakes of the store and the workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from clarion.domain.alarms.events import parse_alarm_event, state_change_event
from clarion.domain.alarms.intake import IntakeOutcome, apply_alarm, deliver_signals
from clarion.domain.enums import AlarmState, ComponentStatus, IncidentKind, InsufficientDataPolicy, Severity
from clarion.domain.errors import ConcurrentUpdate
from clarion.domain.incident import Change, Incident, IncidentWrite
from clarion.domain.runbooks.model import Runbook

from tests.fakes.store import InMemoryIncidentStore
from tests.fakes.workflow import RecordingWorkflow

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
NOW = T0 + timedelta(seconds=5)


class Harness:
    def __init__(self, runbook: Runbook) -> None:
        self.runbook = runbook
        self.store = InMemoryIncidentStore()
        self.workflow = RecordingWorkflow()
        self.sleeps: list[float] = []

    def send(self, name: str, state: str, minute: float, **kw: object) -> IntakeOutcome:
        at = T0 + timedelta(minutes=minute)
        event = parse_alarm_event(state_change_event(name, state, at, **kw))  # type: ignore[arg-type]
        return apply_alarm(
            event, self.runbook, self.store, self.workflow, at + timedelta(seconds=2), self.sleeps.append
        )

    def only(self, outcome: IntakeOutcome) -> Incident:
        (incident_id,) = outcome.incident_ids
        incident = self.store.get_incident(incident_id)
        assert incident is not None
        return incident


@pytest.fixture
def h(runbook: Runbook) -> Harness:
    return Harness(runbook)


def test_alarm_opens_incident_and_starts_workflow_once(h: Harness) -> None:
    out = h.send("checkout-api-prod-5xx-rate", "ALARM", 0, namespace="AWS/ApiGateway")
    assert out.action == "opened" and out.rule_id == "checkout-errors"
    inc = h.only(out)
    assert inc.group == "payments" and inc.severity is Severity.SEV2
    assert inc.components == {"checkout-api": ComponentStatus.PARTIAL_OUTAGE}
    assert inc.started_at == T0 and inc.pending_signals == []
    assert inc.title["en"] == "Online invoice payments failing"
    assert h.workflow.signals(inc.id) == ["open"]
    kinds = [e.kind for e in h.store.timeline(inc.id)]
    assert kinds == ["opened", "workflow_started"]


def test_duplicate_event_is_stale_and_changes_nothing(h: Harness) -> None:
    first = h.send("login-5xx", "ALARM", 0)
    commits = h.store.commits
    again = h.send("login-5xx", "ALARM", 0)
    assert again.action == "stale" and again.incident_ids == first.incident_ids
    assert h.store.commits == commits
    assert h.workflow.calls == 1


def test_older_event_after_newer_is_stale(h: Harness) -> None:
    h.send("login-5xx", "ALARM", 0)
    h.send("login-5xx", "OK", 10)
    late = h.send("login-5xx", "ALARM", 0)
    assert late.action == "stale"
    assert h.store.get_open_incident_id("core") is None


def test_second_alarm_joins_and_raises_severity_never_lowers(h: Harness) -> None:
    first = h.only(h.send("checkout-api-prod-latency", "ALARM", 0))
    assert first.severity is Severity.SEV3
    joined = h.send("checkout-api-prod-5xx", "ALARM", 1, namespace="AWS/ApiGateway")
    assert joined.action == "joined" and joined.incident_ids == [first.id]
    inc = h.only(joined)
    assert inc.severity is Severity.SEV2
    assert inc.components["checkout-api"] is ComponentStatus.PARTIAL_OUTAGE
    assert "severity_raised" in [e.kind for e in h.store.timeline(first.id)]
    # A milder alarm joining does not lower it.
    h.send("invoicing-queue-age", "ALARM", 2)
    inc = h.only(h.send("checkout-api-prod-latency", "ALARM", 3))  # re-fired, SEV3
    assert inc.severity is Severity.SEV2
    assert set(inc.components) == {"checkout-api", "invoicing"}


def test_incident_resolves_when_every_alarm_is_clear(h: Harness) -> None:
    inc = h.only(h.send("checkout-api-prod-latency", "ALARM", 0))
    h.send("invoicing-jobs-failed", "ALARM", 1)
    out = h.send("checkout-api-prod-latency", "OK", 5)
    assert out.action == "cleared"
    current = h.store.get_incident(inc.id)
    assert current is not None and current.is_open
    assert current.components["checkout-api"] is ComponentStatus.OPERATIONAL
    assert current.components["invoicing"] is ComponentStatus.PARTIAL_OUTAGE
    out = h.send("invoicing-jobs-failed", "OK", 9)
    assert out.action == "resolving" and out.resolving == [inc.id]
    current = h.store.get_incident(inc.id)
    assert current is not None and not current.is_open
    assert current.resolution_requested_at == T0 + timedelta(minutes=9, seconds=2)
    assert h.workflow.signals(inc.id) == ["open", "resolve"]
    assert h.store.get_open_incident_id("payments") is None


def test_new_alarm_after_resolution_opens_a_new_incident(h: Harness) -> None:
    first = h.only(h.send("login-5xx", "ALARM", 0))
    h.send("login-5xx", "OK", 10)
    second = h.only(h.send("login-5xx", "ALARM", 20))
    assert second.id != first.id and second.is_open
    # The cleared alarm's OK again later does not touch the finished incident.
    h.send("login-5xx", "OK", 30)
    assert h.workflow.signals(first.id) == ["open", "resolve"]
    assert h.workflow.signals(second.id) == ["open", "resolve"]


def test_alarm_over_two_groups_opens_two_incidents(h: Harness) -> None:
    out = h.send("region-eu-west-1-health", "ALARM", 0)
    assert out.action == "opened" and len(out.opened) == 2
    groups = {h.store.incidents[i].group for i in out.opened}
    assert groups == {"regions", "core"}
    done = h.send("region-eu-west-1-health", "OK", 4)
    assert sorted(done.resolving) == sorted(out.opened)


def test_unmatched_alarm_opens_nothing(h: Harness) -> None:
    out = h.send("disk-almost-full", "ALARM", 0)
    assert out.action == "unmatched" and not h.store.incidents


def test_muted_alarm_opens_nothing(h: Harness, runbook: Runbook) -> None:
    raw = state_change_event("login-5xx", "ALARM", T0)
    raw["detail"]["muteDetail"] = {"muteType": "Mute_Rule"}
    out = apply_alarm(parse_alarm_event(raw), runbook, h.store, h.workflow, NOW)
    assert out.action == "muted" and not h.store.incidents


def test_insufficient_data_follows_the_runbook(runbook: Runbook) -> None:
    ignore = Harness(runbook)
    ignore.send("login-5xx", "ALARM", 0)
    out = ignore.send("login-5xx", "INSUFFICIENT_DATA", 5)
    assert out.action == "ignored"
    assert ignore.store.get_open_incident_id("core") is not None

    settings = runbook.settings.model_copy(update={"insufficient_data": InsufficientDataPolicy.TREAT_AS_OK})
    as_ok = Harness(runbook.model_copy(update={"settings": settings}))
    as_ok.send("login-5xx", "ALARM", 0)
    assert as_ok.send("login-5xx", "INSUFFICIENT_DATA", 5).action == "resolving"

    settings = runbook.settings.model_copy(update={"insufficient_data": InsufficientDataPolicy.TREAT_AS_ALARM})
    as_alarm = Harness(runbook.model_copy(update={"settings": settings}))
    assert as_alarm.send("login-5xx", "INSUFFICIENT_DATA", 0).action == "opened"


def _maintenance(components: list[str], start: datetime, end: datetime) -> Incident:
    return Incident(
        id="maint-1",
        kind=IncidentKind.MAINTENANCE,
        group="core",
        title={"en": "Login upgrade"},
        severity=Severity.SEV4,
        components=dict.fromkeys(components, ComponentStatus.UNDER_MAINTENANCE),
        started_at=start,
        created_at=start,
        updated_at=start,
        scheduled_for=start,
        scheduled_until=end,
        version=1,
    )


def test_alarm_inside_maintenance_window_is_recorded_not_opened(h: Harness) -> None:
    m = _maintenance(["login"], T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    h.store.commit(Change(incidents=[IncidentWrite(incident=m, expected_version=0)]))
    out = h.send("login-5xx", "ALARM", 0)
    assert out.action == "maintenance" and h.store.get_open_incident_id("core") is None
    assert [e.kind for e in h.store.timeline("maint-1")] == ["alarm_during_maintenance"]
    # Outside the window the same alarm opens an incident.
    h.send("login-5xx", "OK", 61)
    assert h.send("login-5xx", "ALARM", 70).action == "opened"


def test_alarm_partly_in_maintenance_opens_for_the_rest(h: Harness) -> None:
    m = _maintenance(["web-app"], T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    h.store.commit(Change(incidents=[IncidentWrite(incident=m, expected_version=0)]))
    out = h.send("region-us-east-1-health", "ALARM", 0)
    assert out.action == "opened"
    (only,) = out.opened
    assert h.store.incidents[only].components == {"us-region": ComponentStatus.MAJOR_OUTAGE}


def test_lost_race_is_retried_from_fresh_reads(h: Harness) -> None:
    h.store.fail_next_commits = 3
    out = h.send("login-5xx", "ALARM", 0)
    assert out.action == "opened" and h.store.get_open_incident_id("core") == out.opened[0]


def test_endless_races_raise(h: Harness) -> None:
    h.store.fail_next_commits = 100
    with pytest.raises(ConcurrentUpdate):
        h.send("login-5xx", "ALARM", 0)


def test_workflow_failure_is_repaired_by_the_retry(h: Harness) -> None:
    h.workflow.fail_next = 1
    with pytest.raises(ConnectionError):
        h.send("login-5xx", "ALARM", 0)
    (inc,) = h.store.incidents.values()
    assert inc.pending_signals == ["open"]  # recorded, not lost
    retry = h.send("login-5xx", "ALARM", 0)  # Lambda retries the same event
    assert retry.action == "stale"
    assert retry.signals_sent == [(inc.id, "open")]
    assert h.store.incidents[inc.id].pending_signals == []
    assert h.workflow.signals(inc.id) == ["open"]


def test_deliver_signals_is_idempotent(h: Harness) -> None:
    inc = h.only(h.send("login-5xx", "ALARM", 0))
    assert deliver_signals(h.store, h.workflow, [inc.id], NOW) == []
    assert len(h.workflow.executions) == 1


def test_alarm_state_record_tracks_latest(h: Harness) -> None:
    h.send("login-5xx", "ALARM", 0)
    h.send("login-5xx", "OK", 3)
    rec = h.store.get_alarm("arn:aws:cloudwatch:us-east-1:123456789012:alarm:login-5xx")
    assert rec is not None and rec.state is AlarmState.OK and rec.state_timestamp == T0 + timedelta(minutes=3)


def test_lost_races_back_off_with_growing_jittered_pauses(h: Harness) -> None:
    h.store.fail_next_commits = 5
    h.send("login-5xx", "ALARM", 0)
    assert len(h.sleeps) == 5 and all(s >= 0 for s in h.sleeps)
    # Full jitter: each pause lies under a ceiling that doubles (its unit: one decision, >= 20 ms).
    assert all(s <= 2.0 for s in h.sleeps) and max(h.sleeps) > 0


def test_a_repeated_alarm_already_linked_writes_nothing_to_the_incident(h: Harness) -> None:
    first = h.send("login-5xx", "ALARM", 0)
    h.send("login-latency-p99", "ALARM", 1)
    inc = h.only(first)
    entries = len(h.store.timeline(inc.id))
    again = h.send("login-5xx", "ALARM", 5)  # re-notified: newer timestamp, same link
    assert again.action == "joined" and again.incident_ids == [inc.id]
    after = h.only(again)
    assert after.version == inc.version and after == inc
    assert len(h.store.timeline(inc.id)) == entries
    record = h.store.get_alarm(after.alarms[next(iter(after.alarms))].alarm_arn)
    assert record is not None and record.state_timestamp == T0 + timedelta(minutes=5)


def test_a_repeated_alarm_after_the_incident_closed_opens_a_new_one(h: Harness) -> None:
    first = h.send("login-5xx", "ALARM", 0)
    h.send("login-5xx", "OK", 1)
    again = h.send("login-5xx", "ALARM", 2)
    assert again.action == "opened" and again.incident_ids != first.incident_ids


def test_one_decision_reads_the_store_once(h: Harness) -> None:
    h.send("login-5xx", "ALARM", 0)
    reads = h.store.reads
    h.send("login-latency-p99", "ALARM", 1)
    assert h.store.reads - reads == 1
