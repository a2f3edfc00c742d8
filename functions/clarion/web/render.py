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


def audience_label(value: str) -> str:
    return AUDIENCES.get(value, value.replace("_", " ").capitalize())


def channel_label(value: str) -> str:
    return CHANNELS.get(value, value.replace("_", " ").capitalize())


def language_label(code: str) -> str:
    return LANGUAGES.get(code, code)


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
