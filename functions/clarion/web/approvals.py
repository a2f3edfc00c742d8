"""The approval page and the approval email's HTML, rendered from what the domain decided.

GET|HEAD /approvals/<id>?a=&e=&s=   the confirmation page; never decides (link scanners fetch it)
POST     /approvals/<id>            the decision: ``decision=approve|reject`` plus the page's hidden
                                    fields (a, e, s, csrf), edits as ``msg:<key>`` / ``subject:<key>``,
                                    ``reason``, and ``confirm_languages=yes`` when languages differ
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clarion.domain.approvals.desk import ApprovalView, Page, edit_group
from clarion.domain.enums import Audience, Channel
from clarion.domain.messaging.drafts import Draft, DraftMessage, on_route
from clarion.domain.messaging.i18n import status_label
from clarion.domain.workflow.service import ApprovalEmail, route_reaches_customers
from clarion.web.render import (
    audience_label,
    channel_label,
    human_time,
    language_label,
    render,
    route_label,
    script,
    sms_count,
)
from clarion.web.security import script_hash

SCRIPT = "sms_count.js"


def approval_headers() -> tuple[str, ...]:
    return (script_hash(script(SCRIPT)),)


def component_names(view_runbook: Any, components: list[str], lang: str) -> str:
    from clarion.domain.runbooks.model import localized

    names = []
    for cid in components:
        try:
            names.append(localized(view_runbook.component(cid).name, lang, view_runbook.settings.default_language))
        except Exception:
            names.append(cid)
    return ", ".join(names)


def _remaining(expires: datetime, now: datetime) -> str:
    minutes = int((expires - now).total_seconds() // 60)
    if minutes < 1:
        return "less than a minute left"
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''} left"
    return f"about {minutes // 60} hours left"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _where(draft: Draft, m: DraftMessage, drill: bool = False) -> str:
    """Where a text goes, in words: an opening goes only to routes never told of the incident; a
    drill's routes to customers are suppressed when sent, and the approver reads so here."""
    all_routes = [r for r in draft.routes if (r in draft.opening_routes) is m.opening and on_route(r, m)]
    suppressed = [route_label(r) for r in all_routes if drill and route_reaches_customers(r)]
    routes = [route_label(r) for r in all_routes if not (drill and route_reaches_customers(r))]
    held = f"A drill: not sent to {_and(suppressed)}; customers never hear of drills." if suppressed else ""
    if not routes:
        return held or "Goes nowhere in this phase."
    names = _and(routes)
    if m.opening:
        never, gets = ("was", "it gets") if len(routes) == 1 else ("were", "they get")
        phase = draft.phase.value.replace("_", " ")
        goes = f"Goes to {names}, which {never} never told of this incident: {gets} this opening, not the {phase}."
    else:
        goes = f"Goes to {names}."
    return f"{goes} {held}".strip()


