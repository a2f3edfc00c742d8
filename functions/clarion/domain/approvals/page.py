"""HTML of approval emails and of the approval page. Jinja2 with autoescape: alarm names, reasons
and draft texts are data, always escaped."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import DictLoader, Environment

from clarion.domain.approvals.links import ApprovalRequest, Approver
from clarion.domain.enums import Channel
from clarion.domain.incident import Incident, TimelineEntry
from clarion.domain.messaging.drafts import Draft, on_route
from clarion.domain.messaging.i18n import format_utc
from clarion.domain.messaging.sms import count_segments
from clarion.domain.runbooks.model import Runbook

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:0 auto;padding:1rem;color:#1b1f24}"
    "textarea{width:100%;font:inherit}fieldset{margin:1rem 0;border:1px solid #bbb;border-radius:.4rem}"
    "button{font:inherit;padding:.5rem 1.25rem;margin-right:1rem}.muted{color:#4d5561}"
    ".err{color:#b0121b;font-weight:600}table{border-collapse:collapse}td,th{padding:.2rem .5rem;text-align:left}"
)

_TEMPLATES = {
    "email.html": """<!doctype html><html lang="en"><body style="font-family:system-ui,sans-serif">
<p>{{ person.name }}, Clarion needs your approval before customers are told about this incident.</p>
<p><strong>{{ title }}</strong> ({{ incident.severity.value }})<br>Components: {{ components }}<br>
Started: {{ started }}<br>Answer by: {{ expires }}</p>
<p><a href="{{ url }}">Review, edit and approve or reject</a></p>
<h3>Timeline so far (UTC)</h3><ul>{% for e in timeline %}
<li>{{ e.at.strftime("%H:%M:%S") }} {{ e.summary }}</li>{% endfor %}</ul>
{% for m in draft.messages %}<h3>{{ m.audience.value }} · {{ m.channel.value }} · {{ m.language }}</h3>
{% if m.subject %}<p><em>{{ m.subject }}</em></p>{% endif %}<pre style="white-space:pre-wrap">{{ m.body }}</pre>
{% endfor %}</body></html>""",
    "page.html": """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Approve: {{ title }}</title><style>{{ style }}</style></head><body><main>
<h1>Approve customer messages</h1>
<p><strong>{{ title }}</strong> · {{ incident.severity.value }} · {{ phase }}<br>
Components: {{ components }} · started {{ started }}<br>Your link: {{ approver.name }} ({{ approver.email }}) ·
answer by {{ expires }}</p>
{% if problem %}<p class="err" role="alert">{{ problem }}</p>{% endif %}
<form method="post" action="{{ action }}">
<input type="hidden" name="a" value="{{ params.a }}"><input type="hidden" name="e" value="{{ params.e }}">
<input type="hidden" name="s" value="{{ params.s }}"><input type="hidden" name="csrf" value="{{ csrf }}">
{% for m in messages %}<fieldset><legend>{{ m.audience }} · {{ m.channel }} · {{ m.language }} ·
{{ m.where }}</legend>
{% if m.subject %}<p class="muted">Subject: {{ m.subject }}</p>{% endif %}
<label for="m{{ loop.index }}" class="muted">Text{% if m.sms %} ({{ m.sms }};
the budget is {{ budget }}){% endif %}</label>
<textarea id="m{{ loop.index }}" name="msg:{{ m.key }}" rows="{{ m.rows }}">{{ m.body }}</textarea></fieldset>
{% endfor %}
<p><label for="reason">Reason or note (optional)</label><textarea id="reason" name="reason" rows="2"></textarea></p>
<p><button type="submit" name="decision" value="approve">Approve and publish</button>
<button type="submit" name="decision" value="reject">Reject</button></p>
</form>
<h2>Timeline so far</h2><table><tr><th>time (UTC)</th><th>what</th></tr>
{% for e in timeline %}<tr><td>{{ e.at.strftime("%H:%M:%S") }}</td><td>{{ e.summary }}</td></tr>{% endfor %}
</table></main></body></html>""",
    "result.html": """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{{ heading }}</title><style>{{ style }}</style></head><body><main>
<h1>{{ heading }}</h1><p>{{ text }}</p></main></body></html>""",
}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=DictLoader(_TEMPLATES), autoescape=True)


def _summary(runbook: Runbook, incident: Incident) -> dict[str, Any]:
    lang = runbook.settings.default_language
    return {
        "incident": incident,
        "title": incident.title.get(lang, incident.id),
        "components": ", ".join(incident.components),
        "started": format_utc(incident.started_at),
        "style": _STYLE,
    }


def render_email_html(
    runbook: Runbook,
    incident: Incident,
    draft: Draft,
    url: str,
    request: ApprovalRequest,
    person: Approver,
    timeline: list[TimelineEntry],
) -> str:
    return (
        _env()
        .get_template("email.html")
        .render(
            **_summary(runbook, incident),
            draft=draft,
            url=url,
            person=person,
            expires=format_utc(request.expires_at),
            timeline=timeline,
        )
    )


def render_approval_page(
    runbook: Runbook,
    incident: Incident,
    draft: Draft,
    request: ApprovalRequest,
    approver: int,
    params: dict[str, str],
    csrf: str,
    action: str,
    timeline: list[TimelineEntry],
    problem: str = "",
    texts: dict[str, str] | None = None,
) -> str:
    messages = []
    for m in draft.messages:
        body = (texts or {}).get(m.key, m.body)
        sms = ""
        if m.channel is Channel.SMS:
            c = count_segments(body)
            sms = f"{c.segments} segment{'s' if c.segments != 1 else ''}, {c.units} {c.encoding} units"
        messages.append(
            {
                "key": m.key,
                "audience": m.audience.value,
                "channel": m.channel.value,
                "language": m.language,
                "subject": m.subject,
                "body": body,
                "sms": sms,
                "rows": min(12, 2 + body.count("\n") + len(body) // 90),
                # Where it goes: an opening goes only to routes never told of the incident.
                "where": ("opening for " if m.opening else "to ")
                + (
                    ", ".join(r for r in draft.routes if (r in draft.opening_routes) is m.opening and on_route(r, m))
                    or "no route"
                ),
            }
        )
    return (
        _env()
        .get_template("page.html")
        .render(
            **_summary(runbook, incident),
            phase=draft.phase.value,
            approver=request.approvers[approver],
            expires=format_utc(request.expires_at),
            params=params,
            csrf=csrf,
            action=action,
            messages=messages,
            budget=f"{runbook.settings.sms.max_segments} segment(s)",
            timeline=timeline[-20:],
            problem=problem,
        )
    )


def render_result(heading: str, text: str) -> str:
    return _env().get_template("result.html").render(heading=heading, text=text, style=_STYLE)
