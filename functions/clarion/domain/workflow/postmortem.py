"""The internal post-mortem draft, built from the timeline when an incident resolves (and again, with
the latest feedback, by `clarion incident show ID --postmortem`).

It answers what a review asks first: what each audience was told and when, how long customers waited
for the first notice, how long approvals took, whether readers found the updates helpful, and what we
will change. Everything is Markdown for the team; readers' comments are not copied into it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from clarion.domain.feedback.model import Feedback
from clarion.domain.feedback.model import counts as feedback_counts
from clarion.domain.incident import Incident, TimelineEntry, text_in
from clarion.domain.messaging.i18n import format_utc
from clarion.domain.runbooks.model import Runbook, localized

# Rows the timeline table leaves out: they are summarised in their own sections above it.
_SUMMARISED = {"message_sent", "drafted", "internal_notice", "page_update"}
_EXTERNAL = (
    "status_page",
    "sns:customers",
    "email-customers:",
    "sms:",
    "voice:",
    "push:",
    "whatsapp:",
    "webhook:customers:",
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _span(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def _customer_route(route: str) -> bool:
    return route == "status_page" or route.startswith(_EXTERNAL)


def postmortem_markdown(
    runbook: Runbook, incident: Incident, timeline: list[TimelineEntry], feedback: Iterable[Feedback] = ()
) -> str:
    lang = runbook.settings.default_language
    title = incident.title.get(lang, incident.id)
    end = incident.resolved_at or incident.resolution_requested_at
    minutes = int((end - incident.started_at).total_seconds() // 60) if end else None
    alarms = ", ".join(sorted(a.alarm_name for a in incident.alarms.values()))
    names = []
    for cid in incident.components:
        try:
            names.append(f"{localized(runbook.component(cid).name, lang, lang)} (`{cid}`)")
        except KeyError:
            names.append(f"`{cid}`")
    sent = [e for e in timeline if e.kind == "message_sent"]
    first_customer = next((e for e in sent if _customer_route(str(e.data.get("route", "")))), None)
    out = [
        f"# Post-mortem: {title}",
        "",
        f"- Incident: `{incident.id}` ({incident.kind.value})" + (" — a drill" if incident.drill else ""),
        f"- Severity: {incident.severity.value}",
        f"- Components: {', '.join(names)}",
        f"- Started: {format_utc(incident.started_at)}",
        f"- Resolved: {format_utc(end) if end else 'not yet'}"
        + (f" ({minutes} minutes)" if minutes is not None else ""),
        f"- Alarms: {alarms or 'none (declared by a person)'}",
        "- First notice to customers: "
        + (
            f"{format_utc(first_customer.at)}, {_span(first_customer.at - incident.started_at)} after the start "
            f"({first_customer.data.get('route')})"
            if first_customer
            else "none: no customer was told"
        ),
        "",
        "## Summary",
        "",
        "_What happened, in two or three sentences a customer would understand._",
        "",
        "## Impact",
        "",
        "_Who was affected, how, and for how long._",
        "",
        "## What each audience was told",
        "",
    ]
    if sent:
        out += ["| time (UTC) | message | audience | channel | route | languages |", "|---|---|---|---|---|---|"]
        for e in sent:
            msgs = e.data.get("messages", [])
            audiences = sorted({str(m.get("audience", "")) for m in msgs}) or ["—"]
            channels = sorted({str(m.get("channel", "")) for m in msgs}) or ["—"]
            languages = sorted({str(m.get("language", "")) for m in msgs}) or ["—"]
            draft = _cell(str(e.data.get("draft_id", "")))
            out.append(
                f"| {e.at.strftime('%Y-%m-%d %H:%M:%S')} | {draft} | {', '.join(audiences)} | "
                f"{', '.join(channels)} | {_cell(str(e.data.get('route', '')))} | {', '.join(languages)} |"
            )
    else:
        out.append("Nobody outside the team was told.")
    out += ["", "## Approvals", ""]
    out += _approvals(timeline) or ["No message needed approval."]
    out += ["", "## Did the updates help?", ""]
    tally = feedback_counts(feedback)
    if tally["responses"]:
        out.append(
            f'{tally["responses"]} answer(s) to "Was this update helpful?": {tally["yes"]} yes, {tally["no"]} no'
            f" ({tally['helpful_percent']}% helpful), {tally['comments']} with a comment "
            "(`clarion report feedback` lists them)."
        )
        out += ["", "| update | phase | yes | no | comments |", "|---|---|---|---|---|"]
        for update, c in tally["updates"].items():
            out.append(f"| {_cell(update)} | {c['phase']} | {c['yes']} | {c['no']} | {c['comments']} |")
    else:
        out.append('No reader answered "Was this update helpful?" yet.')
    out += ["", "## Timeline (UTC)", "", "| time | what | who |", "|---|---|---|"]
    for e in timeline:
        if e.kind in _SUMMARISED:
            continue
        out.append(f"| {e.at.strftime('%Y-%m-%d %H:%M:%S')} | {_cell(e.summary)} | {e.actor.replace('|', '/')} |")
    out += [
        "",
        "## Root cause",
        "",
        *([f"As told to customers: {cause}", ""] if (cause := text_in(incident.cause, lang)) else []),
        "_Why it happened. Ask why until the answer is something we can change._",
        "",
        "## What went well, what did not",
        "",
        "## What we will change",
        "",
        "_In the product, in how we detect it, and in how we tell customers (the feedback above says which "
        "messages did not help)._",
        "",
        "| change | owner | due |",
        "|---|---|---|",
        "| | | |",
        "",
    ]
    return "\n".join(out)


def _approvals(timeline: list[TimelineEntry]) -> list[str]:
    asked: dict[str, datetime] = {}
    rows = []
    for e in timeline:
        draft = str(e.data.get("draft_id", ""))
        if e.kind == "approval_requested":
            asked.setdefault(draft, e.at)
        elif e.kind in ("approval_approved", "approval_rejected", "approval_timed_out") and draft in asked:
            outcome = {"approval_approved": "approved", "approval_rejected": "rejected"}.get(e.kind, "timed out")
            who = e.actor if e.kind != "approval_timed_out" else f"policy: {e.data.get('action', '')}"
            rows.append(
                f"| {_cell(draft)} | {format_utc(asked[draft])} | {outcome} | {_cell(who)} | "
                f"{_span(e.at - asked[draft])} |"
            )
    if not rows:
        return []
    return ["| draft | asked | outcome | by | waited |", "|---|---|---|---|---|", *rows]
