"""Static, accessible SVG charts of a metric: a ``<title>``, a ``<desc>`` that says in words what
the line shows, and the same summary drawn as text above the line. No script, no external files."""

from __future__ import annotations

from datetime import datetime

from markupsafe import escape

from clarion.domain.metrics import Series, Window, chart_title, format_value, range_text, summary_text, words

WIDTH, HEIGHT = 600, 150
PLOT_TOP, PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT = 44, 128, 4, 530
AXIS_X = 596  # value labels right of the plot

_STYLE = (
    "text{font:13px system-ui,sans-serif;fill:#1f2328}.m{fill:#57606a;font-size:11px}"
    ".l{fill:none;stroke:#0b5cad;stroke-width:1.5;stroke-linejoin:round}.g{stroke:#d0d7de}"
    "@media (prefers-color-scheme:dark){text{fill:#e6edf3}.m{fill:#9da7b3}.l{stroke:#6cb6ff}.g{stroke:#3d444d}}"
)


def scale(values: list[float]) -> tuple[float, float]:
    """The value axis: from zero where the line sits well above it, otherwise around the data (a
    success rate between 99.5 and 100 % would be a flat line on a 0-100 axis); the chart labels both
    ends, so the reader sees which."""
    low, high = min(values), max(values)
    if low >= 0 and low <= high * 0.5:
        return 0.0, high * 1.1 if high > 0 else 1.0
    pad = (high - low) * 0.15 or abs(high) * 0.01 or 1.0
    return low - pad, high + pad


def _path(series: Series, window: Window, now: datetime, bottom: float, top: float) -> str:
    start = now.timestamp() - window.span.total_seconds()
    x_scale = (PLOT_RIGHT - PLOT_LEFT) / window.span.total_seconds()
    y_scale = (PLOT_BOTTOM - PLOT_TOP) / (top - bottom)
    max_gap = 2 * window.period
    parts: list[str] = []
    previous = float("-inf")
    for t, value in zip(series.epochs, series.values, strict=True):
        x = PLOT_LEFT + max(0.0, t - start) * x_scale
        y = PLOT_BOTTOM - (value - bottom) * y_scale
        # A gap of more than two periods is missing data: the line breaks instead of bridging it.
        parts.append(f"{'M' if t - previous > max_gap else 'L'}{x:.1f} {y:.1f}")
        previous = t
    return "".join(parts)


def chart_svg(series: Series, label: str, unit: str, language: str, now: datetime) -> bytes:
    window = series.window
    w = words(language)
    title = chart_title(label, window, language)
    summary = summary_text(series, unit, language)
    extra = range_text(series, unit, language)
    desc = f"{title}: {summary}" + (f"; {extra}" if extra else "") + "."
    line = axis = ""
    if series.points:
        bottom, top = scale(series.values)
        line = f'<path class="l" d="{_path(series, window, now, bottom, top)}"/>'
        hi, lo = (escape(format_value(v, unit, language)) for v in (top, bottom))
        axis = (
            f'<text x="{AXIS_X}" y="{PLOT_TOP + 4}" class="m" text-anchor="end">{hi}</text>'
            f'<text x="{AXIS_X}" y="{PLOT_BOTTOM + 4}" class="m" text-anchor="end">{lo}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="t d" lang="{escape(language)}">'
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(desc)}</desc>'
        f"<style>{_STYLE}</style>"
        f'<text x="{PLOT_LEFT}" y="16">{escape(title)}</text>'
        f'<text x="{PLOT_LEFT}" y="34" class="m">{escape(summary[:1].upper() + summary[1:])}</text>'
        f'<path class="g" d="M{PLOT_LEFT} {PLOT_BOTTOM}.5H{PLOT_RIGHT}M{PLOT_LEFT} {PLOT_TOP}.5H{PLOT_RIGHT}"/>'
        f"{line}{axis}"
        f'<text x="{PLOT_LEFT}" y="{HEIGHT - 6}" class="m">{escape(w["start_" + window.key])}</text>'
        f'<text x="{PLOT_RIGHT}" y="{HEIGHT - 6}" class="m" text-anchor="end">{escape(w["now"])}</text>'
        "</svg>"
    )
    return svg.encode()
