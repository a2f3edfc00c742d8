"""Property: any sequence of duplicated and reordered ALARM/OK/INSUFFICIENT_DATA events, under each
INSUFFICIENT_DATA policy, yields exactly one open incident per component group while any of its
alarms is in ALARM (its newest event the policy does not ignore says so), and marks each incident
for resolution exactly once after its last OK. So the state never depends on delivery order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

import pytest
from clarion.domain.alarms.events import parse_alarm_event, state_change_event
from clarion.domain.alarms.intake import apply_alarm, effective_state, route
from clarion.domain.enums import AlarmState, InsufficientDataPolicy
from clarion.domain.runbooks.model import Runbook
from clarion.ports import IncidentStore
from clarion.runbook_loader import load_runbook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import RUNBOOKS
from tests.fakes.store import InMemoryIncidentStore
from tests.fakes.workflow import RecordingWorkflow

History = list[tuple[str, AlarmState, int]]


@lru_cache(maxsize=1)
def sample_runbook() -> Runbook:
    return load_runbook(RUNBOOKS)


T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)
# Alarms over three groups; the region alarm spans two (regions + core).
ALARMS = [
    "login-5xx",
    "login-p99-latency",
    "checkout-api-prod-latency",
    "invoicing-jobs-failed",
    "region-eu-west-1-health",
    "notifications-backlog",
]


@st.composite
def histories(draw: st.DrawFn, states: tuple[AlarmState, ...] = (AlarmState.ALARM, AlarmState.OK)) -> History:
    """Each alarm's true history (a state change at each of increasing times: CloudWatch sends an
    event only when the state changes), then duplicated and shuffled."""
    events: History = []
    for name in draw(st.lists(st.sampled_from(ALARMS), min_size=1, max_size=4, unique=True)):
        n = draw(st.integers(1, 6))
        times = sorted(draw(st.lists(st.integers(0, 500), min_size=n, max_size=n, unique=True)))
        state = AlarmState.OK
        for t in times:
            state = draw(st.sampled_from([s for s in states if s is not state]))
            events.append((name, state, t))
    duplicated = events + draw(st.lists(st.sampled_from(events), max_size=len(events)))
    return draw(st.permutations(duplicated))


def groups_of(runbook: Runbook, name: str) -> set[str]:
    rule = route(runbook, parse_alarm_event(state_change_event(name, "ALARM", T0)))
    assert rule is not None
    return {runbook.component(c).group for c in rule.components}


def check_history(runbook: Runbook, store: IncidentStore, history: History) -> None:
    workflow = RecordingWorkflow()
    policy = runbook.settings.insufficient_data
    applied: dict[str, tuple[int, AlarmState]] = {}  # each alarm's newest event the policy heeds
    for name, state, t in history:
        at = T0 + timedelta(seconds=t)
        event = parse_alarm_event(state_change_event(name, state, at))
        apply_alarm(event, runbook, store, workflow, at)
        heeded = effective_state(event, policy)
        if heeded is not None and (name not in applied or applied[name][0] < t):
            applied[name] = (t, heeded)
        # After every event: one open incident per group exactly while one of its alarms is in ALARM.
        for group in {g for n in ALARMS for g in groups_of(runbook, n)}:
            firing = any(s is AlarmState.ALARM and group in groups_of(runbook, n) for n, (_, s) in applied.items())
            open_id = store.get_open_incident_id(group)
            open_incidents = [i for i in store.list_incidents(limit=1000) if i.group == group and i.is_open]
            assert len(open_incidents) == (1 if firing else 0), (group, applied)
            assert (open_id is not None) == firing
            if firing:
                assert open_incidents[0].id == open_id

    # Each incident started once and marked for resolution exactly once iff it is no longer open.
    for incident in store.list_incidents(limit=1000):
        signals = workflow.signals(incident.id)
        assert signals.count("open") == 1
        assert signals.count("resolve") == (0 if incident.is_open else 1)
        assert incident.pending_signals == []
    resolves = [name for name, (_inc, sig) in workflow.executions.items() if sig == "resolve"]
    assert len(resolves) == len(set(resolves))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_reordered_duplicated_events_keep_one_open_incident_per_group(history: History) -> None:
    check_history(sample_runbook(), InMemoryIncidentStore(), history)


@lru_cache(maxsize=3)
def runbook_with(policy: InsufficientDataPolicy) -> Runbook:
    runbook = sample_runbook()
    return runbook.model_copy(update={"settings": runbook.settings.model_copy(update={"insufficient_data": policy})})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(InsufficientDataPolicy), histories(tuple(AlarmState)))
def test_insufficient_data_under_any_policy_never_makes_the_state_depend_on_order(
    policy: InsufficientDataPolicy, history: History
) -> None:
    check_history(runbook_with(policy), InMemoryIncidentStore(), history)


@pytest.mark.parametrize("policy", list(InsufficientDataPolicy))
@pytest.mark.parametrize(
    "deliveries",
    [
        # The orders that used to end differently: an ignored INSUFFICIENT_DATA delivered early
        # made the older ALARM stale (no incident), or the older OK stale (open for ever).
        [("ALARM", 1), ("INSUFFICIENT_DATA", 2)],
        [("INSUFFICIENT_DATA", 2), ("ALARM", 1)],
        [("ALARM", 0), ("OK", 1), ("INSUFFICIENT_DATA", 2)],
        [("ALARM", 0), ("INSUFFICIENT_DATA", 2), ("OK", 1)],
        [("INSUFFICIENT_DATA", 2), ("OK", 1), ("ALARM", 0)],
    ],
)
def test_known_orders_end_in_the_newest_heeded_state(
    policy: InsufficientDataPolicy, deliveries: list[tuple[str, int]]
) -> None:
    check_history(
        runbook_with(policy), InMemoryIncidentStore(), [("login-5xx", AlarmState(s), t) for s, t in deliveries]
    )
