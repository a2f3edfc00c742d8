"""SMS segment arithmetic (3GPP TS 23.038).

A GSM-7 message fits 160 septets in one segment and 153 per segment once split (the user data
header takes the rest); characters of the extension table (``^{}\\[~]|€`` and form feed) take two
septets, and an escape pair is never split across segments. Any character outside GSM-7 makes the
whole message UCS-2: 70 code units in one segment, 67 once split, characters outside the Basic
Multilingual Plane (most emoji) take two units, and a surrogate pair is never split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    offending: str  # the characters that forced UCS-2, in order of first appearance

    def fits(self, max_segments: int) -> bool:
        return self.segments <= max_segments


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _pack(sizes: list[int], single: int, multi: int) -> int:
    """Segments needed for characters of the given unit sizes, never splitting one character."""
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
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    offending = "".join(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION))
    return SegmentCount("UCS-2", sum(sizes), _pack(sizes, 70, 67), offending)
