"""What other sites embed: the banner script (``embed/banner.js``) and shields-style badges
(``badge.svg`` for the whole page, ``badges/<component>.svg`` for each component).

The banner is a small dependency-free script that reads ``api/v2/summary.json`` from the origin it
was loaded from; its words per language are filled in here from the page's own texts. Badges carry
the status as text as well as colour, with a ``<title>`` for assistive technology.
"""

from __future__ import annotations

import json
from importlib import resources

from markupsafe import escape

from clarion.domain.enums import ComponentStatus
from clarion.status_page.text import page_text

BANNER_PATH = "embed/banner.js"
BANNER_LIMIT = 5 * 1024  # bytes: the script must stay small enough to load on every page of a product

EMBED_TEXT: dict[str, dict[str, str]] = {
    "en": {"view": "View status page", "dismiss": "Dismiss status notice", "status": "status"},
    "es": {"view": "Ver la página de estado", "dismiss": "Cerrar el aviso de estado", "status": "estado"},
}

# Statuspage's indicator -> the banner key the page itself uses for it.
_INDICATOR_KEY = {"minor": "minor_outage", "major": "partial_outage", "critical": "major_outage"}

# Backgrounds with white text at 4.5:1 or more (WCAG AA), one per status.
BADGE_COLOURS = {
    ComponentStatus.OPERATIONAL: "#2e7d32",
    ComponentStatus.UNDER_MAINTENANCE: "#1565c0",
    ComponentStatus.DEGRADED_PERFORMANCE: "#8a6100",
    ComponentStatus.PARTIAL_OUTAGE: "#b34700",
    ComponentStatus.MAJOR_OUTAGE: "#c62828",
}
LABEL_COLOUR = "#555"


def embed_text(language: str) -> dict[str, str]:
    return EMBED_TEXT.get(language, EMBED_TEXT["en"])


def banner_js(languages: list[str], default: str) -> bytes:
    """The banner script with each language's words built in (the summary JSON carries only the
    default language's description)."""
    texts = {}
    for lang in languages:
        words = page_text(lang)
        texts[lang] = {ind: words[key] for ind, key in _INDICATOR_KEY.items()} | {
            k: v for k, v in embed_text(lang).items() if k in ("view", "dismiss")
        }
    source = (resources.files("clarion.status_page") / "templates" / "banner.js").read_text()
    # Keep the one leading comment (how to load it); drop indentation to stay small.
    lines = [line.strip() for line in source.splitlines()]
    body = "\n".join(line for line in lines if line)
    data = json.dumps(texts, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    out = body.replace("__TEXT__", data).replace("__DEFAULT__", default).encode()
    if len(out) > BANNER_LIMIT:  # a guard, not a test: more languages must not break every host page
        raise ValueError(f"{BANNER_PATH} is {len(out)} bytes, over the {BANNER_LIMIT}-byte budget")
    return out


# Verdana 11px advance widths (what shields.io measures with), in tenths of a pixel, for the
# characters badges mostly hold; others count as a wide letter.
_NARROW = dict.fromkeys("ijl.,:;'|!", 30) | dict.fromkeys("ftI()[] ", 40) | dict.fromkeys("r-", 48)
_WIDE = dict.fromkeys("mwMW", 100) | dict.fromkeys("ABCDEGHKNOPQRSTUVXYZ&%", 80)


def text_width(text: str) -> int:
    tenths = sum(_NARROW.get(ch, _WIDE.get(ch, 70 if ch.isascii() else 80)) for ch in text)
    return -(-tenths // 10)


def badge_svg(label: str, message: str, colour: str) -> bytes:
    """A flat shields-style badge: grey label, coloured message, both as text."""
    lw, mw = text_width(label) + 10, text_width(message) + 10
    width = lw + mw
    title = escape(f"{label}: {message}")
    lab, msg = escape(label), escape(message)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="{LABEL_COLOUR}"/>'
        f'<rect x="{lw}" width="{mw}" height="20" fill="{colour}"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2:g}" y="14">{lab}</text>'
        f'<text x="{lw + mw / 2:g}" y="14">{msg}</text></g></svg>'
    )
    return svg.encode()
