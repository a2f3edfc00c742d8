"""What a person does by hand: declare an incident no alarm raised, update or resolve it, schedule or
cancel maintenance. Same store, same workflow, same approvals as incidents opened by alarms."""

from __future__ import annotations

from datetime import datetime

from clarion.domain.alarms.intake import deliver_signals
from clarion.domain.enums import ComponentStatus, IncidentKind, IncidentStatus, MaintenanceStatus, Phase, Severity
from clarion.domain.errors import ClarionError, ConcurrentUpdate, NotFound
from clarion.domain.incident import Change, Incident, IncidentWrite, TimelineEntry, incident_id_for
from clarion.domain.messaging.i18n import mark_untranslated
from clarion.domain.runbooks.model import Rule, Runbook, localized
from clarion.ports import IncidentStore, PageStore, Workflow


class InvalidRequest(ClarionError):
    """A request a person can correct; the message says how."""


class MissingTranslation(InvalidRequest):
    """Text a person typed lacks a language the page or a policy speaks. Nothing was sent."""

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing


#: The component status a manual incident gets when neither the person nor a rule says: it follows
#: the severity's Statuspage impact, so a SEV4 shows as degraded, not as a major outage.
STATUS_FOR_IMPACT = {
    "critical": ComponentStatus.MAJOR_OUTAGE,
    "major": ComponentStatus.PARTIAL_OUTAGE,
    "minor": ComponentStatus.DEGRADED_PERFORMANCE,
    "none": ComponentStatus.DEGRADED_PERFORMANCE,
}
DEFAULT_SEVERITY = Severity.SEV3


def complete_texts(
    runbook: Runbook, given: dict[str, str], *, option: str, untranslated: bool = False
) -> dict[str, str]:
    """Text a person typed, one entry per configured language; ``{}`` when nothing was given.

    Every language the page speaks needs its own text: a missing one raises ``MissingTranslation``
    naming it, unless ``untranslated``, which sends the default language's text marked with the
    name of its language ("Card payments fail (en inglés)").
    """
    languages = runbook.settings.languages
    default = runbook.settings.default_language
    unknown = sorted(set(given) - set(languages))
    if unknown:
        raise InvalidRequest(f"{option}: unknown language(s) {', '.join(unknown)}; languages: {', '.join(languages)}")
    texts = {lang: text.strip() for lang, text in given.items() if text.strip()}
    if not texts:
        return {}
    missing = [lang for lang in languages if lang not in texts]
    if missing and (not untranslated or default not in texts):
        wanted = " ".join(f'{option} "{lang}=…"' for lang in missing)
        hint = (
            f", or --untranslated to send the {default} text to {', '.join(missing)} readers, marked as untranslated"
            if default in texts
            else f" (--untranslated needs the {default} text)"
        )
        raise MissingTranslation(
            f"{option} has no text in {', '.join(missing)}: nothing was sent. Give {wanted}{hint}", missing
        )
    for lang in missing:
        texts[lang] = mark_untranslated(texts[default], default, lang)
    return {lang: texts[lang] for lang in languages}


def rule_for(runbook: Runbook, components: list[str]) -> Rule | None:
    """The routing rule whose components are exactly these, if any: its title and defaults apply."""
    wanted = set(components)
    return next((r for r in runbook.rules.rules if set(r.components) == wanted), None)


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
    title: dict[str, str],
    components: list[str],
    status: ComponentStatus | None = None,
    severity: Severity | None = None,
    actor: str,
    now: datetime,
    drill: bool = False,
) -> Incident:
    """``title``: language -> text, complete (see :func:`complete_texts`); empty to use the title of
    the rule for exactly these components. Severity and status default to that rule's; without a
    rule, to SEV3 and the status the severity's impact implies."""
    if not components:
        raise InvalidRequest("name at least one affected component")
    group = _group_of(runbook, components)
    rule = rule_for(runbook, components)
    if not title:
        if rule is None or not rule.title:
            raise InvalidRequest(
                "give --title (no routing rule covers exactly these components, so there is no title to reuse)"
            )
        default = runbook.settings.default_language
        title = {lang: localized(rule.title, lang, default) for lang in runbook.settings.languages}
    missing = [lang for lang in runbook.settings.languages if not title.get(lang, "").strip()]
    if missing:
        raise MissingTranslation(f"the title has no text in {', '.join(missing)}: nothing was sent", missing)
    severity = severity or (rule.severity if rule else DEFAULT_SEVERITY)
    if status is None:
        status = rule.status if rule and rule.severity is severity else STATUS_FOR_IMPACT[severity.impact]
    existing = store.get_open_incident_id(group)
    if existing:
        raise InvalidRequest(
            f"incident {existing} is already open for the group {group!r}: update it instead "
            f"(`clarion incident update {existing}`)"
        )
    incident = Incident(
        id=incident_id_for(group, now, f"manual|{sorted(title.items())}|{now.isoformat()}"),
        group=group,
        title={lang: text.strip() for lang, text in title.items()},
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
    cause: dict[str, str] | None = None,
    eta: dict[str, str] | None = None,
    severity: Severity | None = None,
    publish: bool = True,
) -> tuple[Incident, str | None]:
    """Change what the next messages say; with ``publish``, draft and send an update now (through
    approval, per the severity policy): the ``identified`` or ``monitoring`` template when the status
    moves there, the regular update otherwise. ``cause`` and ``eta`` are per language, complete.
    Returns the incident and the update's draft id."""
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
    if cause:
        changes["cause"] = cause
        said.append("cause")
    if eta:
        changes["eta"] = eta
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
        data={k: v if isinstance(v, dict) else str(v) for k, v in changes.items()},
    )
    updated = _write(store, current, entry, **changes)
    draft_id = None
    if publish:
        n = sum(1 for e in store.timeline(incident_id) if e.kind == "updated")
        draft_id = f"manual-{n}"
        phase = PHASE_FOR_STATUS.get(status, Phase.UPDATE) if status else Phase.UPDATE
        workflow.start(updated, "update", suffix=draft_id, extra={"draft_id": draft_id, "phase": phase.value})
    return updated, draft_id


