"""Both event shapes parse; anything else is a typed error, never a crash."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from clarion.domain.alarms.events import AlarmEvent, parse_alarm_event, state_change_event
from clarion.domain.enums import AlarmState
from clarion.domain.errors import IgnoredEvent, MalformedEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_event

RECORDED = [
    "eventbridge_metric_alarm.json",
    "eventbridge_metric_alarm_ok.json",
    "eventbridge_composite_alarm.json",
    "eventbridge_tags_and_mute.json",
    "lambda_action.json",
]


def test_metric_alarm() -> None:
    e = parse_alarm_event(load_event("eventbridge_metric_alarm.json"))
    assert e.alarm_arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-prod-5xx-rate"
    assert e.state is AlarmState.ALARM and e.previous_state is AlarmState.OK
    assert e.state_timestamp == datetime(2026, 11, 23, 14, 5, 12, 146000, tzinfo=UTC)
    assert e.metrics == [("AWS/ApiGateway", {"ApiName": "checkout", "Stage": "prod"})]
    assert e.shape == "eventbridge" and e.event_id == "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"
    assert not e.composite and not e.muted


def test_composite_alarm_has_triggering_alarms_and_no_metrics() -> None:
    e = parse_alarm_event(load_event("eventbridge_composite_alarm.json"))
    assert e.composite and e.metrics == []
    assert e.triggering_alarms == ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:eu-alb-unhealthy-hosts"]


def test_tags_mute_and_metric_math() -> None:
    e = parse_alarm_event(load_event("eventbridge_tags_and_mute.json"))
    assert e.tags == {"provider": "paybridge", "team": "payments"}
    assert e.muted
    assert ("Ledgerly/Payments", {"Provider": "paybridge"}) in e.metrics
    assert len(e.metrics) == 2  # the expression has no metricStat


def test_lambda_action_payload() -> None:
    e = parse_alarm_event(load_event("lambda_action.json"))
    assert e.shape == "lambda_action" and e.event_id is None
    assert e.alarm_name == "login-5xx-errors" and e.account == "123456789012"


def test_dedupe_key_is_arn_state_timestamp() -> None:
    e = parse_alarm_event(load_event("eventbridge_metric_alarm.json"))
    assert e.dedupe_key == f"{e.alarm_arn}|ALARM|2026-11-23T14:05:12.146000+00:00"


def test_configuration_change_is_ignored() -> None:
    with pytest.raises(IgnoredEvent, match="Configuration Change"):
        parse_alarm_event(load_event("eventbridge_config_change.json"))


def test_other_source_is_ignored() -> None:
    event = load_event("eventbridge_metric_alarm.json") | {"source": "aws.ec2"}
    with pytest.raises(IgnoredEvent):
        parse_alarm_event(event)


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda e: e["detail"].pop("state"), "detail.state"),
        (lambda e: e["detail"]["state"].update(value="BROKEN"), "detail.state.value"),
        (lambda e: e["detail"]["state"].update(timestamp="yesterday"), "detail.state.timestamp"),
        (lambda e: e.update(resources=[]), "no alarm ARN"),
        (lambda e: e["detail"].update(alarmName=""), "detail.alarmName"),
        (lambda e: e["detail"].update(alarmName="x" * 256), "detail.alarmName"),
        # The hard edges: a time without a zone, deep nesting, an oversized ARN.
        (
            lambda e: e["detail"]["state"].update(timestamp="2026-11-23T14:00:00"),
            "detail.state.timestamp: Input should have timezone info",
        ),
        (
            lambda e: e["detail"]["previousState"].update(timestamp="2026-11-23T13:00:00.000"),
            "detail.previousState.timestamp: Input should have timezone info",
        ),
        (lambda e: e["detail"]["state"].update(reasonData="[" * 10_000), "state.reasonData: nested too deeply"),
        (lambda e: e["detail"]["state"].update(reasonData="[" * 100_000), "state.reasonData: longer than"),
        (
            lambda e: e.update(resources=["arn:aws:cloudwatch:us-east-1:1:alarm:" + "a" * 5000]),
            "alarm ARN: longer than 1600 bytes",
        ),
    ],
)
def test_malformed_eventbridge_events_name_the_field(mutate: Any, expect: str) -> None:
    event = load_event("eventbridge_metric_alarm.json")
    mutate(event)
    with pytest.raises(MalformedEvent, match=expect) as info:
        parse_alarm_event(event)
    assert info.value.ident["id"] == "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"


def test_unknown_shape_and_non_objects() -> None:
    for raw in ({"hello": "world"}, [], "ALARM", None, 3):
        with pytest.raises(MalformedEvent):
            parse_alarm_event(raw)


def test_lambda_action_needs_a_cloudwatch_arn() -> None:
    event = load_event("lambda_action.json") | {"alarmArn": "arn:aws:sns:us-east-1:1:topic"}
    with pytest.raises(MalformedEvent, match="alarmArn"):
        parse_alarm_event(event)


def test_synthetic_event_round_trips() -> None:
    at = datetime(2026, 11, 23, 9, 0, 0, 250000, tzinfo=UTC)
    raw = state_change_event("login-5xx", "ALARM", at, tags={"drill": "true"})
    json.dumps(raw)
    e = parse_alarm_event(raw)
    assert e.state_timestamp == at and e.tags == {"drill": "true"} and e.alarm_name == "login-5xx"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def _outcome(raw: Any) -> str:
    try:
        parse_alarm_event(raw)
        return "parsed"
    except (MalformedEvent, IgnoredEvent):
        return "rejected"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # crashes, not speed
@given(json_values)
def test_fuzz_arbitrary_json_never_crashes(raw: Any) -> None:
    assert _outcome(raw) in ("parsed", "rejected")


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # timing is not the property
@given(st.sampled_from(RECORDED), st.data())
def test_fuzz_mutated_recorded_events_never_crash(name: str, data: st.DataObject) -> None:
    event = copy.deepcopy(load_event(name))
    paths = _paths(event)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent: Any = event
        try:
            for key in path[:-1]:
                parent = parent[key]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = data.draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    result = _outcome(event)
    assert result in ("parsed", "rejected")
    if result == "parsed":
        assert isinstance(parse_alarm_event(event), AlarmEvent)
