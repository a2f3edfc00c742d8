"""The EventBridge filter for alarm state changes, derived from the runbook's routing rules at synth.

Every alarm state change in the account would otherwise invoke the intake (and cost its DynamoDB
requests) only to be found unmatched. The rule's pattern lets through what some routing rule *may*
match: the alarm name (a glob becomes a ``wildcard`` or a ``prefix``; an anchored regular
expression its literal prefix) and, where a rule names one, the metric namespace. It may let
through more than the rules match, never less: the intake still routes exactly. A rule whose
alarms cannot be narrowed (an unanchored expression and no namespace) means no filter at all.
"""

from __future__ import annotations

import json
from typing import Any

from clarion.domain.runbooks.model import AlarmMatch, Runbook

MAX_PATTERN_CHARS = 2048  # EventBridge's default limit for an event pattern
_REGEX_META = set(".^$*+?()[]{}|\\")


def _glob_filter(glob: str) -> Any | None:
    """fnmatch's ``*`` is EventBridge's wildcard; ``?`` and ``[...]`` have no equivalent, so a glob
    using them narrows to its literal prefix."""
    if not any(c in glob for c in "*?["):
        return glob
    if not any(c in glob for c in "?["):
        return {"wildcard": glob.replace("\\", "\\\\")}
    cut = min(i for i, c in enumerate(glob) if c in "*?[")
    return {"prefix": glob[:cut]} if cut else None


def regex_prefix(expression: str) -> str:
    """A prefix every string the expression matches (with ``re.search``) starts with; "" when there
    is none to be sure of (unanchored, top-level alternation, inline flags)."""
    if not expression.startswith("^") or expression.startswith("^(?"):
        return ""
    depth, i = 0, 1
    while i < len(expression):  # a top-level | makes the anchor cover one branch only
        c = expression[i]
        if c == "\\":
            i += 2
            continue
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c == "|" and depth == 0:
            return ""
        i += 1
    out, i = "", 1
    while i < len(expression):
        c = expression[i]
        if c == "\\":
            nxt = expression[i + 1 : i + 2]
            if not nxt or nxt.isalnum():  # \d, \w, \b ...: a class, not a literal
                break
            literal, i = nxt, i + 2
        elif c in _REGEX_META:
            break
        else:
            literal, i = c, i + 1
        if i < len(expression) and expression[i] in "*?{":  # the literal may be absent
            break
        out += literal
        if i < len(expression) and expression[i] == "+":
            break
    return out


def _branch(match: AlarmMatch) -> dict[str, Any] | None:
    """What an alarm's event must hold for this match to be possible; None when anything may match."""
    branch: dict[str, Any] = {}
    name: Any | None = None
    if match.alarm_name is not None:
        name = _glob_filter(match.alarm_name)
    elif match.alarm_name_regex is not None:
        prefix = regex_prefix(match.alarm_name_regex)
        name = {"prefix": prefix} if prefix else None
    if name is not None:
        branch["alarmName"] = [name]
    if match.namespace is not None:
        branch["configuration"] = {"metrics": {"metricStat": {"metric": {"namespace": [match.namespace]}}}}
    return branch or None


def alarm_event_detail(runbook: Runbook) -> dict[str, Any] | None:
    """The ``detail`` part of the intake rule's event pattern, or None: every alarm may be routed."""
    branches: list[dict[str, Any]] = []
    for rule in runbook.rules.rules:
        branch = _branch(rule.match)
        if branch is None:
            return None
        if branch not in branches:
            branches.append(branch)
    detail: dict[str, Any] = branches[0] if len(branches) == 1 else {"$or": branches}
    if len(json.dumps(detail)) + 120 <= MAX_PATTERN_CHARS:  # room for source and detail-type
        return detail
    # Too long: names only (a coarser filter), if every rule has one.
    names: list[Any] = []
    for branch in branches:
        if "alarmName" not in branch:
            return None
        names.extend(n for n in branch["alarmName"] if n not in names)
    detail = {"alarmName": names}
    return detail if len(json.dumps(detail)) + 120 <= MAX_PATTERN_CHARS else None
