"""Retrying lost races: exponential backoff with full jitter.

Writers that lose a conditional write to each other (an alarm storm in one group, two page updates)
retry after a random pause drawn from ``[0, min(cap, base * 2**attempt)]``. Spreading the retries
out is what keeps the number of conflicts down: retrying at once, in lockstep, collides again.
"""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_SECONDS = 0.02
CAP_SECONDS = 2.0


def backoff(
    attempt: int,
    *,
    base: float = BASE_SECONDS,
    cap: float = CAP_SECONDS,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
    return float(rng() * min(cap, base * (2**attempt)))
