from __future__ import annotations

import math

from clarion.domain.messaging.sms import GSM7_BASIC, GSM7_EXTENSION, count_segments, graphemes
from hypothesis import given
from hypothesis import strategies as st


def test_plain_ascii_is_gsm7_one_segment() -> None:
    c = count_segments("Checkout is down")
    assert (c.encoding, c.units, c.segments) == ("GSM-7", 16, 1)


def test_gsm7_boundaries_160_and_153() -> None:
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3


def test_extension_characters_count_twice() -> None:
    assert count_segments("€" * 80).units == 160
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 81).segments == 2
    assert count_segments("{[]}").units == 8


def test_escape_pair_is_never_split_across_segments() -> None:
    text = "a" * 152 + "€" + "a" * 152  # 306 septets, but the € cannot straddle segments 1 and 2
    c = count_segments(text)
    assert c.units == 306
    assert c.segments == 3


def test_spanish_accents_in_gsm7_stay_gsm7() -> None:
    c = count_segments("Niño, ¿qué tal? ¡Bien! Año nuevo, Ñandú no")
    assert c.encoding == "UCS-2"  # ú is not in GSM-7
    c = count_segments("Niño, ¿qué tal? ¡Bien! Año nuevo")
    assert c.encoding == "GSM-7"


def test_accents_outside_gsm7_force_ucs2_and_name_the_culprits() -> None:
    c = count_segments("Próxima actualización")
    assert c.encoding == "UCS-2"
    assert c.offending == "ó"
    assert count_segments("ó" * 70).segments == 1
    assert count_segments("ó" * 71).segments == 2
    assert count_segments("ó" * 134).segments == 2
    assert count_segments("ó" * 135).segments == 3


def test_emoji_force_ucs2_and_take_two_units() -> None:
    c = count_segments("Down 🚨")
    assert c.encoding == "UCS-2"
    assert c.units == 7
    assert c.offending == "🚨"


def test_surrogate_pair_is_never_split() -> None:
    text = "ó" * 66 + "🚨" + "ó" * 66  # 134 units: two segments by division, three in reality
    assert count_segments(text).segments == 3


def test_empty_text_has_no_segments() -> None:
    assert count_segments("").segments == 0


def test_escape_code_is_not_a_gsm7_character() -> None:
    c = count_segments("Outage\x1b")
    assert (c.encoding, c.offending) == ("UCS-2", "\x1b")
    assert count_segments("a" * 159 + "\x1b").segments == 3  # 160 UCS-2 units, not 160 septets


def test_zwj_sequence_moves_whole_to_the_next_segment() -> None:
    coder = "👩‍💻"  # 5 UTF-16 units, one cluster
    assert count_segments("ó" * 66 + coder).segments == 2
    # Split per code unit, 66 + 1 fill segment one and 4 spill; kept whole, all 5 spill.
    c = count_segments("ó" * 66 + coder + "ó" * 63)
    assert c.units == 134
    assert c.segments == 3


def test_flags_keycaps_and_skin_tones_are_one_cluster_each() -> None:
    assert graphemes("🇪🇸🇲🇽1️⃣👍🏽") == ["🇪🇸", "🇲🇽", "1️⃣", "👍🏽"]
    assert count_segments("ó" * 66 + "🇪🇸" + "ó" * 66).segments == 3
    assert count_segments("ó" * 66 + "1️⃣" + "ó" * 65).segments == 3


def test_combining_marks_stay_with_their_letter() -> None:
    assert graphemes("cafe\u0301") == ["c", "a", "f", "e\u0301"]
    assert count_segments("ó" * 66 + "e\u0301" + "ó" * 66).segments == 3


def test_cr_lf_counts_as_two_gsm7_characters() -> None:
    assert graphemes("a\r\nb") == ["a", "\r", "\n", "b"]
    c = count_segments("a" * 158 + "\r\n")
    assert (c.encoding, c.units, c.segments) == ("GSM-7", 160, 1)


def test_offending_names_whole_clusters() -> None:
    assert count_segments("Down 👨‍👩‍👧 now 👨‍👩‍👧").offending == "👨‍👩‍👧"


@given(st.text(max_size=600))
def test_segment_count_bounds(text: str) -> None:
    c = count_segments(text)
    single, multi = (160, 153) if c.encoding == "GSM-7" else (70, 67)
    if c.units <= single:
        assert c.segments == (1 if text else 0)
    else:
        assert c.segments >= math.ceil(c.units / multi)
        # A boundary wastes less than the largest cluster that does not fit in what is left.
        largest = max(len(g.encode("utf-16-le")) // 2 for g in graphemes(text)) if c.encoding == "UCS-2" else 2
        assert c.segments <= math.ceil(c.units / (multi - largest + 1))


@given(st.text(max_size=300))
def test_clusters_cover_the_text_exactly(text: str) -> None:
    assert "".join(graphemes(text)) == text


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=400))
def test_gsm7_alphabet_never_becomes_ucs2(text: str) -> None:
    assert count_segments(text).encoding == "GSM-7"
