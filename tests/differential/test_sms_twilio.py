"""Our SMS counter against Twilio's calculator (npm ``sms-segments-calculator``, installed by
``make test``): over generated texts built to sit on segment boundaries and a corpus of known
traps, we never count fewer segments than Twilio does (a budget that undercounts sends a message
the runbook said was too long, and bills more than planned)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from clarion.domain.messaging.sms import GSM7_BASIC, GSM7_EXTENSION, count_segments

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = Path(__file__).with_name("twilio_segments.cjs")
CALCULATOR = ROOT / "node_modules" / "sms-segments-calculator"
GENERATED = 2500

# Pieces a message is made of, chosen to hit every class that decides a count.
PIECES: dict[str, list[str]] = {
    "gsm": sorted(GSM7_BASIC),
    "extension": sorted(GSM7_EXTENSION),
    "spanish": list("áíóúÁÍÓÚ¿¡ñÑü"),
    "escape": ["\x1b"],
    "newline": ["\n", "\r\n", "\r"],
    "emoji": ["🚨", "✅", "⚠️", "🔥", "📉", "❤️", "☎"],
    "zwj": ["👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🧑🏽‍🚒", "👁️‍🗨️", "🐻‍❄️"],
    "modifier": ["👍🏽", "👋🏿", "🙏🏻"],
    "keycap": ["1️⃣", "#️⃣", "*️⃣", "🔟"],
    "flag": ["🇪🇸", "🇲🇽", "🇺🇸", "🇦🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"],
    "combining": ["e\u0301", "n\u0303", "a\u0308\u0301", "\u0301"],
    "other": ["ç", "ß", "ö", "€", "«", "»", "—", "\u2019", "…", "中", "\u00a0", "\u200d", "\ufe0f"],
}
# Lengths (code units) around the one-segment limits and the split-segment multiples.
TARGETS = [*range(60, 75), *range(128, 140), *range(150, 165), *range(196, 206), *range(300, 312), *range(455, 465)]


def generated_texts(count: int, seed: int = 20261123) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        # Mostly plain text with a few special pieces, as real messages are.
        classes = rng.sample(sorted(PIECES), k=rng.randint(1, 4))
        target = rng.choice(TARGETS)
        parts, units = [], 0
        while units < target:
            kind = rng.choice(classes) if rng.random() < 0.3 else "gsm"
            piece = rng.choice(PIECES[kind])
            parts.append(piece)
            units += len(piece.encode("utf-16-le")) // 2
        texts.append("".join(parts))
    return texts


def boundary_corpus() -> list[str]:
    """Hand-picked cases where a per-character count and the carrier disagree."""
    a, o = "a", "ó"
    cases = [  # (an empty text is never sent: we count it as no segment, Twilio as one)
        a * 160,
        a * 161,
        a * 306,
        a * 307,
        "€" * 80,
        "€" * 81,
        a * 152 + "€" + a * 152,  # escape pair at the split
        "\x1b",  # ESC alone: not a character
        a * 159 + "\x1b",
        "\x1b" * 70,
        "\x1b" * 71,
        a * 100 + "\x1b" + a * 100,
        o * 70,
        o * 71,
        o * 66 + "🚨" + o * 66,  # surrogate pair at the split
        o * 66 + "👩‍💻" + o,  # ZWJ sequence straddling 67
        o * 65 + "👨‍👩‍👧‍👦" + o * 5,
        o * 66 + "1️⃣" + o * 66,  # keycap straddling
        o * 66 + "🇪🇸" + o * 66,  # flag straddling
        o * 65 + "🇲🇽🇪🇸" + o * 66,
        o * 66 + "👍🏽" + o * 66,  # skin tone straddling
        "e\u0301" * 35,
        "e\u0301" * 36,
        o * 66 + "a\u0308\u0301" + o * 66,
        a * 158 + "\r\n" + a * 10,  # CR LF: two GSM-7 characters
        a * 60 + "\r\n" + "ó",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿" * 5,
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿" * 6,
        o * 60 + "🏴󠁧󠁢󠁳󠁣󠁴󠁿" + o * 60,
        "Interrupción del pago: estamos trabajando en ello. Próxima actualización a las 14:30 (hora de México). 🚨",
        "Checkout is down in eu-west-1. Next update at 14:30 UTC. Reply STOP to opt out.",
    ]
    return cases


def twilio_counts(texts: list[str]) -> list[tuple[int, str]]:
    node = shutil.which("node")
    if not node or not CALCULATOR.is_dir():
        if os.environ.get("CI"):
            pytest.fail("node and node_modules/sms-segments-calculator are needed: run `make test`")
        pytest.skip("Twilio's calculator is not installed: `make test` (or `make node`) installs it")
    result = subprocess.run(
        [node, str(BRIDGE)], input=json.dumps(texts), capture_output=True, text=True, check=True, cwd=ROOT
    )
    return [(int(n), str(e)) for n, e in json.loads(result.stdout)]


def _differences(texts: list[str]) -> tuple[list[tuple[str, int, int]], int, int]:
    fewer, more, same = [], 0, 0
    for text, (theirs, _) in zip(texts, twilio_counts(texts), strict=True):
        ours = count_segments(text).segments
        if ours < theirs:
            fewer.append((text, ours, theirs))
        elif ours > theirs:
            more += 1
        else:
            same += 1
    return fewer, more, same


def test_never_fewer_segments_than_twilio_on_generated_texts() -> None:
    texts = generated_texts(GENERATED)
    fewer, more, same = _differences(texts)
    assert not fewer, f"{len(fewer)} texts undercounted, e.g. {fewer[:3]!r}"
    assert same + more == GENERATED
    assert same >= 0.95 * GENERATED, f"only {same} of {GENERATED} agree exactly ({more} count more)"


def test_never_fewer_segments_than_twilio_on_boundary_corpus() -> None:
    fewer, _, _ = _differences(boundary_corpus())
    assert not fewer, fewer


def test_same_encoding_as_twilio() -> None:
    texts = boundary_corpus() + generated_texts(300, seed=7)
    theirs = twilio_counts(texts)
    mismatched = [(t, e) for t, (_, e) in zip(texts, theirs, strict=True) if t and count_segments(t).encoding != e]
    assert not mismatched, mismatched[:3]
