"""Drafts: every message of one phase, rendered, approved (or not), then published by route.

A *route* is one delivery, sent exactly once per draft (docs/design.md, decision 3):

* ``status_page`` — the page update, all languages at once;
* ``sns:<audience>`` — the audience's SNS topic, one ``PublishBatch`` entry per language with
  ``MessageStructure=json``: email subscribers get the email text, SMS subscribers the SMS text;
* ``chat:technical`` — the technical chat message;
* ``email:support`` — a copy of the customer email to the support manager role, so support answers
  tickets the same way;
* where ``clarion.yaml`` configures them (``deliveries``): ``email-customers:<language>`` (SES),
  ``sms:``, ``voice:``, ``push:``, ``whatsapp:<language>`` (AWS End User Messaging, with the SMS text)
  ``webhook:<audience>:<name>`` (Slack, Teams or a signed JSON webhook; chat text for the
  technical audience, social text for customers) and ``social:mastodon:<language>``,
  ``social:bluesky:<language>`` (the customer social text, posted to the account).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from clarion.domain.enums import Audience, Channel, Phase
from clarion.domain.incident import Incident
from clarion.domain.messaging.ledger import OPENINGS, AudienceLedger, needs_approval, opening_phase, plan
from clarion.domain.messaging.render import context_for, render
from clarion.domain.messaging.sms import count_segments
from clarion.domain.runbooks.model import Deliveries, Runbook


class DraftMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    audience: Audience
    channel: Channel
    language: str
    subject: str | None = None
    body: str
    opening: bool = False  # the opening sent to routes never told, in place of this phase's text

    @property
    def key(self) -> str:
        return ("opening/" if self.opening else "") + f"{self.audience.value}/{self.channel.value}/{self.language}"


class Draft(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    incident_id: str
    phase: Phase
    created_at: datetime
    messages: list[DraftMessage]
    routes: list[str]
    approval_required: bool
    status: str = "drafted"  # drafted, approved, rejected, held, published
    approved_by: str | None = None
    edits: dict[str, str] = Field(default_factory=dict)  # message key -> the approver's text
    holding_statement: bool = False
    approval_ids: list[str] = Field(default_factory=list)  # requests sent for this draft, oldest first
    next_update_at: datetime | None = None  # what the messages promise; the live page shows it
    opening_routes: list[str] = Field(default_factory=list)  # routes never told: they get the opening
    opening_phase: Phase | None = None
    left_out: list[str] = Field(default_factory=list)  # policy routes never told, which this phase skips

    def for_route(self, route: str) -> Draft:
        """What ``route`` receives: the opening where the route was never told, else this phase's text."""
        opening = route in self.opening_routes
        messages = [m for m in self.messages if m.opening is opening and on_route(route, m)]
        phase = self.opening_phase if opening and self.opening_phase else self.phase
        return self.model_copy(update={"messages": messages, "phase": phase})

    @property
    def publishable(self) -> bool:
        """Only what a person approved, or the policy pre-approved, ever leaves."""
        return not self.approval_required or self.status in ("approved", "published")

    def message(self, audience: Audience, channel: Channel, language: str) -> DraftMessage | None:
        for m in self.messages:
            if m.audience is audience and m.channel is channel and m.language == language:
                return m
        return None


class EditProblem(ValueError):
    pass


