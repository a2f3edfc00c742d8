"""What a person does by hand: declare an incident no alarm raised, update or resolve it, schedule or
cancel maintenance. Same store, same workflow, same approvals as incidents opened by alarms."""

from __future__ import annotations

from datetime import datetime

from clarion.domain.alarms.intake import deliver_signals
from clarion.domain.enums import ComponentStatus, IncidentKind, IncidentStatus, MaintenanceStatus, Severity
from clarion.domain.errors import ClarionError, ConcurrentUpdate, NotFound
from clarion.domain.incident import Change, Incident, IncidentWrite, TimelineEntry, incident_id_for
from clarion.domain.runbooks.model import Runbook
from clarion.ports import IncidentStore, Workflow


class InvalidRequest(ClarionError):
    """A request a person can correct; the message says how."""


def _group_of(runbook: Runbook, components: list[str]) -> str:
    known = {c.id for c in runbook.components.components}
    unknown = [c for c in components if c not in known]
    if unknown:
        raise InvalidRequest(f"unknown component(s) {', '.join(unknown)}; components are: {', '.join(sorted(known))}")
    groups = {runbook.component(c).group for c in components}
    if len(groups) != 1:
        raise InvalidRequest(
            f"the components span the groups {', '.join(sorted(groups))}: Clarion keeps one incident "
            "per component group; declare one incident per group"
        )
    return groups.pop()


def declare_incident(
    runbook: Runbook,
    store: IncidentStore,
    workflow: Workflow,
    *,
    title: str,
    components: list[str],
    status: ComponentStatus,
    severity: Severity,
    actor: str,
    now: datetime,
    drill: bool = False,
) -> Incident:
    if not title.strip():
        raise InvalidRequest("the title is empty")
    if not components:
        raise InvalidRequest("name at least one affected component")
    group = _group_of(runbook, components)
    existing = store.get_open_incident_id(group)
    if existing:
        raise InvalidRequest(
            f"incident {existing} is already open for the group {group!r}: update it instead "
            f"(`clarion incident update {existing}`)"
        )
    incident = Incident(
        id=incident_id_for(group, now, f"manual|{title}|{now.isoformat()}"),
        group=group,
        title=dict.fromkeys(runbook.settings.languages, title.strip()),
        severity=severity,
        components=dict.fromkeys(components, status),
        started_at=now,
        created_at=now,
        updated_at=now,
        pending_signals=["open"],
        drill=drill,
        version=1,
    )
    entry = TimelineEntry(
        at=now,
        kind="opened",
        actor=actor,
        summary=f"Incident declared by {actor} ({severity.value})",
        data={"components": components, "manual": True},
    )
    try:
        store.commit(
            Change(
                incidents=[IncidentWrite(incident=incident, expected_version=0)],
                open_groups=[(group, incident.id)],
                timeline=[(incident.id, entry)],
            )
        )
    except ConcurrentUpdate:
        raise InvalidRequest(
            f"another incident was opened for {group!r} at the same moment; list them and retry"
        ) from None
    deliver_signals(store, workflow, [incident.id], now)
    return store.get_incident(incident.id) or incident


def _load(store: IncidentStore, incident_id: str) -> Incident:
    found = store.get_incident(incident_id)
    if found is None:
        raise NotFound(f"no incident {incident_id!r}; `clarion incident list` shows them")
    return found


def _write(store: IncidentStore, current: Incident, entry: TimelineEntry, **changes: object) -> Incident:
    updated = current.model_copy(update={**changes, "version": current.version + 1, "updated_at": entry.at})
    store.commit(
        Change(
            incidents=[IncidentWrite(incident=updated, expected_version=current.version)],
            timeline=[(current.id, entry)],
        )
    )
    return updated


