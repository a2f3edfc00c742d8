"""WCAG AA: every text colour of the stylesheet against its backgrounds, light and dark."""

from __future__ import annotations

import re
from importlib import resources

import pytest

CSS = (resources.files("clarion.status_page") / "templates" / "style.css").read_text()
TEXT = ["fg", "muted", "link", "ok", "min", "maj", "crit", "mnt"]
BACKGROUNDS = ["bg", "card"]


def palette(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z]+):(#[0-9a-f]{6})", block))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


LIGHT = palette(CSS.split("@media (prefers-color-scheme:dark)")[0])
DARK = {**LIGHT, **palette(CSS.split("@media (prefers-color-scheme:dark)")[1].split("}}")[0])}


def test_contrast_arithmetic() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#777777", "#ffffff") < 4.5 < contrast("#767676", "#ffffff") + 0.01


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_text_colour_meets_aa(scheme: str) -> None:
    colours = LIGHT if scheme == "light" else DARK
    assert set(TEXT + BACKGROUNDS) <= set(colours)
    for text in TEXT:
        for bg in BACKGROUNDS:
            ratio = contrast(colours[text], colours[bg])
            assert ratio >= 4.5, f"{scheme}: --{text} on --{bg} is {ratio:.2f}:1"
