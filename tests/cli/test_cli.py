"""The `clarion` command through typer's runner."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
from clarion.cli.main import app
from clarion.domain.runbooks.matrix import scan_text
from typer.testing import CliRunner

from tests.conftest import ROOT, RUNBOOKS

runner = CliRunner()


def test_validate_shipped_runbooks() -> None:
    result = runner.invoke(app, ["runbooks", "validate", str(RUNBOOKS)])
    assert result.exit_code == 0, result.output
    assert "9 components in 3 groups, 11 rules, 130 templates in en, es" in result.output


def test_validate_reports_file_line_field_and_exits_1(tmp_path: Path) -> None:
    target = tmp_path / "rb"
    shutil.copytree(RUNBOOKS, target)
    rules = target / "rules.yaml"
    rules.write_text(rules.read_text().replace("severity: SEV1", "severity: SEV0", 1))
    result = runner.invoke(app, ["runbooks", "validate", str(target)])
    assert result.exit_code == 1
    assert "rules.yaml:" in result.output and "rules.0.severity:" in result.output
    assert "1 error(s)" in result.output


def test_validate_json_output(tmp_path: Path) -> None:
    target = tmp_path / "rb"
    shutil.copytree(RUNBOOKS, target)
    (target / "roles.yaml").unlink()
    result = runner.invoke(app, ["runbooks", "validate", str(target), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    assert payload["problems"][0] == {
        "file": "roles.yaml",
        "line": 0,
        "field": "",
        "level": "error",
        "message": "file is missing",
    }


def test_strict_turns_warnings_into_failure(tmp_path: Path) -> None:
    target = tmp_path / "rb"
    shutil.copytree(RUNBOOKS, target)
    tpl = target / "templates/en/update.yaml"
    tpl.write_text(tpl.read_text().replace("Our team is still working on it.", "We are checking the DNS.", 1))
    assert runner.invoke(app, ["runbooks", "validate", str(target)]).exit_code == 0
    strict = runner.invoke(app, ["runbooks", "validate", str(target), "--strict"])
    assert strict.exit_code == 1 and "jargon for customers: 'DNS'" in strict.output


def test_validate_missing_folder() -> None:
    result = runner.invoke(app, ["runbooks", "validate", "/nonexistent/runbooks"])
    assert result.exit_code == 1 and "not a directory" in result.output


def test_demo_command(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "Resolved" in result.output and "Where to look" in result.output
    for name in (
        "timeline.json",
        "outbox.html",
        "postmortem.md",
        "page/index.html",
        "page/api/v2/summary.json",
    ):
        assert (tmp_path / "demo" / name).is_file(), name
    _scan_customer_words(tmp_path / "demo")


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style|svg)\b.*?</\1>|<[^>]+>", " ", html, flags=re.DOTALL)
    return re.sub(r"[ \t]+", " ", unescape(html))


def _scan_customer_words(out: Path) -> None:
    """Every customer message the demo sent and every incident page, in both languages, free of the
    defects the message matrix rejects in templates, and of machine timestamps."""
    messages = [
        m
        for m in json.loads((out / "outbox.json").read_text())
        if m["audience"] == "customers" and m["channel"] != "internal"
    ]
    assert {m["language"] for m in messages} == {"en", "es"}
    problems = [
        f"{m['channel']} {m['language']}: {p}"
        for m in messages
        for p in scan_text(m["language"], f"{m['subject']}\n{m['body']}", ["en", "es"])
    ]
    pages = sorted((out / "page").glob("**/incidents/*.html"))
    assert {p.parent.parent.name for p in pages} == {"page", "es"}
    for page in pages:
        lang = "es" if page.parent.parent.name == "es" else "en"
        problems += [f"{page.name} {lang}: {p}" for p in scan_text(lang, _visible(page.read_text()), ["en", "es"])]
    assert problems == []


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "runbooks" in result.output and "demo" in result.output


def test_runbooks_match_names_the_rule_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no runbooks/ here: the project's own set is found
    result = runner.invoke(app, ["runbooks", "match", "checkout-api-prod-5xx-rate"])
    assert result.exit_code == 0, result.output
    assert "rule checkout-errors" in result.output and "payments" in result.output and "SEV2" in result.output
    assert "namespace AWS/ApiGateway" in result.output  # what the rule also needs, named
    exact = runner.invoke(app, ["runbooks", "match", "checkout-api-prod-5xx-rate", "--namespace", "AWS/ApiGateway"])
    assert exact.exit_code == 0 and "if its metric" not in exact.output
    tagged = runner.invoke(
        app, ["runbooks", "match", "payments-provider-down", "--tag", "provider=paybridge", "--json"]
    )
    assert tagged.exit_code == 0 and json.loads(tagged.output)["rule"]["id"] == "card-provider"


def test_runbooks_match_says_why_nothing_matches() -> None:
    result = runner.invoke(app, ["runbooks", "match", "payments-provider-down", "--tag", "provider=other"])
    assert result.exit_code == 1 and "no rule matches" in result.output
    assert "card-provider: its tag provider is not 'paybridge'" in result.output
    bad = runner.invoke(app, ["runbooks", "match", "x", "--tag", "novalue"])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("clarion ")


def test_no_runbook_set_found_names_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clarion.cli import backend

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(backend, "PROJECT", tmp_path / "elsewhere")
    monkeypatch.setenv("CLARION_RUNBOOKS", str(tmp_path / "nope"))
    result = runner.invoke(app, ["runbooks", "match", "x"])
    assert result.exit_code == 1 and "no runbook set found" in result.output
    assert str(tmp_path / "nope") in result.output and str(tmp_path) in result.output
    assert "fix the runbook set" not in result.output
    (tmp_path / "runbooks").symlink_to(ROOT / "runbooks")  # a runbooks/ folder here is found
    assert runner.invoke(app, ["runbooks", "match", "login-errors-x"]).exit_code == 0


def test_drills_must_hit_a_rule_of_their_severity(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "runbooks", tmp_path / "rb")
    rules = tmp_path / "rb" / "rules.yaml"
    rules.write_text(
        rules.read_text().replace("    severity: SEV1\n    about: holding", "    severity: SEV3\n    about: holding")
    )
    result = runner.invoke(app, ["runbooks", "validate", str(tmp_path / "rb")])
    assert result.exit_code == 1 and "hits rule 'login-errors' at SEV1, not SEV3" in result.output


def test_tables_keep_ids_whole_and_times_human_in_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta

    from clarion.cli import ops
    from rich.console import Console

    narrow = Console(width=80, record=True)
    monkeypatch.setattr(ops, "console", narrow)
    long_id = "maint-payments-20261125T020000-ab12cd34"
    earlier = (datetime.now(UTC) - timedelta(days=400)).replace(microsecond=123456)
    rows = [
        {
            "id": long_id,
            "severity": "SEV3",
            "status": "scheduled",
            "title": "A long title " * 6,
            "started_at": earlier.isoformat(),
        },
    ]
    ops._table(rows, ["id", "severity", "status", "title", "started_at"], "Maintenance")
    text = narrow.export_text()
    assert long_id in text and max(len(line) for line in text.splitlines()) <= 80
    assert earlier.strftime("%H:%M") in text and earlier.isoformat() not in text and ".123456" not in text
    assert "times in UTC" in text