def build_draft(
    runbook: Runbook,
    incident: Incident,
    phase: Phase,
    draft_id: str,
    now: datetime,
    *,
    next_update_in: timedelta | None = None,
    cause: dict[str, str] | None = None,
    eta: dict[str, str] | None = None,
    ledger: AudienceLedger | None = None,
) -> Draft:
    """The messages of ``phase``, routed by the audience ledger (:mod:`clarion.domain.messaging.ledger`).
    Without a ledger nobody was told yet: a follow-up opens every route, a closing goes nowhere."""
    policy = runbook.policy(incident.severity)
    settings = runbook.settings
    told = ledger or AudienceLedger()
    policy_pairs = [
        (audience, channel)
        for audience in policy.audiences
        for channel in settings.audiences.get(audience, [])
        if channel in policy.channels and (channel is not Channel.STATUS_PAGE or phase.on_status_page)
    ]

    def rendered(which: Phase, pairs: list[tuple[Audience, Channel]], opening: bool = False) -> list[DraftMessage]:
        out = []
        for audience, channel in pairs:
            for lang in settings.languages:
                ctx = context_for(
                    runbook, incident, lang, channel, now=now, next_update_in=next_update_in, cause=cause, eta=eta
                )
                msg = render(runbook, which, audience, channel, lang, ctx)
                subject, body = msg.subject, msg.body
                if incident.drill:  # every message of a drill says so, whoever reads it
                    subject = f"[DRILL] {subject}" if subject else subject
                    body = f"[DRILL] {body}"
                out.append(
                    DraftMessage(
                        audience=audience, channel=channel, language=lang, subject=subject, body=body, opening=opening
                    )
                )
        return out

    policy_routes = routes_for(
        rendered(phase, policy_pairs), settings.languages, settings.deliveries, settings.default_language
    )
    route_plan = plan(phase, policy_routes, told)
    if not phase.on_status_page:  # a check-in is a message to people, never a page update
        route_plan = replace(route_plan, routes=[r for r in route_plan.routes if r != "status_page"])
    extra = sorted(  # told before the severity changed: they keep hearing
        (a, c) for a, c in told.pairs - set(policy_pairs) if c is not Channel.STATUS_PAGE or phase.on_status_page
    )
    own = [
        m
        for m in rendered(phase, policy_pairs + extra)
        if phase in OPENINGS or any(on_route(r, m) for r in route_plan.routes)
    ]
    first = opening_phase(phase, incident.status) if route_plan.openings else None
    openings = (
        [m for m in rendered(first, policy_pairs, opening=True) if any(on_route(r, m) for r in route_plan.openings)]
        if first
        else []
    )
    routes = route_plan.routes + route_plan.openings
    cadence = next_update_in or policy.update_every
    return Draft(
        id=draft_id,
        incident_id=incident.id,
        phase=phase,
        created_at=now,
        next_update_at=now + cadence if cadence and phase.is_open_incident and incident.is_open else None,
        messages=own + openings,
        routes=routes,
        approval_required=bool(routes)
        and needs_approval(phase, policy.approval.required, policy.approval.pre_approved, bool(openings)),
        opening_routes=route_plan.openings,
        opening_phase=first,
        left_out=route_plan.left_out,
    )


def on_route(route: str, m: DraftMessage) -> bool:
    """Whether message ``m`` travels on ``route``."""
    audience, channel, language = m.audience, m.channel, m.language
    parts = route.split(":")
    if parts[0] == "status_page":
        return channel is Channel.STATUS_PAGE
    if parts[0] == "sns":
        return audience.value == parts[1] and channel in (Channel.EMAIL, Channel.SMS)
    if parts[0] == "chat":
        return audience is Audience.TECHNICAL and channel is Channel.CHAT
    if parts[0] in ("email", "email-customers"):
        return (
            audience is Audience.CUSTOMERS
            and channel is Channel.EMAIL
            and (parts[0] == "email" or language == parts[1])
        )
    if parts[0] in ("sms", "voice", "push", "whatsapp"):
        return audience is Audience.CUSTOMERS and channel is Channel.SMS and language == parts[1]
    if parts[0] == "social":
        return audience is Audience.CUSTOMERS and channel is Channel.SOCIAL and language == parts[2]
    if parts[0] == "webhook":
        wanted = Channel.CHAT if parts[1] == Audience.TECHNICAL.value else Channel.SOCIAL
        return audience.value == parts[1] and channel is wanted
    return False


