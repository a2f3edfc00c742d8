"""Rendering runbook templates into messages.

Templates are trusted runbook data; everything from an event (alarm names, reasons, descriptions,
tags) enters only as a *value* in the context, never as template source (docs/design.md, decision 7).
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
from clarion.domain.incident import Incident, text_in
from clarion.domain.messaging.i18n import (
    format_duration,
    format_minutes,
    format_time,
    join_list,
    join_names_short,
    status_label,
    unnamed_provider,
    zone_label,
)
from clarion.domain.runbooks.model import Runbook, localized

#: Every variable a template may use, with what it holds. Documented in runbooks/README.md.
VARIABLES: dict[str, str] = {
    "title": "the incident's title in this language",
    "component_names": "the affected components, as a list in a sentence ('Checkout and Invoicing'); "
    "SMS name the first and count the rest once there are three or more ('Web app and 2 others')",
    "components": "the affected components' names, as a list",
    "component_count": "how many components are affected",
    "regions": "the affected regions, joined ('' when none are known)",
    "status": "the incident status label ('Investigating', ...)",
    "severity": "SEV1 ... SEV5",
    "started_at": "when it started, in the language's time zone: 'Nov 23, 2026, 1:58 AM EST' (SMS: no year)",
    "next_update_at": "when the next update comes, same form",
    "next_update_in": "how long until the next update, in words: '30 minutes', '1 hora'",
    "next_update_minutes": "minutes until the next update (a number)",
    "time_zone": "the name of the time zone times are given in ('EST', '(hora de Colombia)')",
    "workaround": "what customers can do meanwhile (from the components), may be ''",
    "provider": "the provider's name on the status page; 'one of our providers' elsewhere",
    "cause": "the cause in this language, once a person has written it; '' until then",
    "eta": "expected resolution in this language, once a person has written it; '' until then",
    "impact": "maintenance: what customers will experience, in this language ('' when not given)",
    "resolved_at": "when it was resolved, same form as started_at ('' while open)",
    "duration": "how long it lasted, in words: '1 hour and 30 minutes' ('' while open)",
    "duration_minutes": "minutes from start to resolution (0 while open)",
    "window_start": "maintenance window start",
    "window_end": "maintenance window end",
    "window_started": "maintenance: true once the window's start has passed (a cancellation then stops it under way)",
    "drill": "true for a drill (customers never receive drills; internal channels may say so)",
    "page_url": "the status page",
    "incident_url": "this incident's page on the status page",
}

#: Customer templates of an open incident must use one variable of each group.
REQUIRED_OPEN: dict[str, tuple[str, ...]] = {
    "scope (what is affected)": ("component_names", "components"),
    "start time": ("started_at",),
    "next update": ("next_update_at", "next_update_minutes", "next_update_in"),
}


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
    return join_list(names, language)


def _clean(text: str) -> str:
    """A person's note as a clause: templates add their own full stop."""
    return text.strip().rstrip(".").strip()


def context_for(
    runbook: Runbook,
    incident: Incident,
    language: str,
    channel: Channel,
    *,
    now: datetime,
    next_update_in: timedelta | None = None,
    cause: dict[str, str] | None = None,
    eta: dict[str, str] | None = None,
) -> dict[str, Any]:
    settings = runbook.settings
    default = settings.default_language
    tz = settings.time_zone(language)
    short = channel is Channel.SMS

    def when(at: datetime | None) -> str:
        return format_time(at, language, tz, short=short) if at else ""

    comps = [runbook.component(cid) for cid in incident.components]
    names = [localized(c.name, language, default) for c in comps]
    regions = sorted({r for c in comps for r in c.regions})
    providers = sorted({c.provider for c in comps if c.provider})
    workaround = next((localized(c.workaround, language, default) for c in comps if c.workaround), "")
    cadence = next_update_in or runbook.policy(incident.severity).update_every or timedelta(hours=1)
    end = incident.resolved_at or incident.resolution_requested_at
    page = settings.page.url.rstrip("/")
    return {
        "title": incident.title.get(language) or incident.title.get(default, ""),
        "component_names": join_names_short(names, language) if short else join_list(names, language),
        "components": names,
        "component_count": len(names),
        "regions": join_list(regions, language),
        "status": status_label(incident.status, language),
        "severity": incident.severity.value,
        "started_at": when(incident.started_at),
        "next_update_at": when(now + cadence),
        "next_update_in": format_duration(cadence, language),
        "next_update_minutes": format_minutes(cadence),
        "time_zone": zone_label(now, tz, language),
        "workaround": workaround,
        "provider": (
            join_list(providers, language)
            if providers and channel is Channel.STATUS_PAGE
            else unnamed_provider(language)
        ),
        "cause": _clean(text_in(incident.cause if cause is None else cause, language)),
        "eta": _clean(text_in(incident.eta if eta is None else eta, language)),
        "impact": _clean(text_in(incident.impact, language)),
        "resolved_at": when(end),
        "duration": format_duration(end - incident.started_at, language) if end else "",
        "duration_minutes": format_minutes(end - incident.started_at) if end else 0,
        "window_start": when(incident.scheduled_for),
        "window_end": when(incident.scheduled_until),
        "window_started": incident.scheduled_for is not None and incident.scheduled_for <= now,
        "drill": incident.drill,
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
