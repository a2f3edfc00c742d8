"""Templates of the pages people use (files in ``templates/``, Jinja2 with autoescape: alarm names,
reasons, draft texts and anything a person typed are data, always escaped) and the few labels they
share."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from clarion.domain.messaging.sms import count_segments
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
SCRIPTS = Path(__file__).parent / "scripts"

AUDIENCES = {"customers": "Customers", "technical": "Technical audience"}
CHANNELS = {
    "status_page": "Status page",
    "email": "Email",
    "sms": "SMS",
    "chat": "Chat",
    "social": "Social media",
}
LANGUAGES = {"en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German"}
ROUTES = {
    "status_page": "Status page",
    "sns": "Email and SMS subscribers",
    "chat": "Chat",
    "email": "Support copy (email)",
    "email-customers": "Email",
    "sms": "SMS",
    "voice": "Voice call",
    "push": "Mobile push",
    "whatsapp": "WhatsApp",
    "webhook": "Webhook",
}


def audience_label(value: str) -> str:
    return AUDIENCES.get(value, value.replace("_", " ").capitalize())


def channel_label(value: str) -> str:
    return CHANNELS.get(value, value.replace("_", " ").capitalize())


def language_label(code: str) -> str:
    return LANGUAGES.get(code, code)


def route_kind_label(route: str) -> str:
    """The kind of delivery a route is, in words ("sns:customers" is "Email and SMS subscribers")."""
    kind = route.split(":", 1)[0]
    return ROUTES.get(kind, channel_label(kind))


def route_label(route: str) -> str:
    """One route in words, with what tells it apart from its siblings: the audience of a topic, the
    language of a direct delivery, the name of a webhook."""
    parts = route.split(":")
    kind = route_kind_label(route)
    if parts[0] == "sns" and len(parts) > 1:
        return f"{kind} ({audience_label(parts[1]).lower()})"
    if parts[0] in ("email-customers", "sms", "voice", "push", "whatsapp") and len(parts) > 1:
        return f"{kind} ({language_label(parts[1])})"
    if parts[0] == "webhook" and len(parts) > 2:
        return f"{kind} {parts[2]}"
    return kind


def human_time(at: datetime | None, now: datetime | None = None) -> str:
    """'14:05 UTC' today, 'Mon 23 Nov, 14:05 UTC' on another day: what a person reads at a glance."""
    if at is None:
        return ""
    at = at.astimezone(UTC)
    ref = (now or datetime.now(UTC)).astimezone(UTC)
    if at.date() == ref.date():
        return at.strftime("%H:%M UTC")
    return at.strftime("%a %d %b %Y, %H:%M UTC")


def sms_count(text: str) -> str:
    c = count_segments(text)
    return f"{c.segments} segment{'s' if c.segments != 1 else ''} · {c.units} {c.encoding} characters"


def text_rows(text: str, width: int = 32, most: int = 40) -> int:
    """Rows that show the whole text on a 375 px phone (about 32 characters a line), plus one to type."""
    lines = sum(max(1, -(-len(line) // width)) for line in (text or "").split("\n"))
    return max(2, min(most, lines + 1))


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html", "j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        audience=audience_label,
        channel=channel_label,
        language=language_label,
        when=human_time,
        sms_count=sms_count,
        rows=text_rows,
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


@lru_cache(maxsize=8)
def script(name: str) -> str:
    return (SCRIPTS / name).read_text(encoding="utf-8")
