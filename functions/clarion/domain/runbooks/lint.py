"""Message-quality lint: what makes an incident message good, checked before an incident needs it.

* Customer templates of an open incident state the scope, the start time and the next update.
* Every template renders cleanly over the message matrix (:mod:`clarion.domain.runbooks.matrix`):
  no unresolved variable, run-together sentence, doubled preposition, ISO timestamp, plural at odds
  with its number, other-language words, or SMS over the segment budget (real GSM-7 / UCS-2
  arithmetic, :mod:`clarion.domain.messaging.sms`) in any cell.
* Jargon from the configured list is flagged in customer templates.
* A provider's name appears only on the status-page channel; elsewhere "one of our providers".
* Templates use only known variables and compile; every text given per language has each language.
* A message invites a reply only where a reply reaches someone: customer email with
  ``deliveries.email.reply_to`` configured. SNS email and SMS senders accept no replies; the status
  page, chat and social posts have no reply path.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from jinja2 import TemplateSyntaxError, meta

from clarion.domain.enums import Audience, Channel, Phase
from clarion.domain.messaging.render import REQUIRED_OPEN, VARIABLES, context_for, environment, render, sample_incident
from clarion.domain.messaging.social import LIMITS, configured, graphemes, social_limit
from clarion.domain.runbooks.matrix import message_matrix
from clarion.domain.runbooks.model import Problem, Runbook

#: "Reply to this email" and its kin, in the shipped languages.
REPLY_INVITATION = re.compile(
    r"\b(?:reply|respond|write back|answer)\s+(?:to\s+)?(?:this|our|the)\s+(?:e-?mail|message|text|sms)"
    r"|\b(?:just|hit|press)\s+reply\b|\breply\s+(?:here|to us)\b"
    # usted's imperative, the infinitive ("puede responder") and the forms with "nos"
    r"|\b(?:responda|responder|resp[oó]ndanos|respondernos|conteste|contestar|cont[eé]stenos|contestarnos)"
    r"\s+(?:a\s+)?(?:este|nuestro|el)\s+(?:correo|mensaje|e-?mail|sms)",
    re.IGNORECASE,
)


def reply_path(runbook: Runbook, audience: Audience, channel: Channel) -> bool:
    """Whether a reply to this audience's messages on ``channel`` reaches a person."""
    email = runbook.settings.deliveries.email
    return audience is Audience.CUSTOMERS and channel is Channel.EMAIL and bool(email and email.reply_to)


def _variables(source: str) -> set[str]:
    return set(meta.find_undeclared_variables(environment().parse(source)))


def _check_source(section: str, loc: tuple[str | int, ...], source: str) -> tuple[set[str], list[Problem]]:
    try:
        used = _variables(source)
    except TemplateSyntaxError as exc:
        return set(), [
            Problem(
                section=section,
                loc=loc,
                message=f"template syntax error (template line {exc.lineno}): {exc.message}",
            )
        ]
    unknown = sorted(used - VARIABLES.keys())
    if unknown:
        return used, [
            Problem(
                section=section,
                loc=loc,
                message=f"unknown variable(s) {', '.join(unknown)}; known: {', '.join(sorted(VARIABLES))}",
            )
        ]
    return used, []


