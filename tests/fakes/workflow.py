"""A Workflow that records starts, idempotent by execution name like Step Functions."""

from __future__ import annotations

from clarion.adapters.stepfunctions_workflow import execution_name
from clarion.domain.incident import Incident, Signal
from clarion.ports import Workflow


class RecordingWorkflow:
    def __init__(self) -> None:
        self.executions: dict[str, tuple[str, Signal]] = {}
        self.calls = 0
        self.fail_next = 0
        self.stopped: list[str] = []

    def start(
        self, incident: Incident, signal: Signal, suffix: str = "", extra: dict[str, object] | None = None
    ) -> str:
        self.calls += 1
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("injected: Step Functions unreachable")
        name = execution_name(incident, signal, suffix)
        self.executions.setdefault(name, (incident.id, signal))
        return name

    def stop(self, name: str, cause: str) -> None:
        self.stopped.append(name)

    def signals(self, incident_id: str) -> list[Signal]:
        return [sig for inc, sig in self.executions.values() if inc == incident_id]


_check: Workflow = RecordingWorkflow()
