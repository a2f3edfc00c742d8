"""`clarion drill`: a game day through the real pipeline.

A synthetic alarm event tagged ``clarion:drill=true`` goes through the intake; the incident it
opens is a drill, so nothing reaches customers (the workflow suppresses the status page, customer
topics and support copies and records that it did). The drill waits for each step, clears the alarm,
waits for the resolution, and reports each step's latency and anything that failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from clarion.cli.backend import Backend, CliError
from clarion.domain.alarms.events import DRILL_TAG, state_change_event

MILESTONES = [
    "opened",
    "workflow_started",
    "internal_notice",
    "drafted",
    "approval_requested",
    "approval_approved",
    "approval_rejected",
    "approval_timed_out",
    "message_sent",
    "drill_suppressed",
    "resolution_requested",
    "resolved",
    "postmortem_drafted",
]


@dataclass
class DrillReport:
    scenario: str
    incident_id: str
    steps: list[dict[str, Any]] = field(default_factory=list)  # {"step", "seconds"}
    failures: list[str] = field(default_factory=list)
    completed: bool = False
    coped: dict[str, Any] = field(default_factory=dict)  # how the pipeline met faults on the way

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "incident_id": self.incident_id,
            "completed": self.completed,
            "steps": self.steps,
            "failures": self.failures,
            "coped": self.coped,
        }


def run_drill(
    backend: Backend,
    scenario: str | None,
    *,
    wait_seconds: float = 120,
    on_progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DrillReport:
    drills = {d.name: d for d in backend.runbook.rules.drills}
    if not drills:
        raise CliError("the runbook set has no drills: add some under `drills:` in rules.yaml (see runbooks/README.md)")
    if scenario is None:
        scenario = next(iter(drills))
    if scenario not in drills:
        raise CliError(f"unknown scenario {scenario!r}; the runbook's drills: {', '.join(drills)}")
    spec = drills[scenario]
    say = on_progress or (lambda _m: None)
    t0 = datetime.now(UTC)
    kw: dict[str, Any] = {"namespace": spec.namespace} if spec.namespace else {}
    if spec.dimensions:
        kw["dimensions"] = dict(spec.dimensions)
    tags = {**spec.tags, DRILL_TAG: "true"}
    fired = backend.invoke_intake(state_change_event(spec.alarm, "ALARM", t0, tags=tags, **kw))
    if fired.get("action") != "opened" or not fired.get("opened"):
        raise CliError(
            f"the drill alarm {spec.alarm} opened no incident ({fired.get('action')}: "
            f"{fired.get('detail', '')}); is a real incident open for that group? "
            f"(`clarion runbooks match {spec.alarm}` shows the rule it hits)"
        )
    incident_id = fired["opened"][0]
    report = DrillReport(scenario, incident_id)
    about = f"{spec.severity.value}" + (f", {spec.about}" if spec.about else "")
    say(f"alarm fired: drill incident {incident_id} ({about})")

    def kinds() -> set[str]:
        return {e.kind for e in backend.store.timeline(incident_id)}

    def wait_for(what: str, done: Callable[[set[str]], bool]) -> bool:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if done(kinds()):
                return True
            sleep(0.1)
        report.failures.append(f"timed out after {wait_seconds:.0f} s waiting for {what}")
        return False

    published = wait_for(
        "the first messages (or the approval's outcome)",
        lambda k: (
            bool(k & {"message_sent", "drill_suppressed"}) or bool(k & {"approval_rejected", "approval_timed_out"})
        ),
    )
    say("first messages handled" if published else "first messages did not go out in time")
    cleared_at = max(datetime.now(UTC), t0 + timedelta(milliseconds=1))  # after the ALARM, whatever the clock
    backend.invoke_intake(state_change_event(spec.alarm, "OK", cleared_at, tags=tags, **kw))
    report.completed = wait_for("the resolution and post-mortem reminder", lambda k: "postmortem_drafted" in k)
    say("resolved" if report.completed else "resolution did not complete in time")

    first: dict[str, datetime] = {}
    for e in backend.store.timeline(incident_id):
        first.setdefault(e.kind, e.at)
        if e.kind == "message_failed":
            report.failures.append(f"{e.data.get('route')}: {e.data.get('error')}")
    report.steps = [{"step": k, "seconds": round((first[k] - t0).total_seconds(), 3)} for k in MILESTONES if k in first]
    report.coped = coping(backend, incident_id)
    for ex in backend.sfn.list_executions(stateMachineArn=backend.workflow.state_machine_arn)["executions"]:
        if ex["name"].startswith(incident_id) and ex["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
            report.failures.append(f"execution {ex['name']} {ex['status']}")
    return report


COPING = {
    "step_failed": "steps that failed after every retry (told to the team and the dead-letter queue)",
    "internal_notice_failed": "internal notices that could not be delivered",
    "message_failed": "routes that failed (dead-letter queue)",
    "decision_recovered": "approvals delivered to the workflow late",
    "superseded": "earlier messages held back because a later phase had gone out",
}


def coping(backend: Backend, incident_id: str) -> dict[str, Any]:
    """What the timeline says about faults met on the way, and, against the local mode, which faults
    ``clarion local up --fault`` injected (from its ``/faults.json``)."""
    timeline = backend.store.timeline(incident_id)
    out: dict[str, Any] = {k: sum(1 for e in timeline if e.kind == k) for k in COPING}
    sent = [(e.data.get("draft_id"), e.data.get("route")) for e in timeline if e.kind == "message_sent"]
    out["duplicate_sends"] = len(sent) - len(set(sent))
    server = backend.extra.get("server") if backend.name == "local" else None
    if server:
        import json
        import urllib.request

        try:
            with urllib.request.urlopen(f"{server}/faults.json", timeout=5) as resp:  # noqa: S310 - loopback
                summary = json.loads(resp.read())
            out["faults"] = summary.get("faults", [])
            out["injected"] = len(summary.get("injected", []))
        except OSError:
            pass
    return out
