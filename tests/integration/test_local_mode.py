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


def test_asl_entry_contract_runs_on_motos_interpreter() -> None:
    with EmbeddedMoto() as emulator:
        emulator.configure(execute_state_machines=True)
        try:
            env = LocalEnvironment(emulator)
            env.provision()
            sfn = env.client("stepfunctions")
            arn = env.names.state_machine_arn
            ok = sfn.start_execution(
                stateMachineArn=arn, name="i-open", input=json.dumps({"incident_id": "i", "signal": "open"})
            )
            bad = sfn.start_execution(
                stateMachineArn=arn, name="i-bogus", input=json.dumps({"incident_id": "i", "signal": "bogus"})
            )
            assert _wait(sfn, ok["executionArn"])["status"] == "SUCCEEDED"
            failed = _wait(sfn, bad["executionArn"])
            assert failed["status"] == "FAILED" and failed.get("error") == "Clarion.UnknownSignal"
        finally:
            emulator.configure(execute_state_machines=False)
    assert json.loads(ASL.read_text())["StartAt"] == "RouteSignal"


def test_demo_runs_every_step(tmp_path: Path) -> None:
    report = run_demo(out_dir=tmp_path)
    titles = [s.title for s in report.steps]
    assert titles == [
        "Runbooks",
        "Emulator",
        "Alarm fires",
        "Duplicate delivery",
        "Second alarm joins",
        "One alarm clears",
        "Last alarm clears",
        "Workflow",
    ]
    assert report.incident is not None and report.incident.resolution_requested_at is not None
    assert report.incident.severity.value == "SEV2"
    kinds = [e["kind"] for e in report.timeline]
    assert kinds.count("opened") == 1 and kinds.count("resolution_requested") == 1
    assert json.loads((tmp_path / "incident.json").read_text())["id"] == report.incident.id
    assert {e["status"] for e in report.executions} == {"RUNNING"}  # started; the flow is not executed here
