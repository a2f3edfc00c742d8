"""Sizes of the property tests. ``HYPOTHESIS_PROFILE=long`` runs many more sequences; the default
keeps ``make test`` fast. Applied per test, so other hypothesis tests keep their own settings."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
_SIZES = {"default": (80, 2), "long": (3000, 30)}  # (sequences on the fakes, random sequences on the emulator)
FAKE_EXAMPLES, EMULATOR_EXAMPLES = _SIZES.get(PROFILE, _SIZES["default"])


def sized(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=False,
    )