def approval_context(view: ApprovalView, action: str, now: datetime) -> dict[str, Any]:
    runbook, incident, draft, request = view.runbook, view.incident, view.draft, view.request
    lang = runbook.settings.default_language
    texts, subjects = view.texts or {}, view.subjects or {}
    groups: list[dict[str, Any]] = []
    index = 0
    for audience in Audience:
        channels = []
        for channel in Channel:
            for opening in (True, False):
                messages = []
                for m in draft.messages:
                    if m.audience is not audience or m.channel is not channel or m.opening is not opening:
                        continue
                    index += 1
                    label = (
                        f"{audience_label(audience.value)} · {channel_label(channel.value)} · "
                        f"{language_label(m.language)}"
                    )
                    messages.append(
                        {
                            "id": index,
                            "key": m.key,
                            "lang": m.language,
                            "language": language_label(m.language),
                            "label": label,
                            "where": _where(draft, m, incident.drill),
                            "subject": subjects.get(m.key, m.subject) if m.subject is not None else None,
                            "body": texts.get(m.key, m.body),
                            "sms": channel is Channel.SMS,
                        }
                    )
                if messages:
                    channels.append(
                        {
                            "channel": channel_label(channel.value) + (" · opening" if opening else ""),
                            "messages": messages,
                        }
                    )
        if channels:
            groups.append({"audience": audience_label(audience.value), "channels": channels})
    previews = []
    page = draft.for_route("status_page").messages if "status_page" in draft.routes else []
    for m in page:
        previews.append(
            {
                "lang": m.language,
                "language": language_label(m.language),
                "title": incident.title.get(m.language) or incident.title.get(lang, incident.id),
                "status": status_label(incident.status, m.language),
                "at": human_time(draft.created_at, now),
                "body": m.body,
            }
        )
    one_sided = []
    unedited_langs: set[str] = set()
    for g in view.one_sided:
        langs = [m for m in draft.messages if edit_group(m) == g]
        changed = [
            m.language
            for m in langs
            if texts.get(m.key, m.body).strip().replace("\r\n", "\n") != m.body
            or " ".join(subjects.get(m.key, m.subject or "").split()) != (m.subject or "")
        ]
        unchanged = [m.language for m in langs if m.language not in changed]
        unedited_langs.update(unchanged)
        group_audience, group_channel = g.removeprefix("opening/").split("/", 1)
        one_sided.append(
            {
                "label": f"{audience_label(group_audience)} · {channel_label(group_channel)}"
                + (" · opening" if g.startswith("opening/") else ""),
                "edited": " and ".join(f"the {language_label(x)}" for x in changed),
                "unedited": " and ".join(f"the {language_label(x)}" for x in unchanged),
            }
        )
    return {
        "lang": "en",
        "title": incident.title.get(lang, incident.id),
        "severity": incident.severity.value,
        "phase": draft.phase.value.replace("_", " "),
        "components": component_names(runbook, list(incident.components), lang),
        "started": human_time(incident.started_at, now),
        "expires": human_time(request.expires_at, now),
        "remaining": _remaining(request.expires_at, now),
        "approver": request.approvers[view.approver],
        "problem": view.problem,
        "params": view.params,
        "csrf": view.csrf,
        "action": action,
        "groups": groups,
        "previews": previews,
        "one_sided": one_sided,
        "one_sided_languages": " or ".join(language_label(x) for x in sorted(unedited_langs)),
        "budget": runbook.settings.sms.max_segments,
        "timeline": view.timeline[-30:],
        "now": now,
        "script": script(SCRIPT),
    }


def render_page(page: Page, action: str = "", now: datetime | None = None) -> str:
    """The HTML of an answer of the approval desk."""
    now = now or datetime.now(UTC)
    if page.view is None:
        return render("result.html.j2", heading=page.heading, text=page.text, link=None)
    return render("approval.html.j2", **approval_context(page.view, action, now))


def approval_email_html(mail: ApprovalEmail) -> str:
    """The HTML part of an approval request email."""
    runbook, incident, draft = mail.runbook, mail.incident, mail.draft
    lang = runbook.settings.default_language
    now = mail.request.created_at
    messages = [
        {
            "label": f"{audience_label(m.audience.value)} · {channel_label(m.channel.value)} · "
            f"{language_label(m.language)}" + (" · opening" if m.opening else ""),
            "where": _where(draft, m, incident.drill),
            "subject": m.subject,
            "body": m.body,
            "sms": sms_count(m.body) if m.channel is Channel.SMS else "",
        }
        for m in draft.messages
    ]
    return render(
        "approval_email.html.j2",
        person=mail.person,
        title=incident.title.get(lang, incident.id),
        severity=incident.severity.value,
        phase=draft.phase.value.replace("_", " "),
        components=component_names(runbook, list(incident.components), lang),
        started=human_time(incident.started_at, now),
        expires=human_time(mail.request.expires_at, now),
        url=mail.url,
        timeline=mail.timeline,
        messages=messages,
        now=now,
    )
