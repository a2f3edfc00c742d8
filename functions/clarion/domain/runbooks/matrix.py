"""The message matrix: every template of every phase, audience, channel and language rendered over a
matrix of contexts, and the text customers would read checked for the defects a reviewer catches.

Contexts: 1, 2 and 5 components (the longest names, the worst case for SMS); incidents lasting 1, 59
and 90 minutes; with and without workaround, cause, expected resolution, a named provider and the
drill flag; each update cadence the policies use. Defect classes:

* ``unresolved`` — a variable that does not resolve, or template syntax left in the text;
* ``run-together`` — sentences glued together ("…EST.Bank transfer…"), usually a ``{% endif %}`` at
  the end of a line whose newline Jinja's ``trim_blocks`` removed;
* ``punctuation`` — doubled or stray punctuation ("queue..", "Regions: .", " ,"), nested parentheses;
* ``doubled-preposition`` — two prepositions in a row ("by in about 2 hours", "antes del de") or a
  word repeated;
* ``iso-timestamp`` — "2026-11-23" or "06:58:00" in customer text: times are for people, in their zone;
* ``plural`` — a number that disagrees with its noun ("1 minutes", "tras 1 minutos", "5 minute");
* ``other-language`` — words of another configured language in a template's own text (a small
  stop-word list per language);
* ``sms-budget`` — an SMS over ``sms.max_segments`` in any cell of the matrix.

Each problem names the template's file and the line inside it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, meta

from clarion.domain.enums import Audience, Channel, ComponentStatus, IncidentStatus, Phase, Severity
from clarion.domain.incident import Incident
from clarion.domain.messaging.i18n import unnamed_provider
from clarion.domain.messaging.render import compile_template, context_for, environment
from clarion.domain.messaging.sms import count_segments
from clarion.domain.runbooks.model import Problem, Runbook, Template, localized

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
COMPONENT_COUNTS = (1, 2, 5)
DURATIONS = (timedelta(minutes=1), timedelta(minutes=59), timedelta(minutes=90))

# Samples of what a person types, per language; other languages get a neutral filler of the same length.
_CAUSE = {"en": "a configuration change to the payment gateway", "es": "un cambio de configuración en la pasarela"}
_ETA = {"en": "in about 2 hours", "es": "en unas 2 horas"}
_IMPACT = {"en": "sign-in may fail for a few seconds", "es": "el inicio de sesión puede fallar unos segundos"}
_FILLER = "x" * 40

#: Small stop-word lists: a template written in one language should hold none of another's.
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "with",
            "is",
            "are",
            "we",
            "our",
            "you",
            "your",
            "have",
            "will",
            "since",
            "until",
            "of",
            "to",
            "in",
            "for",
            "on",
            "by",
            "what",
            "please",
            "thank",
            "after",
            "before",
            "from",
            "it",
            "this",
            "that",
            "be",
            "been",
            "has",
            "was",
            "were",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "y",
            "con",
            "del",
            "que",
            "es",
            "son",
            "nuestro",
            "nuestra",
            "nuestros",
            "nuestras",
            "usted",
            "su",
            "sus",
            "desde",
            "hasta",
            "por",
            "para",
            "una",
            "está",
            "están",
            "hemos",
            "ya",
            "se",
            "lo",
            "al",
            "le",
            "gracias",
        ]
    ),
}
PREPOSITIONS: dict[str, frozenset[str]] = {
    "en": frozenset(["by", "in", "at", "on", "for", "of", "from", "since", "until", "with", "to", "into"]),
    "es": frozenset(["de", "del", "a", "al", "en", "por", "para", "con", "desde", "hasta", "sin", "tras"]),
}
_PLURAL_NOUNS = {
    "en": ("minute", "hour", "day", "second", "week", "component", "service", "update", "incident", "other"),
    "es": (
        ("minuto", "minutos"),
        ("hora", "horas"),
        ("día", "días"),
        ("segundo", "segundos"),
        ("semana", "semanas"),
        ("componente", "componentes"),
        ("servicio", "servicios"),
        ("actualización", "actualizaciones"),
        ("incidente", "incidentes"),
    ),
}

_URL = re.compile(r"https?://\S+")
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
_LEFTOVER = re.compile(r"{{|}}|{%|%}")
_RUN_TOGETHER = re.compile(r"(?<=[^\W_])[.!?;:,](?=[^\W\d_])")
_PUNCTUATION = re.compile(r"\.\.(?!\.)|,,|[,;:]\s*[.,;:]|\s+[.,;:!?](?=\s|$)|\(\s*\)|\([^()\n]*\(")
_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}:\d{2}\b|\d{2}:\d{2}\s*UTC\b|T\d{2}:\d{2}")
_ONE = r"(?<![\d.,:])\b1\s+"
_MANY = r"(?<![\d.,:])\b(?:0|[2-9]|\d{2,})\s+"


@lru_cache(maxsize=16)
def _plural_patterns(language: str) -> tuple[re.Pattern[str], ...]:
    nouns = _PLURAL_NOUNS.get(language.split("-")[0])
    if nouns is None:
        return ()
    pairs = [(n, n + "s") if isinstance(n, str) else n for n in nouns]
    singular = "|".join(re.escape(s) for s, _ in pairs)
    plural = "|".join(re.escape(p) for _, p in pairs)
    return (
        re.compile(rf"{_ONE}(?:{plural})\b", re.IGNORECASE),
        re.compile(rf"{_MANY}(?:{singular})\b", re.IGNORECASE),
    )


@dataclass(frozen=True)
class Cell:
    """One context of the matrix, described for the person reading the problem."""

    components: tuple[str, ...]
    duration: timedelta
    workaround: bool
    cause: bool
    eta: bool
    provider: bool
    drill: bool
    cadence: timedelta
    window_started: bool = False

    def describe(self) -> str:
        flags = [
            name
            for name, on in (
                ("workaround", self.workaround),
                ("cause", self.cause),
                ("ETA", self.eta),
                ("provider", self.provider),
                ("drill", self.drill),
                ("the window under way", self.window_started),
            )
            if on
        ]
        minutes = int(self.duration.total_seconds() // 60)
        return f"{len(self.components)} component(s) ({', '.join(self.components)}), {minutes} min" + (
            f", with {', '.join(flags)}" if flags else ""
        )


def _component_sets(runbook: Runbook, language: str, channel: Channel) -> list[tuple[str, ...]]:
    """The longest names, 1, 2 and 5 of them; for SMS also every rule's own set, so the budget holds
    for every real alarm."""
    default = runbook.settings.default_language
    by_length = sorted(
        runbook.components.components,
        key=lambda c: (-len(localized(c.name, language, default)), c.id),
    )
    counts = COMPONENT_COUNTS
    out: list[tuple[str, ...]] = []
    for n in counts:
        chosen = tuple(c.id for c in by_length[:n])
        if chosen and chosen not in out:
            out.append(chosen)
    if channel is Channel.SMS:
        for rule in runbook.rules.rules:
            if tuple(rule.components) not in out:
                out.append(tuple(rule.components))
    return out


def _cadences(runbook: Runbook) -> list[timedelta]:
    found = sorted({p.update_every for p in runbook.policies.policies.values() if p.update_every})
    return found or [timedelta(hours=1)]


_ENDED = (Phase.RESOLVED, Phase.POSTMORTEM, Phase.CHECKIN, Phase.MAINTENANCE_COMPLETED)


def _used(source: str) -> set[str]:
    try:
        return set(meta.find_undeclared_variables(environment().parse(source)))
    except TemplateError:
        return set()


def _incident(runbook: Runbook, components: tuple[str, ...], duration: timedelta, phase: Phase) -> Incident:
    first = runbook.component(components[0])
    default = runbook.settings.default_language
    ended = phase in _ENDED
    return Incident(
        id=f"{first.group}-20261123T140500-0a1b2c3d",
        group=first.group,
        title={lang: localized(first.name, lang, default) for lang in runbook.settings.languages},
        status=IncidentStatus.RESOLVED if ended else IncidentStatus.INVESTIGATING,
        severity=Severity.SEV2,
        components=dict.fromkeys(components, ComponentStatus.MAJOR_OUTAGE),
        started_at=NOW - duration if ended else NOW - timedelta(minutes=12),
        created_at=NOW - duration,
        updated_at=NOW,
        resolved_at=NOW if ended else None,
        scheduled_for=NOW + timedelta(days=2),
        scheduled_until=NOW + timedelta(days=2) + duration,
    )


def _sample(table: dict[str, str], language: str) -> str:
    return table.get(language.split("-")[0], _FILLER)


def _contexts(runbook: Runbook, language: str, channel: Channel, phase: Phase) -> list[tuple[Cell, dict[str, Any]]]:
    default = runbook.settings.default_language
    workarounds = [localized(c.workaround, language, default) for c in runbook.components.components if c.workaround]
    providers = sorted(runbook.providers) or ["Example Provider"]
    cadences = _cadences(runbook)
    out: list[tuple[Cell, dict[str, Any]]] = []
    for comps in _component_sets(runbook, language, channel):
        for i, duration in enumerate(DURATIONS):
            cadence = cadences[i % len(cadences)]
            base = context_for(
                runbook,
                _incident(runbook, comps, duration, phase),
                language,
                channel,
                now=NOW,
                next_update_in=cadence,
                cause={},
                eta={},
            )
            for wk, cause, eta, provider, drill in itertools.product((False, True), repeat=5):
                ctx = dict(base)
                ctx["workaround"] = max(workarounds, key=len) if wk and workarounds else ""
                ctx["cause"] = _sample(_CAUSE, language) if cause else ""
                ctx["eta"] = _sample(_ETA, language) if eta else ""
                ctx["impact"] = _sample(_IMPACT, language) if eta else ""
                ctx["provider"] = (
                    providers[0] if provider and channel is Channel.STATUS_PAGE else unnamed_provider(language)
                )
                ctx["drill"] = drill
                ctx["window_started"] = started = i % 2 == 1  # a window cancelled before or after its start
                out.append((Cell(comps, duration, wk, cause, eta, provider, drill, cadence, started), ctx))
    return out


def _locate(source: str, rendered: str, pos: int) -> int | None:
    """The line of ``source`` (0-based) that most likely wrote ``rendered[pos]``: the one with literal
    text nearest to that position in the rendered text."""
    best, best_distance = None, len(rendered) + 1
    for i, src in enumerate(source.splitlines()):
        for fragment in (f.strip() for f in _JINJA.split(src)):
            if len(fragment) < 3:
                continue
            start = rendered.find(fragment)
            while start >= 0:
                end = start + len(fragment)
                distance = 0 if start <= pos < end else min(abs(pos - start), abs(pos - end))
                if distance < best_distance:
                    best, best_distance = i, distance
                start = rendered.find(fragment, start + 1)
    return best


def _snippet(text: str, start: int, end: int) -> str:
    left = max(0, start - 25)
    right = min(len(text), end + 25)
    return ("…" if left else "") + text[left:right].replace("\n", "⏎") + ("…" if right < len(text) else "")


def _text_problems(language: str, text: str) -> list[tuple[str, int, int, str]]:
    """(class, start, end, detail) for each defect in one rendered text."""
    found: list[tuple[str, int, int, str]] = []
    plain = _URL.sub(lambda m: "\x00" * len(m.group()), text)  # same length: positions still match
    for m in _LEFTOVER.finditer(plain):
        found.append(("unresolved", m.start(), m.end(), "template syntax left in the text"))
    for m in _RUN_TOGETHER.finditer(plain):
        if plain[m.start()] in ":,;" and plain[m.end() : m.end() + 1].islower():
            continue  # "a:b" inside a token (emoji codes such as :white_check_mark:) is not prose
        if plain[m.start()] == "." and plain[m.end() : m.end() + 1].islower():
            continue  # "a.m." style abbreviations
        found.append(("run-together", m.start(), m.end(), "sentences run together (no space after the punctuation)"))
    for m in _PUNCTUATION.finditer(plain):
        found.append(("punctuation", m.start(), m.end(), "doubled, stray or nested punctuation"))
    preps = PREPOSITIONS.get(language.split("-")[0], frozenset())
    words = list(_WORD.finditer(plain))
    for a, b in itertools.pairwise(words):
        gap = plain[a.end() : b.start()]
        if gap.strip():
            continue
        wa, wb = a.group().lower(), b.group().lower()
        if wa == wb:
            found.append(("doubled-preposition", a.start(), b.end(), f"word repeated: {wa!r}"))
        elif wa in preps and wb in preps:
            found.append(("doubled-preposition", a.start(), b.end(), f"two prepositions in a row: '{wa} {wb}'"))
    for m in _ISO.finditer(plain):
        found.append(("iso-timestamp", m.start(), m.end(), "a machine timestamp: say times in the reader's zone"))
    for pattern in _plural_patterns(language):
        for m in pattern.finditer(plain):
            found.append(("plural", m.start(), m.end(), f"number and noun disagree: {m.group()!r}"))
    return found


def _other_language(
    section: str, loc: tuple[str | int, ...], language: str, source: str, langs: list[str]
) -> list[Problem]:
    own = STOP_WORDS.get(language.split("-")[0], frozenset())
    out: list[Problem] = []
    for i, line in enumerate(source.splitlines()):
        literal = _URL.sub(" ", _JINJA.sub(" ", line))
        words = {w.lower() for w in _WORD.findall(literal)}
        for other in langs:
            if other.split("-")[0] == language.split("-")[0]:
                continue
            foreign = sorted((words & STOP_WORDS.get(other.split("-")[0], frozenset())) - own)
            if foreign:
                out.append(
                    Problem(
                        section=section,
                        loc=loc,
                        line_offset=i,
                        message=f"other-language: words of '{other}' in a '{language}' template: {', '.join(foreign)}",
                    )
                )
    return out


Contexts = list[tuple[Cell, dict[str, Any]]]


def message_matrix(runbook: Runbook) -> list[Problem]:
    """Every defect of every template over the matrix of contexts; one problem per template part
    and defect, with the first context that shows it."""
    problems: list[Problem] = []
    langs = list(runbook.templates)
    cache: dict[tuple[str, Channel, bool], Contexts] = {}
    for lang, phases in runbook.templates.items():
        for phase, audiences in phases.items():
            section = f"templates/{lang}/{phase.value}"
            ended = phase in _ENDED
            for audience, channels in audiences.items():
                for channel, tpl in channels.items():
                    key = (lang, channel, ended)
                    if key not in cache:
                        cache[key] = _contexts(runbook, lang, channel, phase)
                    problems.extend(
                        _check_template(runbook, section, lang, (audience, channel), tpl, langs, cache[key])
                    )
    return problems


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _check_template(
    runbook: Runbook,
    section: str,
    lang: str,
    route: tuple[Audience, Channel],
    tpl: Template,
    langs: list[str],
    contexts: Contexts,
) -> list[Problem]:
    audience, channel = route
    budget = runbook.settings.sms.max_segments
    base: tuple[str | int, ...] = (audience.value, channel.value)
    out: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    worst_sms: tuple[int, Any, Cell] | None = None
    parts = [(name, source) for name, source in (("subject", tpl.subject), ("body", tpl.body)) if source]
    for name, source in parts:
        out.extend(_other_language(section, (*base, name), lang, source, langs))
    used = {name: sorted(_used(source)) for name, source in parts}
    rendered_before: set[tuple[str, str]] = set()
    distinct: set[tuple[str, tuple[Any, ...]]] = set()
    for cell, ctx in contexts:
        for name, source in parts:
            loc = (*base, name)
            values = (name, tuple(_frozen(ctx.get(v)) for v in used[name]))
            if values in distinct:
                continue  # the same values for every variable the template reads: the same text
            distinct.add(values)
            try:
                text = compile_template(source).render(ctx).strip()
            except TemplateError as exc:
                key = ("unresolved", name, str(exc))
                if key not in seen:
                    seen.add(key)
                    out.append(Problem(section=section, loc=loc, message=f"unresolved: {exc} ({cell.describe()})"))
                continue
            if (name, text) in rendered_before:
                continue
            rendered_before.add((name, text))
            for cls, start, end, detail in _text_problems(lang, text):
                key = (cls, name, detail)
                if key in seen:
                    continue
                seen.add(key)
                out.append(
                    Problem(
                        section=section,
                        loc=loc,
                        line_offset=_locate(source, text, start),
                        message=f"{cls}: {detail}: {_snippet(text, start, end)!r} ({cell.describe()})",
                    )
                )
            if channel is Channel.SMS and name == "body":
                count = count_segments(text)
                if worst_sms is None or count.segments > worst_sms[0]:
                    worst_sms = (count.segments, count, cell)
    if worst_sms is not None and worst_sms[0] > budget:
        _, count, cell = worst_sms
        why = f" (UCS-2 because of {count.offending!r})" if count.encoding == "UCS-2" else ""
        out.append(
            Problem(
                section=section,
                loc=(*base, "body"),
                message=f"sms-budget: SMS takes {count.segments} segments, over the budget of {budget}: "
                f"{count.units} {count.encoding} units{why} ({cell.describe()})",
            )
        )
    return out


def scan_text(language: str, text: str, languages: list[str]) -> list[str]:
    """Every defect the matrix looks for in one finished text (a sent message, a page's words),
    including words of another of ``languages``: for checking what customers actually received."""
    found = [
        f"{cls}: {detail}: {_snippet(text, start, end)!r}" for cls, start, end, detail in _text_problems(language, text)
    ]
    own = STOP_WORDS.get(language.split("-")[0], frozenset())
    words = {w.lower() for w in _WORD.findall(_URL.sub(" ", text))}
    for other in languages:
        if other.split("-")[0] == language.split("-")[0]:
            continue
        foreign = sorted((words & STOP_WORDS.get(other.split("-")[0], frozenset())) - own)
        if foreign:
            found.append(f"other-language: words of '{other}' in '{language}' text: {', '.join(foreign)}")
    return found
