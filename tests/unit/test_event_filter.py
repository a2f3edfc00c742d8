"""The intake's EventBridge filter, generated from the routing rules: every alarm a rule routes still
gets through, alarms no rule can route do not.

Patterns are evaluated with moto's EventBridge matcher. It does not descend into arrays of objects
as EventBridge does (a pattern on ``configuration.metrics.metricStat...`` matches when any metric
does), so an event is tried once per metric, each time with that one metric: the same semantics.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from clarion.domain.alarms.events import parse_alarm_event, state_change_event
from clarion.domain.alarms.intake import route
from clarion.domain.runbooks.event_filter import alarm_event_detail, regex_prefix
from clarion.domain.runbooks.model import Rule, RulesFile, Runbook
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.events.models import EventPattern

from tests.unit.test_intake_properties import sample_runbook

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def passes(detail: dict[str, Any] | None, event: dict[str, Any]) -> bool:
    pattern = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
    if detail is not None:
        pattern["detail"] = detail
    matcher = EventPattern(None, pattern)
    metrics = event["detail"].get("configuration", {}).get("metrics") or [{}]
    for metric in metrics:
        variant = {**event, "detail": {**event["detail"], "configuration": {**event["detail"]["configuration"]}}}
        variant["detail"]["configuration"]["metrics"] = metric
        if matcher.matches_event(variant):
            return True
    return False


def event_for(rule: Rule, name: str) -> dict[str, Any]:
    m = rule.match
    dims = {k: v.replace("*", "x").replace("?", "y") for k, v in m.dimensions.items()}
    return state_change_event(name, "ALARM", NOW, namespace=m.namespace, dimensions=dims, tags=dict(m.tags))


def names_for(rule: Rule) -> st.SearchStrategy[str]:
    m = rule.match
    if m.alarm_name_regex is not None:
        return st.from_regex(m.alarm_name_regex, fullmatch=False).filter(lambda s: s.isprintable() and len(s) < 200)
    if m.alarm_name is not None:
        parts = re.split(r"(\*|\?)", m.alarm_name)
        pieces = [
            st.text("abcXYZ-_09", max_size=8) if p == "*" else st.sampled_from("aZ9") if p == "?" else st.just(p)
            for p in parts
        ]
        return st.tuples(*pieces).map("".join)
    return st.text("abcdef-", min_size=1, max_size=20)


def test_the_sample_runbook_gets_a_filter_that_fits_eventbridge(runbook: Runbook) -> None:
    detail = alarm_event_detail(runbook)
    assert detail is not None
    assert len(json.dumps(detail)) < 2048 - 120


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_alarm_a_rule_routes_gets_through(runbook: Runbook, data: st.DataObject) -> None:
    detail = alarm_event_detail(runbook)
    rule = data.draw(st.sampled_from(runbook.rules.rules))
    name = data.draw(names_for(rule))
    event = event_for(rule, name)
    if route(runbook, parse_alarm_event(event)) is None:
        return  # the drawn name happens to fail another condition of the rule
    assert passes(detail, event), (rule.id, name, detail)


@settings(max_examples=40, deadline=None)
@given(
    name=st.text("abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=30),
    namespace=st.sampled_from(["AWS/EC2", "AWS/ApiGateway", "AWS/Lambda", "Custom/App"]),
)
def test_no_false_negatives_for_any_alarm(runbook: Runbook, name: str, namespace: str) -> None:
    event = state_change_event(name, "ALARM", NOW, namespace=namespace)
    if route(runbook, parse_alarm_event(event)) is not None:
        assert passes(alarm_event_detail(runbook), event)


def test_alarms_no_rule_can_route_are_filtered_out(runbook: Runbook) -> None:
    detail = alarm_event_detail(runbook)
    for name, ns in (("disk-full-db-1", "AWS/EC2"), ("billing-estimate", "AWS/Billing"), ("zzz", "Custom/App")):
        event = state_change_event(name, "ALARM", NOW, namespace=ns)
        assert route(runbook, parse_alarm_event(event)) is None
        assert not passes(detail, event), name
    # A name a rule wants, in a namespace that rule does not, stays out too.
    wrong_ns = state_change_event("checkout-api-prod-5xx-rate", "ALARM", NOW, namespace="AWS/EC2")
    assert route(runbook, parse_alarm_event(wrong_ns)) is None and not passes(detail, wrong_ns)


def rules(*matches: dict[str, Any]) -> Runbook:
    rb = sample_runbook()
    base = rb.rules.rules[0]
    made = [
        base.model_copy(update={"id": f"r{i}", "match": base.match.model_validate(m)}) for i, m in enumerate(matches)
    ]
    return rb.model_copy(update={"rules": RulesFile(rules=made)})


def test_a_rule_that_can_match_anything_means_no_filter() -> None:
    assert alarm_event_detail(rules({"alarm_name": "login-*"}, {"alarm_name_regex": "5xx"})) is None
    narrowed = alarm_event_detail(rules({"alarm_name": "login-*"}, {"alarm_name_regex": "5xx", "namespace": "AWS/X"}))
    assert narrowed is not None and len(narrowed["$or"]) == 2


def test_globs_and_expressions_narrow_safely() -> None:
    detail = alarm_event_detail(rules({"alarm_name": "db-?-cpu"}, {"alarm_name": "exact-name"}))
    assert detail == {"$or": [{"alarmName": [{"prefix": "db-"}]}, {"alarmName": ["exact-name"]}]}
    assert regex_prefix("^login-(5xx|errors)") == "login-"
    assert regex_prefix("^abc?d") == "ab"  # the c may be absent
    assert regex_prefix("^ab+c") == "ab"
    assert regex_prefix("^a|b") == ""  # the anchor covers one branch only
    assert regex_prefix("login") == "" and regex_prefix("^(?i)login") == ""
    assert regex_prefix(r"^api\.v2\d") == "api.v2"


def test_a_pattern_too_long_for_eventbridge_falls_back_to_names() -> None:
    many = [{"alarm_name": f"service-{i:03d}-*", "namespace": f"Custom/Namespace{i:03d}"} for i in range(40)]
    detail = alarm_event_detail(rules(*many))
    assert detail is not None and set(detail) == {"alarmName"} and len(detail["alarmName"]) == 40
