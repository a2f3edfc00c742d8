"""Which rule an alarm hits, and why the others do not: `clarion runbooks match`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from clarion.domain.runbooks.model import AlarmMatch, Rule, Runbook


@dataclass(frozen=True)
class MatchResult:
    rule: Rule | None
    misses: list[tuple[str, str]] = field(default_factory=list)  # (rule id, the first condition that failed)
    # Conditions on what was not given (the metric's namespace and dimensions, tags) that the rule
    # needs: it is the rule hit if the alarm has them.
    assumed: list[str] = field(default_factory=list)


def _name_fails(m: AlarmMatch, alarm_name: str) -> str:
    if m.alarm_name is not None and not fnmatchcase(alarm_name, m.alarm_name):
        return f"the name does not match {m.alarm_name!r}"
    if m.alarm_name_regex is not None and not re.search(m.alarm_name_regex, alarm_name):
        return f"the name does not match the regular expression {m.alarm_name_regex!r}"
    return ""


def _needs(m: AlarmMatch, has_metric: bool, tags: dict[str, str]) -> tuple[list[str], list[str]]:
    """(conditions on things not given, conditions given that fail)."""
    unknown: list[str] = []
    if not has_metric:
        if m.namespace is not None:
            unknown.append(f"its metric is in the namespace {m.namespace}")
        if m.dimensions:
            unknown.append("its metric has the dimensions " + ", ".join(f"{k}={v}" for k, v in m.dimensions.items()))
    failing = []
    for key, pattern in m.tags.items():
        if key not in tags:
            unknown.append(f"it has the tag {key}={pattern}")
        elif not fnmatchcase(tags[key], pattern):
            failing.append(f"its tag {key} is not {pattern!r}")
    return unknown, failing


def explain_match(
    runbook: Runbook,
    alarm_name: str,
    *,
    namespace: str | None = None,
    dimensions: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> MatchResult:
    """The first rule, in file order, the alarm hits as the intake routes it, and for each rule before
    it, why it did not match. Where the namespace, dimensions or tags were not given, the first rule
    that would hit if the alarm had what that rule needs is the answer, with those conditions named."""
    has_metric = bool(namespace or dimensions)
    metrics = [(namespace, dimensions or {})] if has_metric else []
    tags = tags or {}
    misses: list[tuple[str, str]] = []
    for rule in runbook.rules.rules:
        m = rule.match
        if m.matches(alarm_name, metrics, tags):
            return MatchResult(rule, misses)
        why = _name_fails(m, alarm_name)
        if not why:
            unknown, failing = _needs(m, has_metric, tags)
            if has_metric and (m.namespace is not None or m.dimensions):
                failing.insert(0, "its metric's namespace or dimensions differ")
            named = m.alarm_name is not None or m.alarm_name_regex is not None
            if not failing and unknown and named:  # the name matched: what it also needs was not given
                return MatchResult(rule, misses, unknown)
            why = "; ".join(failing) or (
                "it matches only if " + " and ".join(unknown) + " (give --namespace, --dimension or --tag)"
                if unknown
                else "no match"
            )
        misses.append((rule.id, why))
    return MatchResult(None, misses)
