"""After the incident: the post-incident report a person writes, and who may hear the messages that
follow resolution.

Both the report's notices and the check-in are closings of the audience ledger
(:mod:`clarion.domain.messaging.ledger`, DESIGN.md decision 10): they go only to routes that were
told of the incident. A report needs the status page told, since publishing it would otherwise
announce an incident customers never saw; a drill never tells it.
"""

from __future__ import annotations

from datetime import datetime

from clarion.domain.enums import IncidentKind
from clarion.domain.errors import NotFound
from clarion.domain.incident import Change, Incident, TimelineEntry
from clarion.domain.runbooks.model import Runbook
from clarion.domain.workflow.manual import InvalidRequest
from clarion.ports import IncidentStore, Workflow, WorkflowStore

REPORT_MAX = 100_000  # characters per language


def report_document(language: str) -> str:
    return f"report.{language}.md"


def submit_report(
    runbook: Runbook,
    store: IncidentStore,
    wstore: WorkflowStore,
    workflow: Workflow,
    incident_id: str,
    texts: dict[str, str],
    *,
    actor: str,
    now: datetime,
) -> str:
    """Store the report (Markdown, one text per language of the runbook) and start its workflow: drafted
    with the post-incident notices, approved per the severity policy, then published. Returns the draft
    id. A later report replaces the earlier one on the page."""
    incident = store.get_incident(incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}; `clarion incident list` shows them")
    _check_reportable(incident)
    languages = runbook.settings.languages
    unknown = sorted(set(texts) - set(languages))
    if unknown:
        raise InvalidRequest(f"no language {', '.join(unknown)} in this runbook set; its languages are {languages}")
    missing = [lang for lang in languages if lang not in texts]
    if missing:
        raise InvalidRequest(
            f"the report is missing {', '.join(missing)}: customers read every language of the page; "
            f"give one file per language, e.g. --file {missing[0]}=report.{missing[0]}.md"
        )
    clean: dict[str, str] = {}
    for lang in languages:
        text = texts[lang].replace("\r\n", "\n").strip()
        if not text:
            raise InvalidRequest(f"the {lang} report is empty")
        if len(text) > REPORT_MAX:
            raise InvalidRequest(f"the {lang} report has {len(text):,} characters; the limit is {REPORT_MAX:,}")
        clean[lang] = text
    timeline = store.timeline(incident_id)
    if not store.ledger(incident_id).told("status_page"):
        raise InvalidRequest(
            f"customers were never told of {incident_id} on the status page (nothing was approved and published "
            "there): a public report would announce an incident they never saw"
        )
    n = 1 + sum(1 for e in timeline if e.kind == "report_submitted")
    draft_id = f"report-{n}"
    for lang, text in clean.items():
        wstore.save_document(incident_id, report_document(lang), text)
    entry = TimelineEntry(
        at=now,
        kind="report_submitted",
        actor=actor,
        summary=f"Post-incident report submitted by {actor} ({', '.join(languages)})",
        data={"draft_id": draft_id, "chars": {lang: len(t) for lang, t in clean.items()}},
    )
    store.commit(Change(timeline=[(incident_id, entry)]))
    workflow.start(incident, "report", suffix=draft_id, extra={"draft_id": draft_id})
    return draft_id


def _check_reportable(incident: Incident) -> None:
    if incident.kind is not IncidentKind.INCIDENT:
        raise InvalidRequest(f"{incident.id} is maintenance; post-incident reports are for incidents")
    if incident.drill:
        raise InvalidRequest(f"{incident.id} is a drill: customers never hear of drills, so it has no public report")
    if incident.resolved_at is None and incident.resolution_requested_at is None:
        raise InvalidRequest(
            f"{incident.id} is not resolved yet: resolve it first (`clarion incident resolve {incident.id}`), "
            "then publish the report"
        )
