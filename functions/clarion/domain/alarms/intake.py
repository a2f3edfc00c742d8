"""Alarm intake: one alarm state change -> incidents opened, joined or marked for resolution.

Correct under duplicates, reordering and concurrency:

* Each alarm's last applied state timestamp is kept (``AlarmRecord``); an event not newer than it
  is stale and changes nothing. So whatever order events arrive in, each alarm converges on the
  state of its newest event (its newest the runbook heeds: an ignored INSUFFICIENT_DATA leaves no
  trace, not even its time).
* The alarm record, the incidents, the per-group "open incident" pointer and the timeline entries
  of one decision are committed together, with conditions; a lost race raises ``ConcurrentUpdate``
  and the decision is made again from fresh reads.
* Workflow starts are recorded on the incident (``pending_signals``) in the same commit and
  delivered afterwards; a crash in between is repaired by the retry, which delivers what is
  pending even when its event turns out stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from clarion.domain.alarms.events import AlarmEvent
from clarion.domain.enums import AlarmState, ComponentStatus, InsufficientDataPolicy
from clarion.domain.errors import ConcurrentUpdate
from clarion.domain.incident import (
    AlarmLink,
    AlarmReads,
    AlarmRecord,
    Change,
    Incident,
    IncidentWrite,
    Signal,
    TimelineEntry,
    incident_id_for,
)
from clarion.domain.messaging.i18n import status_label
from clarion.domain.retry import BASE_SECONDS, backoff
from clarion.domain.runbooks.model import Rule, Runbook, localized
from clarion.ports import IncidentStore, Workflow

MAX_ATTEMPTS = 8

RecordFn = Callable[[AlarmState, list[str]], AlarmRecord]
Action = Literal["opened", "joined", "cleared", "resolving", "stale", "ignored", "unmatched", "muted", "maintenance"]


@dataclass
class IntakeOutcome:
    action: Action
    alarm_arn: str
    incident_ids: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    resolving: list[str] = field(default_factory=list)
    signals_sent: list[tuple[str, Signal]] = field(default_factory=list)
    rule_id: str | None = None
    detail: str = ""


def route(runbook: Runbook, event: AlarmEvent) -> Rule | None:
    """The first rule, in file order, whose match holds."""
    for rule in runbook.rules.rules:
        if rule.match.matches(event.alarm_name, event.metrics, event.tags):
            return rule
    return None


def effective_state(event: AlarmEvent, policy: InsufficientDataPolicy) -> AlarmState | None:
    if event.state is not AlarmState.INSUFFICIENT_DATA:
        return event.state
    return {
        InsufficientDataPolicy.IGNORE: None,
        InsufficientDataPolicy.TREAT_AS_ALARM: AlarmState.ALARM,
        InsufficientDataPolicy.TREAT_AS_OK: AlarmState.OK,
    }[policy]


def _worst(links: list[AlarmLink]) -> dict[str, ComponentStatus]:
    out: dict[str, ComponentStatus] = {}
    for link in links:
        for cid, status in link.components.items():
            out[cid] = status.worse_of(out.get(cid, ComponentStatus.OPERATIONAL))
    return out


def _title(runbook: Runbook, rule: Rule, group: str) -> dict[str, str]:
    langs = runbook.settings.languages
    default = runbook.settings.default_language
    if rule.title:
        return {lang: localized(rule.title, lang, default) for lang in langs}
    group_name = runbook.group(group).name
    return {lang: f"{localized(group_name, lang, default)}: {status_label(rule.status, lang)}" for lang in langs}


def _entry(event: AlarmEvent, kind: str, summary: str, now: datetime, **data: object) -> TimelineEntry:
    return TimelineEntry(
        at=now,
        kind=kind,
        actor=f"alarm:{event.alarm_name}",
        summary=summary,
        data={
            "alarm_arn": event.alarm_arn,
            "state": event.state.value,
            "state_timestamp": event.state_timestamp.isoformat(),
            "reason": event.reason[:1024],
            **data,
        },
    )


def _decide(
    event: AlarmEvent, runbook: Runbook, store: IncidentStore, now: datetime
) -> tuple[IntakeOutcome, Change, AlarmReads]:
    # Routing needs no reads, so everything the decision reads is asked for at once.
    state = effective_state(event, runbook.settings.insufficient_data)
    rule = route(runbook, event) if state is AlarmState.ALARM else None
    groups = list(dict.fromkeys(runbook.component(c).group for c in rule.components)) if rule else []
    firing = bool(groups) and not event.muted
    reads = store.read_for_alarm(event.alarm_arn, groups if firing else [], now if firing else None)
    outcome, change = _decision(event, runbook, store, now, reads, state, rule)
    return outcome, change, reads


def _decision(
    event: AlarmEvent,
    runbook: Runbook,
    store: IncidentStore,
    now: datetime,
    reads: AlarmReads,
    state: AlarmState | None,
    rule: Rule | None,
) -> tuple[IntakeOutcome, Change]:
    prev = reads.record
    if prev is not None and prev.state_timestamp >= event.state_timestamp:
        return IntakeOutcome("stale", event.alarm_arn, list(prev.incident_ids)), Change()

    def record(state: AlarmState, incident_ids: list[str]) -> AlarmRecord:
        return AlarmRecord(
            alarm_arn=event.alarm_arn,
            alarm_name=event.alarm_name,
            state=state,
            state_timestamp=event.state_timestamp,
            incident_ids=incident_ids,
        )

    guard = prev.state_timestamp if prev else None
    previous_ids = list(prev.incident_ids) if prev else []
    if state is None:
        # Ignored means not there at all: recording its time would make older events stale, so
        # the alarm's state would depend on the order events arrive in.
        return IntakeOutcome("ignored", event.alarm_arn, detail="INSUFFICIENT_DATA is ignored by the runbook"), Change()

    if state is AlarmState.OK:
        return _clear(event, store, now, previous_ids, record, guard)

    if rule is None:
        outcome = IntakeOutcome("unmatched", event.alarm_arn, detail="no runbook rule matches this alarm")
        return outcome, Change(alarm=record(state, previous_ids), alarm_expected_timestamp=guard)
    if event.muted:
        outcome = IntakeOutcome("muted", event.alarm_arn, rule_id=rule.id, detail="the alarm is muted")
        return outcome, Change(alarm=record(state, previous_ids), alarm_expected_timestamp=guard)
    return _fire(event, runbook, reads, now, rule, previous_ids, record, guard)


def _fire(
    event: AlarmEvent,
    runbook: Runbook,
    reads: AlarmReads,
    now: datetime,
    rule: Rule,
    previous_ids: list[str],
    record: RecordFn,
    guard: datetime | None,
) -> tuple[IntakeOutcome, Change]:
    maintenance = reads.maintenance
    by_group: dict[str, list[str]] = {}
    for cid in rule.components:
        by_group.setdefault(runbook.component(cid).group, []).append(cid)

    writes: list[IncidentWrite] = []
    timeline: list[tuple[str, TimelineEntry]] = []
    open_groups: list[tuple[str, str]] = []
    outcome = IntakeOutcome("joined", event.alarm_arn, rule_id=rule.id)
    touched: list[str] = []
    still_open: list[tuple[str, str]] = []
    for group, comps in by_group.items():
        windows = [m for m in maintenance if set(m.components) & set(comps)]
        in_window = {c for m in windows for c in m.components}
        live = [c for c in comps if c not in in_window]
        for m in windows:
            timeline.append(
                (
                    m.id,
                    _entry(
                        event,
                        "alarm_during_maintenance",
                        f"Alarm {event.alarm_name} fired during maintenance; no incident opened",
                        now,
                        components=sorted(set(comps) & in_window),
                    ),
                )
            )
        if not live:
            continue
        link = AlarmLink(
            alarm_arn=event.alarm_arn,
            alarm_name=event.alarm_name,
            state=AlarmState.ALARM,
            since=event.state_timestamp,
            rule_id=rule.id,
            severity=rule.severity,
            components={c: rule.status for c in live},
        )
        current = reads.open_incidents.get(group)
        if current is not None and current.is_open:
            known = current.alarms.get(event.alarm_arn)
            if known is not None and _same_link(known, link) and not (event.drill and not current.drill):
                # Already linked as it is now: nothing about the incident changes, so nothing is
                # written to it (only the alarm record moves on), as long as it is still the open one.
                still_open.append((group, current.id))
                touched.append(current.id)
                continue
            links = {**current.alarms, event.alarm_arn: link}
            severity = current.severity.worse_of(rule.severity)
            updated = current.model_copy(
                update={
                    "alarms": links,
                    "severity": severity,
                    "components": {**current.components, **_worst(list(links.values()))},
                    "updated_at": now,
                    "version": current.version + 1,
                    "drill": current.drill or event.drill,
                }
            )
            writes.append(IncidentWrite(incident=updated, expected_version=current.version))
            timeline.append(
                (
                    current.id,
                    _entry(event, "alarm_joined", f"Alarm {event.alarm_name} is in ALARM", now, rule=rule.id),
                )
            )
            if severity is not current.severity:
                timeline.append(
                    (
                        current.id,
                        _entry(
                            event,
                            "severity_raised",
                            f"Severity raised from {current.severity.value} to {severity.value}",
                            now,
                            old=current.severity.value,
                            new=severity.value,
                        ),
                    )
                )
            touched.append(current.id)
            continue
        new_id = incident_id_for(group, event.state_timestamp, event.dedupe_key)
        incident = Incident(
            id=new_id,
            group=group,
            title=_title(runbook, rule, group),
            severity=rule.severity,
            components=dict(link.components),
            alarms={event.alarm_arn: link},
            started_at=event.state_timestamp,
            created_at=now,
            updated_at=now,
            pending_signals=["open"],
            drill=event.drill,
            version=1,
        )
        writes.append(IncidentWrite(incident=incident, expected_version=0))
        open_groups.append((group, new_id))
        timeline.append(
            (
                new_id,
                _entry(
                    event,
                    "opened",
                    f"Incident opened by alarm {event.alarm_name} (rule {rule.id}, {rule.severity.value})",
                    now,
                    rule=rule.id,
                    severity=rule.severity.value,
                    components=live,
                ),
            )
        )
        touched.append(new_id)
        outcome.opened.append(new_id)

    if outcome.opened:
        outcome.action = "opened"
    elif not touched:
        outcome.action = "maintenance"
        outcome.detail = "every affected component is in a maintenance window"
    ids = list(dict.fromkeys(previous_ids + touched))
    outcome.incident_ids = touched
    change = Change(
        alarm=record(AlarmState.ALARM, ids),
        alarm_expected_timestamp=guard,
        incidents=writes,
        open_groups=open_groups,
        still_open=still_open,
        timeline=timeline,
    )
    return outcome, change


def _same_link(known: AlarmLink, link: AlarmLink) -> bool:
    return (
        known.state is link.state
        and known.components == link.components
        and known.rule_id == link.rule_id
        and known.severity is link.severity
    )


def _clear(
    event: AlarmEvent,
    store: IncidentStore,
    now: datetime,
    previous_ids: list[str],
    record: RecordFn,
    guard: datetime | None,
) -> tuple[IntakeOutcome, Change]:
    writes: list[IncidentWrite] = []
    timeline: list[tuple[str, TimelineEntry]] = []
    close_groups: list[tuple[str, str]] = []
    outcome = IntakeOutcome("cleared", event.alarm_arn)
    still_open: list[str] = []
    found = store.get_incidents(previous_ids) if previous_ids else {}
    for incident_id in previous_ids:
        current = found.get(incident_id)
        if current is None or not current.is_open:
            continue  # finished incidents forget their alarms
        still_open.append(incident_id)
        link = current.alarms.get(event.alarm_arn)
        if link is None or link.state is AlarmState.OK:
            continue
        links = {**current.alarms, event.alarm_arn: link.model_copy(update={"state": AlarmState.OK})}
        active = [a for a in links.values() if a.state is AlarmState.ALARM]
        update: dict[str, object] = {
            "alarms": links,
            "components": {
                **dict.fromkeys(current.components, ComponentStatus.OPERATIONAL),
                **_worst(active),
            },
            "updated_at": now,
            "version": current.version + 1,
        }
        timeline.append((incident_id, _entry(event, "alarm_cleared", f"Alarm {event.alarm_name} is OK", now)))
        if not active:
            update["resolution_requested_at"] = now
            update["pending_signals"] = [*current.pending_signals, "resolve"]
            close_groups.append((current.group, incident_id))
            timeline.append(
                (
                    incident_id,
                    _entry(event, "resolution_requested", "Every alarm of the incident is clear", now),
                )
            )
            outcome.resolving.append(incident_id)
        writes.append(IncidentWrite(incident=current.model_copy(update=update), expected_version=current.version))
    if outcome.resolving:
        outcome.action = "resolving"
    outcome.incident_ids = still_open
    change = Change(
        alarm=record(AlarmState.OK, still_open),
        alarm_expected_timestamp=guard,
        incidents=writes,
        close_groups=close_groups,
        timeline=timeline,
    )
    return outcome, change


def deliver_signals(
    store: IncidentStore,
    workflow: Workflow,
    incident_ids: list[str],
    now: datetime,
    known: dict[str, Incident] | None = None,
) -> list[tuple[str, Signal]]:
    """Start what the incidents have pending, then clear it. Safe to repeat: starts are idempotent.
    ``known``: incidents as this intake just wrote or read them, so they are not read again (a lost
    race on clearing reads afresh)."""
    sent: list[tuple[str, Signal]] = []
    fresh = dict(known or {})
    for incident_id in incident_ids:
        for _attempt in range(MAX_ATTEMPTS):
            incident = fresh.pop(incident_id, None) or store.get_incident(incident_id)
            if incident is None or not incident.pending_signals:
                break
            executions = [workflow.start(incident, signal) for signal in incident.pending_signals]
            sent.extend((incident_id, signal) for signal in incident.pending_signals)
            cleared = incident.model_copy(
                update={"pending_signals": [], "version": incident.version + 1, "updated_at": now}
            )
            try:
                store.commit(
                    Change(
                        incidents=[IncidentWrite(incident=cleared, expected_version=incident.version)],
                        timeline=[
                            (
                                incident_id,
                                TimelineEntry(
                                    at=now,
                                    kind="workflow_started",
                                    actor="intake",
                                    summary=f"Workflow started: {', '.join(executions)}",
                                    data={
                                        "signals": list(incident.pending_signals),
                                        "executions": executions,
                                    },
                                ),
                            )
                        ],
                    )
                )
                break
            except ConcurrentUpdate:
                continue
    return sent


def apply_alarm(
    event: AlarmEvent,
    runbook: Runbook,
    store: IncidentStore,
    workflow: Workflow,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> IntakeOutcome:
    """Apply one alarm state change. A lost race is decided again from fresh reads after a jittered
    pause that grows with each loss (so writers in a storm spread out instead of colliding again);
    raises ``ConcurrentUpdate`` only after repeated lost races."""
    known: dict[str, Incident] = {}
    for attempt in range(MAX_ATTEMPTS):
        began = time.monotonic()
        outcome, change, reads = _decide(event, runbook, store, now)
        known = {i.id: i for i in reads.open_incidents.values()}
        if outcome.action in ("stale", "ignored"):
            break
        try:
            store.commit(change)
            known.update((w.incident.id, w.incident) for w in change.incidents)
            break
        except ConcurrentUpdate:
            # The pause's unit is what one decision took (the time a rival needs to get out of the
            # way); the first retry waits up to four of them, each further one twice as long.
            sleep(backoff(attempt + 2, base=max(BASE_SECONDS, time.monotonic() - began)))
            continue
    else:
        raise ConcurrentUpdate(f"gave up on {event.alarm_arn} after {MAX_ATTEMPTS} conflicting writes")
    outcome.signals_sent = deliver_signals(store, workflow, outcome.incident_ids, now, known)
    return outcome
