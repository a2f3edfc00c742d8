"""The embedded emulator: moto glue guard, the ASL contract on moto's interpreter, the demo."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from clarion.local import moto_glue
from clarion.local.demo import run_demo
from clarion.local.environment import ASL, LocalEnvironment, render_asl
from clarion.local.moto_glue import EmbeddedMoto, MotoMismatch, check_moto


def test_installed_moto_is_the_supported_one() -> None:
    assert check_moto().startswith("5.2.")


def test_glue_fails_loudly_on_another_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_glue, "version", lambda _name: "5.3.1")
    with pytest.raises(MotoMismatch, match=r"supports >=5\.2\.5,<5\.3"):
        check_moto()


def test_render_asl_requires_every_placeholder(tmp_path: Path) -> None:
    asl = tmp_path / "x.asl.json"
    asl.write_text('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Fn}", "End": true}}}')
    with pytest.raises(ValueError, match="Fn"):
        render_asl(asl, {})
    assert '"arn:fn"' in render_asl(asl, {"Fn": "arn:fn"})


def _wait(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        d: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.05)
    raise AssertionError("execution did not finish")


def test_asl_rejects_unknown_signals_on_motos_interpreter() -> None:
    with EmbeddedMoto() as emulator:
        env = LocalEnvironment(emulator)
        env.provision()
        sfn = env.client("stepfunctions")
        arn = env.names.state_machine_arn
        for name, payload in {
            "bogus": {"incident_id": "i", "signal": "bogus"},
            "no-iteration": {"incident_id": "i", "signal": "monitor"},
            "no-incident": {"signal": "open"},
        }.items():
            started = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
            failed = _wait(sfn, started["executionArn"])
            assert failed["status"] == "FAILED" and failed.get("error") == "Clarion.UnknownSignal", name
    asl = json.loads(ASL.read_text())
    assert asl["StartAt"] == "RouteSignal"
    waits = [s for s in asl["States"].values() if s["Type"] == "Task" and "waitForTaskToken" in s["Resource"]]
    assert waits and all("TimeoutSecondsPath" in s or "TimeoutSeconds" in s for s in waits)  # every wait time-boxed


def test_demo_runs_every_step(tmp_path: Path) -> None:
    report = run_demo(out_dir=tmp_path)
    titles = [s.title for s in report.steps]
    assert titles == [
        "Runbooks",
        "Emulator",
        "Metrics",
        "Alarm fires",
        "Duplicate delivery",
        "Internal channel",
        "Approval requested",
        "Approved",
        "Published",
        "Social",
        "Regular update",
        "Resolved",
        "Check-in",
        "Workflow",
    ]
    inc = report.incident
    assert inc is not None and inc.resolved_at is not None and inc.severity.value == "SEV2"
    kinds = [e["kind"] for e in report.timeline]
    assert kinds.count("opened") == 1 and kinds.count("approval_approved") == 3 and "postmortem_drafted" in kinds
    # Every route of every published draft went out exactly once.
    sent = [(e["data"]["draft_id"], e["data"]["route"]) for e in report.timeline if e["kind"] == "message_sent"]
    # five routes and a post on Mastodon and on Bluesky, three times; the check-in: every route told but the page
    assert len(sent) == len(set(sent)) == 7 * 3 + 6
    assert {e["status"] for e in report.executions} == {"SUCCEEDED"}
    names = {e["name"] for e in report.executions}
    assert names == {f"{inc.id}-open", f"{inc.id}-resolve"}
    # The approver's edit is what customers read on the status page.
    page = (tmp_path / "page" / f"incidents/{inc.id}.html").read_text()
    assert "Bank transfers work normally." in page
    assert "All systems operational" in (tmp_path / "page" / "index.html").read_text()
    channels = {r["channel"] for r in report.outbox}
    assert {
        "status_page",
        "sns:customers",
        "sns:technical",
        "chat:technical",
        "email:support",
        "internal",
        "email (SES)",
        "social:mastodon:en",
        "social:bluesky:en",
    } <= channels
    # The page charts what the demo put into the emulator's CloudWatch, under its component.
    index = (tmp_path / "page" / "index.html").read_text()
    assert '<img src="metrics/web-app.response-time.24h.svg" alt="Response time, last 24 hours"' in index
    assert (tmp_path / "page" / "metrics" / "web-app.response-time.24h.svg").read_text().count("<desc")
    assert (tmp_path / "postmortem.md").read_text().startswith("# Post-mortem: Online invoice payments failing")
    assert report.seconds < 60
