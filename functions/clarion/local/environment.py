"""Resources of the pipeline inside the embedded emulator, made from the same definitions the
adapters and the CDK app use, and the real handlers' runtimes wired to them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from clarion.adapters.dynamodb_store import DynamoDBIncidentStore, table_definition
from clarion.adapters.stepfunctions_workflow import StepFunctionsWorkflow
from clarion.domain.runbook import Runbook
from clarion.handlers.intake import IntakeRuntime
from clarion.local.moto_glue import EmbeddedMoto

REPO = Path(__file__).resolve().parents[3]
ASL = REPO / "infra" / "statemachine" / "incident.asl.json"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def render_asl(path: Path, substitutions: dict[str, str]) -> str:
    """The ASL file with ``${Name}`` replaced, as CDK's ``definition_substitutions`` does."""
    text = path.read_text(encoding="utf-8")
    missing = sorted(set(_PLACEHOLDER.findall(text)) - substitutions.keys())
    if missing:
        raise ValueError(f"{path.name}: no value for placeholder(s) {', '.join(missing)}")
    rendered = _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], text)
    json.loads(rendered)  # fail here, not inside the emulator
    return rendered


def idempotency_table_definition(name: str) -> dict[str, Any]:
    """Powertools' DynamoDBPersistenceLayer defaults: partition key ``id``."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    }


@dataclass(frozen=True)
class LocalNames:
    region: str = "us-east-1"
    account: str = "123456789012"
    table: str = "clarion-incidents"
    idempotency_table: str = "clarion-idempotency"
    state_machine: str = "clarion-incident-workflow"

    @property
    def state_machine_arn(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{self.state_machine}"

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/clarion-workflow"


class LocalEnvironment:
    def __init__(self, emulator: EmbeddedMoto, names: LocalNames | None = None) -> None:
        self.emulator = emulator
        self.names = names or LocalNames()
        # Explicit dummy credentials: the local mode must never reach a real account.
        self.session = boto3.session.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the emulator needs some value; not a secret
            region_name=self.names.region,
        )

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.emulator.endpoint_url)  # type: ignore[call-overload]

    def provision(self) -> None:
        ddb = self.client("dynamodb")
        ddb.create_table(**table_definition(self.names.table))
        ddb.create_table(**idempotency_table_definition(self.names.idempotency_table))
        self.client("stepfunctions").create_state_machine(
            name=self.names.state_machine,
            definition=render_asl(ASL, {}),
            roleArn=self.names.role_arn,
            type="STANDARD",
        )

    def store(self) -> DynamoDBIncidentStore:
        return DynamoDBIncidentStore(self.names.table, self.client("dynamodb"))

    def intake_runtime(self, runbook: Runbook) -> IntakeRuntime:
        ddb = self.client("dynamodb")
        return IntakeRuntime(
            runbook=runbook,
            store=DynamoDBIncidentStore(self.names.table, ddb),
            workflow=StepFunctionsWorkflow(self.names.state_machine_arn, self.client("stepfunctions")),
            idempotency_table=self.names.idempotency_table,
            dynamodb_client=ddb,
        )


def invoke_intake(event: Any, runtime: IntakeRuntime) -> dict[str, Any]:
    """Invoke the intake handler in-process as Lambda would: a fresh context per call, and the
    metrics of the invocation dropped afterwards (Lambda flushes them to CloudWatch; here they
    would only pile up)."""
    from clarion.handlers.intake import handle
    from clarion.handlers.observability import metrics
    from clarion.local.context import LocalLambdaContext

    try:
        return handle(event, runtime, LocalLambdaContext("clarion-intake"))
    finally:
        metrics.clear_metrics()
