"""The few words Clarion itself says (labels, not messages: messages come from runbook templates),
and every date, duration and list in customer text, formatted with Babel (CLDR) in the reader's
language and time zone, never by hand.

Times carry their zone, named the way the language names it: "Nov 23, 2026, 1:58 AM EST",
"23 de noviembre de 2026, 1:58 a. m. (hora de Colombia)". SMS take the short form without the year.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from clarion.domain.enums import ComponentStatus, IncidentStatus, MaintenanceStatus

if TYPE_CHECKING:
    from babel import Locale

# Babel is imported where it is used: the intake needs only the status labels, and its cold start
# should not pay for CLDR.

_STATUS: dict[str, dict[str, str]] = {
    "en": {
        "operational": "Operational",
        "under_maintenance": "Under maintenance",
        "degraded_performance": "Degraded performance",
        "partial_outage": "Partial outage",
        "major_outage": "Major outage",
        "investigating": "Investigating",
        "identified": "Identified",
        "monitoring": "Monitoring",
        "resolved": "Resolved",
        "scheduled": "Scheduled",
        "in_progress": "In progress",
        "verifying": "Verifying",
        "completed": "Completed",
    },
    "es": {
        "operational": "Operativo",
        "under_maintenance": "En mantenimiento",
        "degraded_performance": "Rendimiento reducido",
        "partial_outage": "Interrupción parcial",
        "major_outage": "Interrupción grave",
        "investigating": "En investigación",
        "identified": "Causa identificada",
        "monitoring": "En observación",
        "resolved": "Resuelto",
        "scheduled": "Programado",
        "in_progress": "En curso",
        "verifying": "En verificación",
        "completed": "Completado",
    },
}

_PROVIDER_FALLBACK = {"en": "one of our providers", "es": "uno de nuestros proveedores"}
# What a person's text not written in the reader's language carries: the name of its language.
_UNTRANSLATED = {"en": "{text} (in {language})", "es": "{text} (en {language})"}
# SMS with many components name two and count the rest.
_OTHERS = {"en": "{n} others", "es": "otros {n}"}

# Date skeletons (CLDR): the medium form (email, page, chat, social) carries the year; SMS do not.
_DATE_SKELETON = {"medium": {"es": "yMMMMd"}, "short": {}}
_DEFAULT_SKELETON = {"medium": "yMMMd", "short": "MMMd"}
_ABBREVIATION = re.compile(r"^[A-Z]{2,5}$")
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})


def status_label(status: ComponentStatus | IncidentStatus | MaintenanceStatus, language: str) -> str:
    return _STATUS.get(language, _STATUS["en"]).get(status.value, status.value)


def unnamed_provider(language: str) -> str:
    """What every channel but the status page says instead of a provider's name."""
    return _PROVIDER_FALLBACK.get(language, _PROVIDER_FALLBACK["en"])


def format_utc(at: datetime) -> str:
    """Internal texts only (chat notices to the team, the approval email): '2026-11-23 14:05 UTC'."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_minutes(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() // 60))


@lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@lru_cache(maxsize=256)
def _skeleton(skeleton: str, language: str) -> str:
    """The locale's pattern for a CLDR skeleton (what ``format_skeleton`` looks up on every call)."""
    from babel.dates import match_skeleton

    skeletons = _locale(language).datetime_skeletons
    if skeleton not in skeletons:
        skeleton = match_skeleton(skeleton, skeletons) or skeleton
    return str(skeletons[skeleton].pattern)


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    """An IANA time zone; ``ValueError`` naming it when it does not exist."""
    from babel.dates import get_timezone

    try:
        return get_timezone(name)
    except LookupError:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as 'America/Bogota' or 'UTC'") from None


def zone_label(at: datetime, time_zone: str, language: str) -> str:
    """How the language names the zone at that moment: 'EST', 'UTC', '(hora de Colombia)'."""
    from babel.dates import get_timezone_location, get_timezone_name

    loc = _locale(language)
    local = at.astimezone(zone(time_zone))
    short = get_timezone_name(local, width="short", locale=loc)
    if _ABBREVIATION.match(short):
        return short
    place = get_timezone_location(local, locale=loc)
    if "(" not in place:
        return f"({place})"
    return f"({get_timezone_name(local, width='long', locale=loc)})"


