"""Starting the incident workflow on Step Functions, idempotently."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from clarion.adapters.aws_errors import retry_config
from clarion.domain.incident import Incident, Signal

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def execution_name(incident: Incident, signal: Signal, suffix: str = "") -> str:
    """Deterministic (docs/design.md, decision 3): a retried start finds the execution already there."""
    return f"{incident.id}-{signal}" + (f"-{suffix}" if suffix else "")


class StepFunctionsWorkflow:
    def __init__(self, state_machine_arn: str, client: SFNClient | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self.client: SFNClient = client or boto3.client("stepfunctions", config=retry_config("stepfunctions"))

    def start(
        self, incident: Incident, signal: Signal, suffix: str = "", extra: dict[str, object] | None = None
    ) -> str:
        name = execution_name(incident, signal, suffix)
        payload = {"incident_id": incident.id, "signal": signal, "drill": incident.drill, **(extra or {})}
        try:
            self.client.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
        return name

    def stop(self, name: str, cause: str) -> None:
        """Stop an execution by name; one already finished (or never started) is left as it is."""
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        try:
            self.client.stop_execution(executionArn=arn, cause=cause)
        except ClientError:
            return