def lint(runbook: Runbook) -> list[Problem]:
    problems: list[Problem] = []
    settings = runbook.settings
    jargon = [(word, re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)) for word in settings.lint.jargon]
    providers = sorted(runbook.providers)

    for lang, phases in runbook.templates.items():
        for phase, audiences in phases.items():
            section = f"templates/{lang}/{phase.value}"
            for audience, channels in audiences.items():
                for channel, tpl in channels.items():
                    base: tuple[str | int, ...] = (audience.value, channel.value)
                    used: set[str] = set()
                    broken = False
                    for part, source in (("subject", tpl.subject), ("body", tpl.body)):
                        if source is None:
                            continue
                        part_used, found = _check_source(section, (*base, part), source)
                        used |= part_used
                        broken = broken or bool(found)
                        problems.extend(found)
                        lowered = source.lower()
                        invitation = REPLY_INVITATION.search(source)
                        if invitation and not reply_path(runbook, audience, channel):
                            problems.append(
                                Problem(
                                    section=section,
                                    loc=(*base, part),
                                    message=f"invites a reply ({invitation.group(0)!r}) but no reply reaches anyone "
                                    f"on {channel.value}: SNS and SMS senders accept no replies. Point to the status "
                                    "page or a contact instead, or configure deliveries.email.reply_to for SES email",
                                )
                            )
                        if channel is not Channel.STATUS_PAGE:
                            for name in providers:
                                if name.lower() in lowered:
                                    problems.append(
                                        Problem(
                                            section=section,
                                            loc=(*base, part),
                                            message=f"names the provider {name!r}; only the status page may. "
                                            "Use {{ provider }}, which reads 'one of our providers' here",
                                        )
                                    )
                        if audience is Audience.CUSTOMERS:
                            for word, pattern in jargon:
                                if pattern.search(source):
                                    problems.append(
                                        Problem(
                                            section=section,
                                            loc=(*base, part),
                                            message=f"jargon for customers: {word!r}",
                                            level="warning",
                                        )
                                    )
                    if broken:
                        continue
                    if audience is Audience.CUSTOMERS and phase.is_open_incident:
                        for what, names in REQUIRED_OPEN.items():
                            if not used & set(names):
                                problems.append(
                                    Problem(
                                        section=section,
                                        loc=(*base, "body"),
                                        message=f"does not state the {what}: use {' or '.join(names)}",
                                    )
                                )
                    if channel is Channel.SOCIAL and social_limit(settings.deliveries) is not None:
                        problems.extend(_social_length(runbook, section, base, phase, audience, lang))
    if not any(p.level == "error" for p in problems):
        problems.extend(message_matrix(runbook))
    problems.extend(_languages(runbook))
    problems.extend(_providers_in_data(runbook, providers))
    return problems


def _providers_in_data(runbook: Runbook, providers: list[str]) -> list[Problem]:
    """Workarounds and titles reach every channel, so they may not name a provider either."""
    out: list[Problem] = []

    def check(section: str, loc: tuple[str | int, ...], text: object) -> None:
        values = text.values() if isinstance(text, dict) else [text]
        for value in values:
            for name in providers:
                if isinstance(value, str) and name.lower() in value.lower():
                    out.append(
                        Problem(
                            section=section,
                            loc=loc,
                            message=f"names the provider {name!r}, and this text reaches every channel; "
                            "only the status page may name a provider",
                        )
                    )

    for i, c in enumerate(runbook.components.components):
        check("components", ("components", i, "workaround"), c.workaround)
    for i, r in enumerate(runbook.rules.rules):
        check("rules", ("rules", i, "title"), r.title)
    return out


_SAMPLE_NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


def _social_length(
    runbook: Runbook,
    section: str,
    base: tuple[str | int, ...],
    phase: Phase,
    audience: Audience,
    lang: str,
) -> list[Problem]:
    """Social posts fit the strictest configured network (Mastodon 500, Bluesky 300 graphemes) for
    every rule's components, with a short note from a person."""
    d = runbook.settings.deliveries
    limit = social_limit(d)
    assert limit is not None
    networks = [n for n in configured(d) if LIMITS[n] == limit]
    worst: tuple[int, list[str]] | None = None
    for comps in [list(rule.components) for rule in runbook.rules.rules]:
        incident = sample_incident(runbook, comps, _SAMPLE_NOW)
        ctx = context_for(runbook, incident, lang, Channel.SOCIAL, now=_SAMPLE_NOW)
        ctx["cause"] = ctx["cause"] or "x" * 40
        length = graphemes(render(runbook, phase, audience, Channel.SOCIAL, lang, ctx).body)
        if worst is None or length > worst[0]:
            worst = (length, comps)
    if worst is None or worst[0] <= limit:
        return []
    return [
        Problem(
            section=section,
            loc=(*base, "body"),
            message=f"the post has {worst[0]} characters, over {' and '.join(networks)}'s limit of {limit}, "
            f"when it names {', '.join(worst[1])}",
        )
    ]


def _languages(runbook: Runbook) -> list[Problem]:
    langs = set(runbook.settings.languages)
    out: list[Problem] = []

    def check(section: str, loc: tuple[str | int, ...], text: object) -> None:
        if isinstance(text, dict):
            missing = sorted(langs - text.keys())
            if missing:
                out.append(Problem(section=section, loc=loc, message=f"missing language(s): {', '.join(missing)}"))

    for i, g in enumerate(runbook.components.groups):
        check("components", ("groups", i, "name"), g.name)
        check("components", ("groups", i, "description"), g.description)
    for i, c in enumerate(runbook.components.components):
        for fld in ("name", "description", "workaround"):
            check("components", ("components", i, fld), getattr(c, fld))
    for i, r in enumerate(runbook.rules.rules):
        check("rules", ("rules", i, "title"), r.title)
    return out
