"""Social posts: each network's length limit, counted as the network counts it, in grapheme clusters
(what a reader sees as one character: an emoji with a skin tone, a flag, "é" written as e + accent).

Mastodon allows 500 per post (its StatusLengthValidator counts grapheme clusters; a link counts as
23, so counting links in full is on the safe side); Bluesky 300 (``app.bsky.feed.post`` text,
``maxGraphemes: 300``). The lint checks every social template against the strictest configured
network, the approval page checks an approver's edits, and the delivery checks again before posting.
"""

from __future__ import annotations

import re

from clarion.domain.runbooks.model import Deliveries

LIMITS = {"mastodon": 500, "bluesky": 300}
NETWORKS = tuple(LIMITS)
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def graphemes(text: str) -> int:
    """Extended grapheme clusters (Unicode UAX #29), as both networks count them."""
    import regex  # the `regex` package implements \\X; the standard library has no grapheme segmentation

    return len(regex.findall(r"\X", text))


def configured(deliveries: Deliveries) -> list[str]:
    return [name for name in NETWORKS if getattr(deliveries, name) is not None]


def social_limit(deliveries: Deliveries) -> int | None:
    """The strictest limit among the configured networks (None: no network is configured)."""
    limits = [LIMITS[name] for name in configured(deliveries)]
    return min(limits) if limits else None
