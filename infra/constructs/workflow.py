"""The incident state machine, from the one ASL file (docs/design.md, decision 1)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

ASL = Path(__file__).resolve().parents[1] / "statemachine" / "incident.asl.json"


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        substitutions: dict[str, str],
        retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(self, "Logs", retention=retention, removal_policy=RemovalPolicy.RETAIN)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_file(str(ASL)),
            definition_substitutions=substitutions or None,
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
