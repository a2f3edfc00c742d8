"""Public metrics: the CloudWatch series a runbook charts under its components, and what customers
read about them ("median 120 ms, now 118 ms"), per language with CLDR (Babel) number formats.

Fetching lives in ``clarion.adapters.cloudwatch_metrics``; drawing in ``clarion.status_page.charts``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, lru_cache

from clarion.domain.runbooks.model import Component, ComponentMetric, Runbook


@dataclass(frozen=True)
class Window:
    key: str  # "24h", "7d": part of file names and of metrics.json
    span: timedelta
    period: int  # seconds per data point


WINDOWS = (Window("24h", timedelta(hours=24), 300), Window("7d", timedelta(days=7), 3600))


@dataclass(frozen=True)
class Series:
    component_id: str
    metric_id: str
    window: Window
    points: list[tuple[datetime, float]]  # oldest first

    @cached_property
    def values(self) -> list[float]:
        return [v for _, v in self.points]

    @cached_property
    def epochs(self) -> list[int]:
        """Unix seconds of each point (charts and metrics.json both need them)."""
        return [int(at.timestamp()) for at, _ in self.points]


@dataclass(frozen=True)
class Summary:
    median: float
    latest: float
    low: float
    high: float


def summarize(series: Series) -> Summary | None:
    values = series.values
    if not values:
        return None
    return Summary(statistics.median(values), values[-1], min(values), max(values))


@dataclass
class MetricsSnapshot:
    """Every charted series at one moment; missing series are charted as "no data"."""

    fetched_at: datetime
    series: dict[tuple[str, str, str], Series] = field(default_factory=dict)

    def get(self, component_id: str, metric_id: str, window: Window) -> Series:
        found = self.series.get((component_id, metric_id, window.key))
        return found or Series(component_id, metric_id, window, [])

    def add(self, series: Series) -> None:
        self.series[(series.component_id, series.metric_id, series.window.key)] = series


def charted(runbook: Runbook) -> list[tuple[Component, ComponentMetric]]:
    return [(c, m) for c in runbook.components.components for m in c.metrics]


# --- words ----------------------------------------------------------------------------------------

_CLDR_UNITS = {
    "Milliseconds": "duration-millisecond",
    "Microseconds": "duration-microsecond",
    "Seconds": "duration-second",
    "Bytes": "digital-byte",
    "Kilobytes": "digital-kilobyte",
    "Megabytes": "digital-megabyte",
}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "24h": "last 24 hours",
        "7d": "last 7 days",
        "summary": "median {median}, now {latest}",
        "range": "lowest {low}, highest {high}",
        "no_data": "no data in this period",
        "title": "{label}, {window}",
        "start_24h": "24 h ago",
        "start_7d": "7 days ago",
        "now": "now",
        "per_second": "{n} per second",
        "other_window": "Last 7 days",
    },
    "es": {
        "24h": "últimas 24 horas",
        "7d": "últimos 7 días",
        "summary": "mediana {median}, ahora {latest}",
        "range": "mínimo {low}, máximo {high}",
        "no_data": "no hay datos en este periodo",
        "title": "{label}, {window}",
        "start_24h": "hace 24 h",
        "start_7d": "hace 7 días",
        "now": "ahora",
        "per_second": "{n} por segundo",
        "other_window": "Últimos 7 días",
    },
}


def words(language: str) -> dict[str, str]:
    return WORDS.get(language, WORDS["en"])


def _digits(value: float) -> int:
    size = abs(value)
    return 0 if size >= 100 else 1 if size >= 10 else 2


@lru_cache(maxsize=64)
def _formatter(unit: str, language: str, digits: int) -> Callable[[float], str]:
    """CLDR's number and unit patterns for a language, looked up once (Babel's lookups cost about a
    millisecond a call, and a chart states six values)."""
    from babel import Locale  # only the page renderers need CLDR data
    from babel.numbers import parse_pattern
    from babel.units import format_unit

    locale = Locale.parse(language)
    decimals = "." + "#" * digits if digits else ""
    if unit == "Percent":  # the locale's own pattern ("99.95%", "99,95 %")
        base = locale.percent_formats[None].pattern.split(";")[0]
        cut = base.rindex("0") + 1
        percent = parse_pattern(base[:cut] + decimals + base[cut:])
        return lambda v: percent.apply(v / 100, locale)
    number = parse_pattern("#,##0" + decimals)
    if unit in _CLDR_UNITS:
        # The unit's short pattern, e.g. "{0} ms"; the same for every plural form in these units.
        template = format_unit(0, _CLDR_UNITS[unit], length="short", format="0", locale=locale).replace("0", "{}", 1)
        return lambda v: template.format(number.apply(v, locale))
    if unit == "Count/Second":
        per_second = words(language)["per_second"]
        return lambda v: per_second.format(n=number.apply(v, locale))
    return lambda v: str(number.apply(v, locale))


def format_value(value: float, unit: str, language: str) -> str:
    """A measured value as customers read it: '120 ms', '99,95 %', '1.234'."""
    digits = 2 if unit == "Percent" else _digits(value)  # a success rate's story is in 99.5 vs 99.95
    return _formatter(unit, language, digits)(value)


def summary_text(series: Series, unit: str, language: str) -> str:
    w = words(language)
    s = summarize(series)
    if s is None:
        return w["no_data"]
    return w["summary"].format(
        median=format_value(s.median, unit, language), latest=format_value(s.latest, unit, language)
    )


def range_text(series: Series, unit: str, language: str) -> str:
    s = summarize(series)
    if s is None:
        return ""
    return words(language)["range"].format(
        low=format_value(s.low, unit, language), high=format_value(s.high, unit, language)
    )


def chart_title(label: str, window: Window, language: str) -> str:
    w = words(language)
    return w["title"].format(label=label, window=w[window.key])
