"""Text that acts: untrusted words (alarm names, descriptions, reasons, tags, what an operator or
approver typed) are made inert for each channel just before sending.

- Plain-text channels (SMS, voice, push, WhatsApp, SNS, chat topics): bidirectional override and
  isolate controls are removed, so ``U+202E`` cannot make text read backwards, and other control
  characters (except line breaks and tabs) are dropped.
- Slack: ``&``, ``<`` and ``>`` are escaped as Slack documents, so ``<!channel>``, ``<@U123>`` and
  ``<https://x|click>`` arrive as text, never as a mention or a hidden link.
- Microsoft Teams (Adaptive Card markdown): ``[text](target)`` cannot form a link, so no hidden or
  ``javascript:`` target; a plain URL stays visible as itself.
- Email headers: no CR or LF (no header injection), no controls, one line.
"""

from __future__ import annotations

import re
import unicodedata

# Embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI). The marks
# LRM/RLM/ALM stay: right-to-left languages need them and they cannot reorder other text.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_KEEP = frozenset("\n\t")


def plain(text: str) -> str:
    """For plain-text channels: no bidi overrides or isolates, no control characters but line breaks."""
    return "".join(
        ch
        for ch in text.replace("\r\n", "\n").replace("\r", "\n")
        if ch in _KEEP or (ch not in BIDI_CONTROLS and unicodedata.category(ch) != "Cc")
    )


def slack(text: str) -> str:
    """Slack's mrkdwn: only ``&``, ``<`` and ``>`` are control characters; escape exactly those."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MD_LINK = re.compile(r"\]\s*\(")
_MD_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:)")


def teams(text: str) -> str:
    """Adaptive Card TextBlock markdown: break ``](`` so no link with a hidden target can form, and
    ``<scheme:...>`` autolinks; a bare URL remains visible text."""
    out = _MD_LINK.sub("]\u200b(", plain(text))
    return _MD_AUTOLINK.sub("<\u200b\\1", out)


_CHAT_SPECIAL = re.compile(r"<(?=[!@#]|[a-zA-Z][a-zA-Z0-9+.-]*:)")


def chat(text: str) -> str:
    """For a chat relay of unknown kind (Amazon Q Developer, a webhook relay): plain text in which
    ``<!channel>``, ``<@user>`` and ``<url|label>`` cannot form (a zero-width space after ``<``)."""
    return _CHAT_SPECIAL.sub("<\u200b", plain(text))


def header(text: str, limit: int = 998) -> str:
    """One email header line: CR, LF and every other control become a space; spaces collapse."""
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text if ch not in BIDI_CONTROLS)
    return " ".join(cleaned.split())[:limit]
