"""The message-matrix lint: each defect class, planted in a copy of the shipped runbooks, is rejected
at the template's file and line; and the words Clarion formats itself (dates in the reader's zone,
durations, lists) come from CLDR."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clarion.domain.messaging.i18n import (
    format_duration,
    format_time,
    join_list,
    join_names_short,
    mark_untranslated,
)
from clarion.runbook_loader import PlacedProblem, validate_runbook

from tests.conftest import RUNBOOKS

Edit = Callable[[str, str, str], None]


@pytest.fixture
def rb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, target)
    return target


@pytest.fixture
def edit(rb_dir: Path) -> Edit:
    def _edit(rel: str, old: str, new: str) -> None:
        path = rb_dir / rel
        text = path.read_text()
        assert old in text, f"test setup: {old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))

    return _edit


def line_of(rb_dir: Path, rel: str, needle: str) -> int:
    for i, line in enumerate((rb_dir / rel).read_text().splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def rejected(rb_dir: Path, defect: str) -> list[PlacedProblem]:
    runbook, problems = validate_runbook(rb_dir)
    assert runbook is None, "expected the runbook set to be rejected"
    found = [p for p in problems if p.level == "error" and p.message.startswith(defect + ":")]
    assert found, [str(p) for p in problems]
    return found


def test_shipped_runbooks_pass_the_matrix() -> None:
    runbook, problems = validate_runbook(RUNBOOKS)
    assert runbook is not None and problems == []


def test_run_together_sentences_after_endif(rb_dir: Path, edit: Edit) -> None:
    # The trap trim_blocks sets: the newline after a closing tag at the end of a line disappears.
    rel = "templates/en/update.yaml"
    edit(
        rel,
        "which started on {{ started_at }}.\n      {% if cause %}Cause: {{ cause }}. {% endif %}",
        "which started on {{ started_at }}.{% if cause %} Cause: {{ cause }}.{% endif %}\n      ",
    )
    (p,) = rejected(rb_dir, "run-together")
    assert (p.file, p.field) == (rel, "customers.status_page.body")
    assert p.line in (line_of(rb_dir, rel, "{% if cause %} Cause"), line_of(rb_dir, rel, "{% if eta %}Expected"))
    assert "EST.Next update" in p.message or "EST.Bank" in p.message or ".Expected" in p.message


def test_doubled_preposition(rb_dir: Path, edit: Edit) -> None:
    rel = "templates/en/update.yaml"
    edit(
        rel,
        "{% if eta %}Expected resolution: {{ eta }}. {% endif %}",
        "{% if eta %}We expect it fixed by {{ eta }}. {% endif %}",
    )
    (p,) = rejected(rb_dir, "doubled-preposition")
    assert p.file == rel and p.line == line_of(rb_dir, rel, "fixed by {{ eta }}") and "'by in'" in p.message


def test_iso_timestamp_in_customer_text(rb_dir: Path, edit: Edit) -> None:
    rel = "templates/en/maintenance_scheduled.yaml"
    edit(
        rel, "to {{ window_end }}. {{ incident_url }}", "to {{ window_end }} (2026-11-25 02:00 UTC). {{ incident_url }}"
    )
    found = rejected(rb_dir, "iso-timestamp")
    assert {(p.file, p.field) for p in found} == {(rel, "customers.social.body")}


def test_plural_that_disagrees_with_its_number(rb_dir: Path, edit: Edit) -> None:
    rel = "templates/es/resolved.yaml"
    edit(
        rel,
        "tras {{ duration }}. Post-mortem pendiente.",
        "tras {{ duration_minutes }} minutos. Post-mortem pendiente.",
    )
    (p,) = rejected(rb_dir, "plural")
    assert p.file == rel and p.field == "technical.chat.body" and "'1 minutos'" in p.message


def test_text_of_another_language(rb_dir: Path, edit: Edit) -> None:
    rel = "templates/es/update.yaml"
    edit(
        rel,
        "{% endif %}Próxima actualización antes del {{ next_update_at }}.",
        "{% endif %}Next update by {{ next_update_at }}.",
    )
    (p,) = rejected(rb_dir, "other-language")
    assert p.file == rel and p.line == line_of(rb_dir, rel, "Next update by") and "by" in p.message


def test_unresolved_variable_at_render_time(rb_dir: Path, edit: Edit) -> None:
    rel = "templates/en/investigating.yaml"
    edit(
        rel, "We're investigating a problem affecting {{ component_names }}", "We're investigating {{ components[5] }}"
    )
    found = rejected(rb_dir, "unresolved")
    assert {(p.file, p.field) for p in found} == {(rel, "customers.social.body")}


def test_stray_punctuation_when_a_value_is_empty(rb_dir: Path, edit: Edit) -> None:
    rel = "templates/es/identified.yaml"
    edit(
        rel,
        "{{ component_names }}{% if cause %}: {{ cause }}{% endif %}. El problema",
        "{{ component_names }}: {{ cause }}. El problema",
    )
    (p,) = rejected(rb_dir, "punctuation")
    assert p.file == rel and p.field == "customers.status_page.body" and "without" not in p.message
    assert p.line == line_of(rb_dir, rel, "{{ component_names }}: {{ cause }}.")


def test_sms_over_budget_in_some_cell(rb_dir: Path, edit: Edit) -> None:
    edit("clarion.yaml", "max_segments: 3", "max_segments: 2")
    found = rejected(rb_dir, "sms-budget")
    assert all(p.field == "customers.sms.body" and p.file.startswith("templates/es/") for p in found)
    assert any("UCS-2" in p.message and "component(s)" in p.message for p in found)


# --- what Clarion formats itself ----------------------------------------------------------------

AT = datetime(2026, 11, 23, 6, 58, tzinfo=UTC)


def test_times_in_the_readers_zone_with_its_name() -> None:
    assert format_time(AT, "en", "America/New_York") == "Nov 23, 2026, 1:58 AM EST"
    assert format_time(AT, "es", "America/Bogota") == "23 de noviembre de 2026, 1:58 a. m. (hora de Colombia)"
    assert format_time(AT, "en", "America/New_York", short=True) == "Nov 23, 1:58 AM EST"  # SMS: no year
    assert format_time(AT, "es", "UTC", short=True) == "23 nov, 6:58 a. m. UTC"
    assert format_time(AT.replace(month=7), "en", "America/New_York").endswith("EDT")  # daylight time named


def test_durations_lists_and_untranslated_marks() -> None:
    assert format_duration(timedelta(minutes=1), "en") == "1 minute"
    assert format_duration(timedelta(minutes=1), "es") == "1 minuto"
    assert format_duration(timedelta(minutes=90), "en") == "1 hour and 30 minutes"
    assert format_duration(timedelta(minutes=59), "es") == "59 minutos"
    assert join_list(["Checkout", "Invoicing"], "en") == "Checkout and Invoicing"
    assert join_list(["Pago en línea", "Facturación"], "es") == "Pago en línea y Facturación"
    assert join_names_short(["A", "B", "C", "D", "E"], "es") == "A y otros 4"
    assert join_names_short(["A", "B"], "en") == "A and B"
    assert mark_untranslated("Card payments fail", "en", "es") == "Card payments fail (en inglés)"
