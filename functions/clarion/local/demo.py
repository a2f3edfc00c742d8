"""`clarion demo`: a scripted incident on the embedded emulator, every step checked.

Each step runs real code (the intake handler, the DynamoDB store, Step Functions on moto) and then
checks its effect; a step whose effect is missing raises :class:`DemoFailure`, so the demo exits 0
only if everything happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clarion.domain.alarm import state_change_event
from clarion.domain.enums import Severity
from clarion.domain.incident import Incident
from clarion.local.environment import LocalEnvironment, invoke_intake
from clarion.local.moto_glue import EmbeddedMoto
from clarion.runbook_loader import load_runbook

REPO = Path(__file__).resolve().parents[3]


class DemoFailure(RuntimeError):
    pass


@dataclass
class Step:
    title: str
    detail: str


@dataclass
class DemoReport:
    steps: list[Step] = field(default_factory=list)
    incident: Incident | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    executions: list[dict[str, str]] = field(default_factory=list)
    out_dir: Path | None = None
    endpoint_url: str = ""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


def run_demo(
    runbook_path: Path | None = None,
    out_dir: Path | None = None,
    on_step: Callable[[Step], None] | None = None,
    start: datetime | None = None,
) -> DemoReport:
    report = DemoReport()

    def step(title: str, detail: str) -> None:
        s = Step(title, detail)
        report.steps.append(s)
        if on_step:
            on_step(s)

    runbook = load_runbook(runbook_path or REPO / "runbooks")
    step(
        "Runbooks",
        f"{len(runbook.components.components)} components, {len(runbook.rules.rules)} rules, "
        f"languages {', '.join(runbook.settings.languages)}: valid",
    )
    t0 = (start or datetime.now(UTC)).replace(microsecond=0)

    with EmbeddedMoto() as emulator:
        report.endpoint_url = emulator.endpoint_url
        env = LocalEnvironment(emulator)
        env.provision()
        step(
            "Emulator",
            f"moto on {emulator.endpoint_url}: incident and idempotency tables, state machine from "
            "infra/statemachine/incident.asl.json",
        )
        rt = env.intake_runtime(runbook)
        store = env.store()

        latency = state_change_event(
            "checkout-api-prod-latency-p99",
            "ALARM",
            t0,
            namespace="AWS/ApiGateway",
            metric="Latency",
            dimensions={"ApiName": "checkout"},
            reason="Threshold Crossed: 3 datapoints [2310.0, 2290.5, 2402.1] > 1500.0",
        )
        first = invoke_intake(latency, rt)
        _check(
            first["action"] == "opened" and len(first["opened"]) == 1,
            f"latency alarm did not open an incident: {first}",
        )
        incident_id = first["opened"][0]
        inc = store.get_incident(incident_id)
        _check(inc is not None and inc.severity is Severity.SEV3, "incident not stored at SEV3")
        assert inc is not None
        step(
            "Alarm fires",
            f"checkout-api-prod-latency-p99 ALARM -> incident {incident_id} opened "
            f"({inc.severity.value}, {', '.join(f'{c}={s.value}' for c, s in inc.components.items())})",
        )

        again = invoke_intake(latency, rt)
        _check(again == first, "a redelivered event was not deduplicated")
        _check(store.get_incident(incident_id) == inc, "a redelivered event changed the incident")
        step(
            "Duplicate delivery", "the same event again: answered from the idempotency table, nothing changed"
        )

        errors = state_change_event(
            "checkout-api-prod-5xx-rate",
            "ALARM",
            t0 + timedelta(minutes=3),
            namespace="AWS/ApiGateway",
            metric="5XXError",
            dimensions={"ApiName": "checkout"},
            reason="Threshold Crossed: 5xx rate 7.5% > 2%",
        )
        joined = invoke_intake(errors, rt)
        inc = store.get_incident(incident_id)
        _check(
            joined["action"] == "joined" and joined["incident_ids"] == [incident_id],
            f"5xx alarm did not join: {joined}",
        )
        _check(inc is not None and inc.severity is Severity.SEV2, "severity was not raised to SEV2")
        step(
            "Second alarm joins",
            "checkout-api-prod-5xx-rate ALARM joins the same incident; severity SEV3 -> SEV2",
        )

        cleared = invoke_intake(
            state_change_event(
                "checkout-api-prod-latency-p99",
                "OK",
                t0 + timedelta(minutes=20),
                namespace="AWS/ApiGateway",
                dimensions={"ApiName": "checkout"},
            ),
            rt,
        )
        inc = store.get_incident(incident_id)
        _check(
            cleared["action"] == "cleared" and inc is not None and inc.is_open, "incident closed too early"
        )
        step("One alarm clears", "latency OK; the 5xx alarm still fires, so the incident stays open")

        done = invoke_intake(
            state_change_event(
                "checkout-api-prod-5xx-rate",
                "OK",
                t0 + timedelta(minutes=26),
                namespace="AWS/ApiGateway",
                dimensions={"ApiName": "checkout"},
            ),
            rt,
        )
        inc = store.get_incident(incident_id)
        _check(
            done["action"] == "resolving" and inc is not None and inc.resolution_requested_at is not None,
            f"incident not marked for resolution: {done}",
        )
        step("Last alarm clears", "every alarm is OK: incident marked for resolution, workflow told")

        sfn = env.client("stepfunctions")
        execs = sfn.list_executions(stateMachineArn=env.names.state_machine_arn)["executions"]
        report.executions = [{"name": e["name"], "status": e["status"]} for e in execs]
        names = {e["name"] for e in execs}
        _check(
            names == {f"{incident_id}-open", f"{incident_id}-resolve"},
            f"unexpected executions: {sorted(names)}",
        )
        step("Workflow", f"executions started: {', '.join(sorted(names))}")

        report.incident = inc
        report.timeline = [json.loads(e.model_dump_json()) for e in store.timeline(incident_id)]

    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "incident.json").write_text(
            report.incident.model_dump_json(indent=2) if report.incident else "{}"
        )
        (out_dir / "timeline.json").write_text(json.dumps(report.timeline, indent=2))
        (out_dir / "executions.json").write_text(json.dumps(report.executions, indent=2))
        report.out_dir = out_dir
    return report
