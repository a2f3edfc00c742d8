"""checkov over the freshly synthesized templates: no failed check, and every accepted one carries
its reason in the template. checkov lives in its own virtualenv (``.venv-checkov``, made by
``make checkov``, which ``make check`` runs first): its pins conflict with the CDK's."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHECKOV = Path(os.environ.get("CLARION_CHECKOV", ROOT / ".venv-checkov" / "bin" / "checkov"))


def run_checkov(templates: list[Path]) -> list[dict[str, Any]]:
    if not CHECKOV.exists():
        if os.environ.get("CLARION_REQUIRE_CHECKOV"):
            pytest.fail(f"checkov is not installed at {CHECKOV}: run `make checkov`")
        pytest.skip("checkov runs in `make check` (`make checkov` installs it into .venv-checkov)")
    args = [str(CHECKOV), "--framework", "cloudformation", "-o", "json", "--quiet"]
    for template in templates:
        args += ["-f", str(template)]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):
        raise AssertionError(f"checkov failed to run: {result.stderr[-2000:]}")
    report = json.loads(result.stdout) if result.stdout.strip() else []
    return report if isinstance(report, list) else [report]


@pytest.fixture(scope="module")
def checkov_reports(assembly: tuple[Any, Path]) -> list[dict[str, Any]]:
    return run_checkov(sorted(assembly[1].glob("*.template.json")))


def test_checkov_has_no_failed_check(checkov_reports: list[dict[str, Any]]) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['check_name']})"
        for report in checkov_reports
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, "\n".join(failed)
    assert sum(r.get("summary", {}).get("passed", 0) for r in checkov_reports) > 50  # it really checked


def test_every_accepted_check_says_why(assembly: tuple[Any, Path], checkov_reports: list[dict[str, Any]]) -> None:
    """checkov honours only the skips written into the templates, and each of those has a reason."""
    skips = [
        (name, entry)
        for path in assembly[1].glob("*.template.json")
        for name, resource in json.loads(path.read_text())["Resources"].items()
        for entry in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, entry in skips:
        assert len(entry.get("comment", "")) > 40, f"{entry['id']} on {name} is skipped without a reason"
    assert sum(r.get("summary", {}).get("skipped", 0) for r in checkov_reports) == len(skips)


def test_checkov_still_finds_what_is_not_accepted(tmp_path: Path) -> None:
    """The gate can fail: a function URL with no reason for being public is reported."""
    template = {
        "Resources": {
            "Url": {"Type": "AWS::Lambda::Url", "Properties": {"AuthType": "NONE", "TargetFunctionArn": "arn"}}
        }
    }
    path = tmp_path / "open.template.json"
    path.write_text(json.dumps(template))
    failed = [c["check_id"] for r in run_checkov([path]) for c in r.get("results", {}).get("failed_checks", [])]
    assert "CKV_AWS_258" in failed