#: The template an update uses when a person moves the incident to a status.
PHASE_FOR_STATUS = {IncidentStatus.IDENTIFIED: Phase.IDENTIFIED, IncidentStatus.MONITORING: Phase.MONITORING}


def resolve_incident(
    store: IncidentStore,
    workflow: Workflow,
    incident_id: str,
    *,
    actor: str,
    now: datetime,
    cause: dict[str, str] | None = None,
) -> Incident:
    """Resolve; ``cause`` (per language, complete) reaches the resolution messages and the post-mortem."""
    current = _load(store, incident_id)
    if current.resolution_requested_at or current.resolved_at:
        raise InvalidRequest(f"incident {incident_id} is already resolved")
    entry = TimelineEntry(at=now, kind="resolution_requested", actor=actor, summary=f"Resolved by {actor}")
    changes: dict[str, object] = {
        "resolution_requested_at": now,
        "pending_signals": [*current.pending_signals, "resolve"],
    }
    if cause:
        changes["cause"] = cause
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
    title: dict[str, str],
    components: list[str],
    start: datetime,
    end: datetime,
    actor: str,
    now: datetime,
    severity: Severity = Severity.SEV3,
    impact: dict[str, str] | None = None,
) -> Incident:
    """``title`` and ``impact`` (what customers will experience): per language, complete."""
    missing = [lang for lang in runbook.settings.languages if not title.get(lang, "").strip()]
    if missing:
        raise MissingTranslation(f"the title has no text in {', '.join(missing)}: nothing was sent", missing)
    if end <= start:
        raise InvalidRequest("the window must end after it starts")
    if end <= now:
        raise InvalidRequest("the window is in the past")
    if not components:
        raise InvalidRequest("name at least one component under maintenance")
    group = _group_of(runbook, components)
    m = Incident(
        id=f"maint-{incident_id_for(group, start, f'maint|{sorted(title.items())}|{now.isoformat()}')}"[:65],
        kind=IncidentKind.MAINTENANCE,
        group=group,
        title={lang: text.strip() for lang, text in title.items()},
        impact=impact or {},
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


def cancel_maintenance(
    store: IncidentStore,
    workflow: Workflow,
    maintenance_id: str,
    *,
    actor: str,
    now: datetime,
    pages: PageStore | None = None,
) -> Incident:
    """Call a window off. Those who were told hear it is cancelled (the ``cancel`` workflow sends the
    ``maintenance_cancelled`` phase to the routes in the audience ledger); the page shows it as
    cancelled (Statuspage's ``completed``, with an update saying so). With ``pages``, the status
    page's model follows at once, if the page ever showed the window."""
    current = _load(store, maintenance_id)
    if current.kind is not IncidentKind.MAINTENANCE:
        raise InvalidRequest(f"{maintenance_id} is an incident, not maintenance")
    if current.cancelled_at:
        raise InvalidRequest(
            f"maintenance {maintenance_id} was already cancelled at {current.cancelled_at.isoformat()}; "
            "nothing more to do"
        )
    if current.resolved_at:
        raise InvalidRequest(
            f"maintenance {maintenance_id} is already over (completed at {current.resolved_at.isoformat()}); "
            "a finished window cannot be cancelled"
        )
    entry = TimelineEntry(
        at=now, kind="maintenance_cancelled", actor=actor, summary=f"Maintenance cancelled by {actor}"
    )
    try:
        _write(
            store,
            current,
            entry,
            maintenance_status=MaintenanceStatus.COMPLETED,
            resolved_at=now,
            cancelled_at=now,
            pending_signals=[*current.pending_signals, "cancel"],
        )
    except ConcurrentUpdate:
        raise InvalidRequest(f"maintenance {maintenance_id} changed at the same moment; try again") from None
    deliver_signals(store, workflow, [maintenance_id], now)
    done = _load(store, maintenance_id)
    if pages is not None:
        pages.refresh(done, now)
    return done