def routes_for(
    messages: list[DraftMessage],
    languages: list[str],
    deliveries: Deliveries | None = None,
    default_language: str | None = None,
) -> list[str]:
    present = {(m.audience, m.channel) for m in messages}
    d = deliveries or Deliveries()
    routes: list[str] = []
    if (Audience.CUSTOMERS, Channel.STATUS_PAGE) in present:
        routes.append("status_page")
    for audience in Audience:
        if (audience, Channel.EMAIL) in present or (audience, Channel.SMS) in present:
            routes.append(f"sns:{audience.value}")
    if (Audience.TECHNICAL, Channel.CHAT) in present:
        routes.append("chat:technical")
    if (Audience.CUSTOMERS, Channel.EMAIL) in present:
        routes.append("email:support")
        if d.email:
            routes.extend(f"email-customers:{lang}" for lang in languages)
    if (Audience.CUSTOMERS, Channel.SMS) in present:
        for name in ("sms", "voice", "push", "whatsapp"):
            if getattr(d, name) is not None:
                routes.extend(f"{name}:{lang}" for lang in languages)
    if (Audience.CUSTOMERS, Channel.SOCIAL) in present:
        for network in ("mastodon", "bluesky"):
            social = getattr(d, network)
            if social is not None:
                routes.extend(
                    f"social:{network}:{lang}" for lang in (social.languages or [default_language or languages[0]])
                )
    for hook in d.webhooks:
        text = Channel.CHAT if hook.audience is Audience.TECHNICAL else Channel.SOCIAL
        if (hook.audience, text) in present:
            routes.append(f"webhook:{hook.audience.value}:{hook.name}")
    return routes


def apply_edits(
    draft: Draft,
    edits: dict[str, str],
    max_sms_segments: int,
    *,
    subjects: dict[str, str] | None = None,
    social_limit: int | None = None,
) -> Draft:
    """The approver's texts (and email subjects) in place of the drafted ones; SMS texts must fit the
    budget, social posts the strictest configured network's length. A subject edit is kept in
    ``edits`` under ``subject:<key>``."""
    keys = {m.key: m for m in draft.messages}
    clean: dict[str, str] = {}
    for key, text in edits.items():
        if key not in keys:
            raise EditProblem(f"no message {key!r} in this draft")
        text = text.strip().replace("\r\n", "\n")
        if not text:
            raise EditProblem(f"{key}: the text is empty")
        if len(text) > 10_000:
            raise EditProblem(f"{key}: the text is longer than 10,000 characters")
        if keys[key].channel is Channel.SMS:
            count = count_segments(text)
            if not count.fits(max_sms_segments):
                raise EditProblem(
                    f"{key}: the SMS takes {count.segments} segments ({count.units} {count.encoding} units); "
                    f"the budget is {max_sms_segments}"
                )
        if keys[key].channel is Channel.SOCIAL and social_limit is not None:
            from clarion.domain.messaging.social import graphemes

            length = graphemes(text)
            if length > social_limit:
                raise EditProblem(
                    f"{key}: the post has {length} characters; social networks here take at most {social_limit}"
                )
        if text != keys[key].body:
            clean[key] = text
    new_subjects: dict[str, str] = {}
    for key, subject in (subjects or {}).items():
        if key not in keys or keys[key].subject is None:
            raise EditProblem(f"no message with a subject {key!r} in this draft")
        subject = " ".join(subject.split())
        if not subject:
            raise EditProblem(f"{key}: the subject is empty")
        if len(subject) > 200:
            raise EditProblem(f"{key}: the subject is longer than 200 characters")
        if subject != keys[key].subject:
            new_subjects[key] = subject
    messages = []
    for m in draft.messages:
        update: dict[str, str] = {}
        if m.key in clean:
            update["body"] = clean[m.key]
        if m.key in new_subjects:
            update["subject"] = new_subjects[m.key]
        messages.append(m.model_copy(update=update) if update else m)
    recorded = {**clean, **{f"subject:{k}": v for k, v in new_subjects.items()}}
    return draft.model_copy(update={"messages": messages, "edits": {**draft.edits, **recorded}})
