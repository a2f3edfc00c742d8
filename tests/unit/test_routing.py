from __future__ import annotations

from datetime import UTC, datetime

import pytest
from clarion.domain.alarms.events import parse_alarm_event, state_change_event
from clarion.domain.alarms.intake import route
from clarion.domain.runbooks.model import AlarmMatch, Runbook

from tests.conftest import load_event

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "rule"),
    [
        (load_event("eventbridge_metric_alarm.json"), "checkout-errors"),
        (load_event("lambda_action.json"), "login-errors"),
        (load_event("eventbridge_composite_alarm.json"), "eu-region-down"),
        (load_event("eventbridge_tags_and_mute.json"), "card-provider"),
        (state_change_event("login-p99-latency", "ALARM", AT), "login-slow"),
        (
            state_change_event(
                "anything", "ALARM", AT, namespace="AWS/ApiGateway", dimensions={"ApiName": "public-v2"}
            ),
            "public-api-throttled",
        ),
        (state_change_event("web-canary-home", "ALARM", AT), "canary"),
    ],
)
def test_sample_alarms_route_to_their_rule(runbook: Runbook, event: dict[str, object], rule: str) -> None:
    matched = route(runbook, parse_alarm_event(event))
    assert matched is not None and matched.id == rule


def test_tag_condition_must_hold(runbook: Runbook) -> None:
    event = state_change_event("payments-provider-error-rate", "ALARM", AT, tags={"provider": "other"})
    assert route(runbook, parse_alarm_event(event)) is None


def test_namespace_condition_must_hold(runbook: Runbook) -> None:
    event = state_change_event("checkout-api-prod-5xx-rate", "ALARM", AT, namespace="Custom/Checkout")
    assert route(runbook, parse_alarm_event(event)) is None


def test_unknown_alarm_matches_nothing(runbook: Runbook) -> None:
    assert route(runbook, parse_alarm_event(state_change_event("disk-full", "ALARM", AT))) is None


def test_match_conditions_combine() -> None:
    m = AlarmMatch(alarm_name="api-*", dimensions={"Stage": "prod"})
    assert m.matches("api-5xx", [("AWS/ApiGateway", {"Stage": "prod"})], {})
    assert not m.matches("api-5xx", [("AWS/ApiGateway", {"Stage": "dev"})], {})
    assert not m.matches("web-5xx", [("AWS/ApiGateway", {"Stage": "prod"})], {})
    assert not m.matches("api-5xx", [], {})  # a composite alarm has no metrics to match dimensions on


def test_empty_match_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one"):
        AlarmMatch()