def update_incident(
    store: IncidentStore,
    workflow: Workflow,
    incident_id: str,
    *,
    actor: str,
    now: datetime,
    status: IncidentStatus | None = None,
    cause: str | None = None,
    eta: str | None = None,
    severity: Severity | None = None,
    publish: bool = True,
) -> tuple[Incident, str | None]:
    """Change what the next messages say; with ``publish``, draft and send an update now (through
    approval, per the severity policy). Returns the incident and the update's draft id."""
    current = _load(store, incident_id)
    if current.resolved_at or current.resolution_requested_at:
        raise InvalidRequest(f"incident {incident_id} is resolved; declare a new one")
    if status is IncidentStatus.RESOLVED:
        raise InvalidRequest("use `clarion incident resolve` to resolve")
    changes: dict[str, object] = {}
    said = []
    if status is not None:
        changes["status"] = status
        said.append(f"status {status.value}")
    if cause is not None:
        changes["cause"] = cause.strip()
        said.append("cause")
    if eta is not None:
        changes["eta"] = eta.strip()
        said.append("expected resolution")
    if severity is not None:
        changes["severity"] = severity
        said.append(f"severity {severity.value}")
    if not changes and not publish:
        raise InvalidRequest("nothing to change: give --status, --cause, --eta or --severity")
    entry = TimelineEntry(
        at=now,
        kind="updated",
        actor=actor,
        summary=f"Updated by {actor}: {', '.join(said) or 'no change'}",
        data={k: str(v) for k, v in changes.items()},
    )
    updated = _write(store, current, entry, **changes)
    draft_id = None
    if publish:
        n = sum(1 for e in store.timeline(incident_id) if e.kind == "updated")
        draft_id = f"manual-{n}"
        workflow.start(updated, "update", suffix=draft_id, extra={"draft_id": draft_id})
    return updated, draft_id


def resolve_incident(
    store: IncidentStore, workflow: Workflow, incident_id: str, *, actor: str, now: datetime, cause: str | None = None
) -> Incident:
    current = _load(store, incident_id)
    if current.resolution_requested_at or current.resolved_at:
        raise InvalidRequest(f"incident {incident_id} is already resolved")
    entry = TimelineEntry(at=now, kind="resolution_requested", actor=actor, summary=f"Resolved by {actor}")
    changes: dict[str, object] = {
        "resolution_requested_at": now,
        "pending_signals": [*current.pending_signals, "resolve"],
    }
    if cause:
        changes["cause"] = cause.strip()
    updated = current.model_copy(update={**changes, "version": current.version + 1, "updated_at": now})
    close = [(current.group, current.id)] if store.get_open_incident_id(current.group) == current.id else []
    store.commit(
        Change(
            incidents=[IncidentWrite(incident=updated, expected_version=current.version)],
            close_groups=close,
            timeline=[(current.id, entry)],
        )
    )
    deliver_signals(store, workflow, [incident_id], now)
    return _load(store, incident_id)


def schedule_maintenance(
    runbook: Runbook,
    store: IncidentStore,
    workflow: Workflow,
    *,
    title: str,
    components: list[str],
    start: datetime,
    end: datetime,
    actor: str,
    now: datetime,
    severity: Severity = Severity.SEV3,
) -> Incident:
    if end <= start:
        raise InvalidRequest("the window must end after it starts")
    if end <= now:
        raise InvalidRequest("the window is in the past")
    if not components:
        raise InvalidRequest("name at least one component under maintenance")
    group = _group_of(runbook, components)
    m = Incident(
        id=f"maint-{incident_id_for(group, start, f'maint|{title}|{now.isoformat()}')}"[:65],
        kind=IncidentKind.MAINTENANCE,
        group=group,
        title=dict.fromkeys(runbook.settings.languages, title.strip()),
        severity=severity,
        components=dict.fromkeys(components, ComponentStatus.UNDER_MAINTENANCE),
        started_at=start,
        created_at=now,
        updated_at=now,
        scheduled_for=start,
        scheduled_until=end,
        maintenance_status=MaintenanceStatus.SCHEDULED,
        pending_signals=["maintenance"],
        version=1,
    )
    entry = TimelineEntry(
        at=now,
        kind="maintenance_scheduled",
        actor=actor,
        summary=f"Maintenance scheduled by {actor}: {start.isoformat()} to {end.isoformat()}",
    )
    store.commit(Change(incidents=[IncidentWrite(incident=m, expected_version=0)], timeline=[(m.id, entry)]))
    deliver_signals(store, workflow, [m.id], now)
    return _load(store, m.id)


def cancel_maintenance(store: IncidentStore, maintenance_id: str, *, actor: str, now: datetime) -> Incident:
    current = _load(store, maintenance_id)
    if current.kind is not IncidentKind.MAINTENANCE:
        raise InvalidRequest(f"{maintenance_id} is an incident, not maintenance")
    if current.resolved_at:
        raise InvalidRequest(f"maintenance {maintenance_id} is already over")
    entry = TimelineEntry(
        at=now, kind="maintenance_cancelled", actor=actor, summary=f"Maintenance cancelled by {actor}"
    )
    return _write(store, current, entry, maintenance_status=MaintenanceStatus.COMPLETED, resolved_at=now)
