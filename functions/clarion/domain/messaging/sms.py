"""SMS segment arithmetic (3GPP TS 23.038), counted the way carriers bill.

A GSM-7 message fits 160 septets in one segment and 153 per segment once split (the user data
header takes the rest); characters of the extension table (``^{}\\[~]|€`` and form feed) take two
septets (escape + character), and an escape pair is never split across segments. The escape code
itself (U+001B) is not a character a message can carry: text containing it is sent as UCS-2.

Any character outside GSM-7 makes the whole message UCS-2: 70 UTF-16 code units in one segment, 67
once split. What a reader sees as one character is a grapheme cluster (Unicode UAX #29): a ZWJ
emoji sequence (👩‍💻), a keycap (1️⃣), a flag (🇪🇸), a letter with combining marks. Senders never
split a cluster across segments, so a cluster that does not fit in what is left of a segment moves
whole to the next one. CR LF is the exception: senders treat it as two characters, as Twilio's
calculator does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import regex

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    offending: str  # the characters (grapheme clusters) that forced UCS-2, in order of first appearance

    def fits(self, max_segments: int) -> bool:
        return self.segments <= max_segments


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def graphemes(text: str) -> list[str]:
    """``text`` as the clusters a sender keeps whole (extended grapheme clusters, CR LF as two)."""
    if text.isascii():  # no ASCII character joins another but CR LF, which counts as two anyway
        return list(text)
    clusters: list[str] = _cluster_pattern().findall(text)
    return [part for cluster in clusters for part in (cluster if cluster == "\r\n" else (cluster,))]


@cache
def _cluster_pattern() -> regex.Pattern[str]:
    import regex  # loaded on first non-ASCII text, off the cold start of functions that never see one

    return regex.compile(r"\X")


def _utf16_units(cluster: str) -> int:
    if len(cluster) == 1:
        return 2 if ord(cluster) > 0xFFFF else 1
    return len(cluster.encode("utf-16-le")) // 2


def _pack(sizes: list[int], single: int, multi: int) -> int:
    """Segments needed for clusters of the given unit sizes, never splitting one cluster."""
    total = sum(sizes)
    if total <= single:
        return 1 if total else 0
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return segments


def count_segments(text: str) -> SegmentCount:
    """How many SMS segments ``text`` takes, and in which encoding."""
    if is_gsm7(text):
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return SegmentCount("GSM-7", sum(sizes), _pack(sizes, 160, 153), "")
    clusters = graphemes(text)
    sizes = [_utf16_units(cluster) for cluster in clusters]
    offending = "".join(dict.fromkeys(c for c in clusters if c not in GSM7_BASIC and c not in GSM7_EXTENSION))
    return SegmentCount("UCS-2", sum(sizes), _pack(sizes, 70, 67), offending)
