"""The `clarion` command through typer's runner."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path

from clarion.cli.main import app
from clarion.domain.runbooks.matrix import scan_text
from typer.testing import CliRunner

from tests.conftest import RUNBOOKS

runner = CliRunner()


def test_validate_shipped_runbooks() -> None:
    result = runner.invoke(app, ["runbooks", "validate", str(RUNBOOKS)])
    assert result.exit_code == 0, result.output
    assert "9 components in 3 groups, 11 rules, 120 templates in en, es" in result.output


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
