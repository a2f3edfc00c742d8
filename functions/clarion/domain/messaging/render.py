"""Rendering runbook templates into messages.

Templates are trusted runbook data; everything from an event (alarm names, reasons, descriptions,
tags) enters only as a *value* in the context, never as template source (DESIGN.md decision 7).
Message bodies are plain text: SMS, chat and email text parts must not carry HTML entities, so this
environment does not escape. Every HTML surface (status page, email HTML part, approval page)
inserts these bodies through its own Jinja2 environment with autoescape on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict

from clarion.domain.enums import Audience, Channel, ComponentStatus, IncidentStatus, Phase
from clarion.domain.incident import Incident
from clarion.domain.messaging.i18n import format_minutes, format_utc, status_label, unnamed_provider
from clarion.domain.runbooks.model import Runbook, localized

#: Every variable a template may use, with what it holds. Documented in runbooks/README.md.
VARIABLES: dict[str, str] = {
    "title": "the incident's title in this language",
    "component_names": "the affected components, joined for a sentence ('Checkout API and Login')",
    "components": "the affected components' names, as a list",
    "regions": "the affected regions, joined ('' when none are known)",
    "status": "the incident status label ('Investigating', ...)",
    "severity": "SEV1 ... SEV5",
    "started_at": "when it started, '2026-11-23 14:05 UTC'",
    "next_update_at": "when the next update comes, same form",
    "next_update_minutes": "minutes until the next update",
    "workaround": "what customers can do meanwhile (from the components), may be ''",
    "provider": "the provider's name on the status page; 'one of our providers' elsewhere",
    "cause": "the cause, once a person has written it; '' until then",
    "eta": "expected resolution, once a person has written it; '' until then",
    "resolved_at": "when it was resolved, same form as started_at ('' while open)",
    "duration_minutes": "minutes from start to resolution (0 while open)",
    "window_start": "maintenance window start",
    "window_end": "maintenance window end",
    "page_url": "the status page",
    "incident_url": "this incident's page on the status page",
}

#: Customer templates of an open incident must use one variable of each group.
REQUIRED_OPEN: dict[str, tuple[str, ...]] = {
    "scope (what is affected)": ("component_names", "components"),
    "start time": ("started_at",),
    "next update": ("next_update_at", "next_update_minutes"),
}

_AND = {"en": " and ", "es": " y "}


class RenderedMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    phase: Phase
    audience: Audience
    channel: Channel
    language: str
    subject: str | None
    body: str


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=2048)
def compile_template(source: str) -> Template:
    return environment().from_string(source)


def join_names(names: list[str], language: str) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + _AND.get(language, " and ") + names[-1]


def context_for(
    runbook: Runbook,
    incident: Incident,
    language: str,
    channel: Channel,
    *,
    now: datetime,
    next_update_in: timedelta | None = None,
    cause: str = "",
    eta: str = "",
) -> dict[str, Any]:
    default = runbook.settings.default_language
    comps = [runbook.component(cid) for cid in incident.components]
    names = [localized(c.name, language, default) for c in comps]
    regions = sorted({r for c in comps for r in c.regions})
    providers = sorted({c.provider for c in comps if c.provider})
    workaround = next((localized(c.workaround, language, default) for c in comps if c.workaround), "")
    cadence = next_update_in or runbook.policy(incident.severity).update_every or timedelta(hours=1)
    end = incident.resolved_at or incident.resolution_requested_at
    page = runbook.settings.page.url.rstrip("/")
    return {
        "title": incident.title.get(language) or incident.title.get(default, ""),
        "component_names": join_names(names, language),
        "components": names,
        "regions": join_names(regions, language),
        "status": status_label(incident.status, language),
        "severity": incident.severity.value,
        "started_at": format_utc(incident.started_at),
        "next_update_at": format_utc(now + cadence),
        "next_update_minutes": format_minutes(cadence),
        "workaround": workaround,
        "provider": (
            join_names(providers, language)
            if providers and channel is Channel.STATUS_PAGE
            else unnamed_provider(language)
        ),
        "cause": cause,
        "eta": eta,
        "resolved_at": format_utc(end) if end else "",
        "duration_minutes": format_minutes(end - incident.started_at) if end else 0,
        "window_start": format_utc(incident.scheduled_for) if incident.scheduled_for else "",
        "window_end": format_utc(incident.scheduled_until) if incident.scheduled_until else "",
        "page_url": page + ("/" if language == default else f"/{language}/"),
        "incident_url": f"{page}{'' if language == default else '/' + language}/incidents/{incident.id}.html",
    }


def render(
    runbook: Runbook,
    phase: Phase,
    audience: Audience,
    channel: Channel,
    language: str,
    context: dict[str, Any],
) -> RenderedMessage:
    tpl = runbook.template(language, phase, audience, channel)
    subject = compile_template(tpl.subject).render(context).strip() if tpl.subject else None
    body = compile_template(tpl.body).render(context).strip()
    return RenderedMessage(
        phase=phase, audience=audience, channel=channel, language=language, subject=subject, body=body
    )


def sample_incident(runbook: Runbook, component_ids: list[str], now: datetime) -> Incident:
    """A realistic incident over the given components, used by the lint and by previews."""
    from clarion.domain.enums import Severity

    first = runbook.component(component_ids[0])
    return Incident(
        id=f"{first.group}-sample",
        group=first.group,
        title={
            lang: localized(first.name, lang, runbook.settings.default_language) for lang in runbook.settings.languages
        },
        status=IncidentStatus.INVESTIGATING,
        severity=Severity.SEV2,
        components=dict.fromkeys(component_ids, ComponentStatus.MAJOR_OUTAGE),
        started_at=now - timedelta(minutes=12),
        created_at=now - timedelta(minutes=10),
        updated_at=now,
        scheduled_for=now + timedelta(days=2),
        scheduled_until=now + timedelta(days=2, hours=2),
    )