def zone_name(time_zone: str, language: str) -> str:
    """The zone's generic name for a page's legend: 'Eastern Time', 'hora de Colombia', 'UTC'."""
    from babel.dates import get_timezone_name

    if zone(time_zone).utcoffset(datetime(2026, 1, 1)) == timedelta(0) and "UTC" in time_zone.upper():
        return "UTC"
    name = get_timezone_name(zone(time_zone), width="long", zone_variant="generic", locale=_locale(language))
    return str(name)


def format_day(at: datetime, language: str, time_zone: str = "UTC") -> str:
    """The reader's calendar day: 'Nov 23, 2026', '23 de noviembre de 2026'."""
    from babel.dates import format_datetime

    skeleton = _DATE_SKELETON["medium"].get(language.split("-")[0], _DEFAULT_SKELETON["medium"])
    pattern = _skeleton(skeleton, language)
    return format_datetime(at, pattern, tzinfo=zone(time_zone), locale=_locale(language)).translate(_SPACES)


def format_percent(value: float, language: str) -> str:
    """'99.95%', '99,95 %' (CLDR number symbols)."""
    from babel.numbers import format_percent as cldr_percent

    exact = Decimal(f"{value:.2f}").normalize() / 100
    text = cldr_percent(exact, locale=_locale(language), decimal_quantization=False)
    return str(text).translate(_SPACES)


def format_time(at: datetime, language: str, time_zone: str = "UTC", *, short: bool = False) -> str:
    """'Nov 23, 2026, 1:58 AM EST' (medium) or 'Nov 23, 1:58 AM EST' (short, for SMS)."""
    from babel.dates import format_datetime

    loc = _locale(language)
    form = "short" if short else "medium"
    skeleton = _DATE_SKELETON[form].get(language.split("-")[0], _DEFAULT_SKELETON[form])
    tz = zone(time_zone)
    day = format_datetime(at, _skeleton(skeleton, language), tzinfo=tz, locale=loc)
    clock = format_datetime(at, _skeleton("hmm", language), tzinfo=tz, locale=loc)
    return f"{day}, {clock} {zone_label(at, time_zone, language)}".translate(_SPACES)


def format_duration(delta: timedelta, language: str) -> str:
    """'1 minute', '59 minutes', '1 hour and 30 minutes', '1 hora y 30 minutos'."""
    from babel.units import format_unit

    loc = _locale(language)
    minutes = format_minutes(delta)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [
        format_unit(n, unit, length="long", locale=loc)
        for n, unit in ((days, "duration-day"), (hours, "duration-hour"), (mins, "duration-minute"))
        if n
    ]
    return join_list(parts, language).translate(_SPACES)


def join_list(items: list[str], language: str) -> str:
    """'Checkout and Invoicing', 'Pago en línea y Facturación' (CLDR list patterns)."""
    from babel.lists import format_list

    if not items:
        return ""
    return format_list(items, style="standard", locale=_locale(language))


def join_names_short(items: list[str], language: str, keep: int = 1) -> str:
    """For SMS: 'Web app and 2 others' once there are more than ``keep`` + 1 names (so the count is
    never 1: no 'and 1 others' to get wrong)."""
    if len(items) <= keep + 1:
        return join_list(items, language)
    others = _OTHERS.get(language.split("-")[0], _OTHERS["en"]).format(n=len(items) - keep)
    return join_list([*items[:keep], others], language)


def language_name(code: str, in_language: str) -> str:
    """'inglés' for ('en', 'es')."""
    return str(_locale(in_language).languages.get(code.split("-")[0], code))


def mark_untranslated(text: str, source_language: str, reader_language: str) -> str:
    """A person's text sent in a language it was not written in, saying so: 'Fallo (en inglés)'."""
    pattern = _UNTRANSLATED.get(reader_language.split("-")[0], _UNTRANSLATED["en"])
    return pattern.format(text=text, language=language_name(source_language, reader_language))
