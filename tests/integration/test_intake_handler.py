"""The intake Lambda handler with real Powertools idempotency on moto DynamoDB and Step Functions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from clarion.adapters.dynamodb_store import DynamoDBIncidentStore
from clarion.adapters.stepfunctions_workflow import StepFunctionsWorkflow
from clarion.domain.errors import MalformedEvent
from clarion.domain.runbooks.model import Runbook
from clarion.handlers import intake
from clarion.handlers.intake import IntakeRuntime, handle
from clarion.local.context import LocalLambdaContext
from clarion.local.environment import ASL, render_asl

from tests.conftest import RUNBOOKS, load_event


@pytest.fixture
def sfn(aws: None) -> Any:
    client = boto3.client("stepfunctions", region_name="us-east-1")
    arn = client.create_state_machine(
        name="wf",
        definition=render_asl(ASL, {"StepsFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:steps"}),
        roleArn="arn:aws:iam::123456789012:role/wf",
    )["stateMachineArn"]
    client.arn = arn  # type: ignore[attr-defined]
    return client


@pytest.fixture
def rt(runbook: Runbook, ddb: Any, sfn: Any) -> IntakeRuntime:
    return IntakeRuntime(
        runbook=runbook,
        store=DynamoDBIncidentStore("incidents", ddb),
        workflow=StepFunctionsWorkflow(sfn.arn, sfn),
        idempotency_table="idempotency",
        dynamodb_client=ddb,
    )


def ctx() -> Any:
    return LocalLambdaContext("clarion-intake")


def test_alarm_opens_incident_and_starts_one_execution(rt: IntakeRuntime, sfn: Any) -> None:
    result = handle(load_event("eventbridge_metric_alarm.json"), rt, ctx())
    assert result["action"] == "opened"
    (incident_id,) = result["opened"]
    executions = sfn.list_executions(stateMachineArn=sfn.arn)["executions"]
    assert [e["name"] for e in executions] == [f"{incident_id}-open"]
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"]) == {"incident_id": incident_id, "signal": "open", "drill": False}


def test_redelivery_is_answered_from_the_idempotency_table(rt: IntakeRuntime, ddb: Any) -> None:
    event = load_event("eventbridge_metric_alarm.json")
    first = handle(event, rt, ctx())
    records = ddb.scan(TableName="idempotency")["Items"]
    assert len(records) == 1 and records[0]["status"]["S"] == "COMPLETED"
    before = ddb.scan(TableName="incidents")["Items"]
    second = handle(event, rt, ctx())
    assert second == first
    assert ddb.scan(TableName="incidents")["Items"] == before


def test_lambda_action_shape_and_ok_resolve(rt: IntakeRuntime, sfn: Any) -> None:
    opened = handle(load_event("lambda_action.json"), rt, ctx())
    assert opened["action"] == "opened" and opened["rule_id"] == "login-errors"
    handle(load_event("eventbridge_metric_alarm.json"), rt, ctx())
    done = handle(load_event("eventbridge_metric_alarm_ok.json"), rt, ctx())
    assert done["action"] == "resolving"
    names = sorted(e["name"] for e in sfn.list_executions(stateMachineArn=sfn.arn)["executions"])
    assert len(names) == 3 and sum(n.endswith("-resolve") for n in names) == 1


def test_malformed_event_raises_typed_error_and_counts(rt: IntakeRuntime, capsys: pytest.CaptureFixture[str]) -> None:
    event = load_event("eventbridge_metric_alarm.json")
    event["detail"]["state"]["value"] = "ON_FIRE"
    with pytest.raises(MalformedEvent):
        intake.metrics.log_metrics(lambda e, c: handle(e, rt, c))(event, ctx())
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if line.startswith("{") and "_aws" in line]
    assert any(m.get("MalformedEvents") == [1.0] or m.get("MalformedEvents") == 1.0 for m in emf)
    assert "ON_FIRE" not in out or "detail.state.value" in out  # identified, not dumped


def test_other_detail_type_is_ignored(rt: IntakeRuntime, ddb: Any) -> None:
    assert handle(load_event("eventbridge_config_change.json"), rt, ctx())["action"] == "ignored"
    assert ddb.scan(TableName="incidents")["Items"] == []


@pytest.fixture
def deployed_env(monkeypatch: pytest.MonkeyPatch, ddb: Any, sfn: Any) -> Iterator[None]:
    monkeypatch.setenv("TABLE_NAME", "incidents")
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "idempotency")
    monkeypatch.setenv("STATE_MACHINE_ARN", sfn.arn)
    monkeypatch.setenv("RUNBOOK_PATH", str(RUNBOOKS))
    intake.runtime.cache_clear()
    yield
    intake.runtime.cache_clear()


def test_lambda_entry_point_builds_its_runtime_from_the_environment(deployed_env: None) -> None:
    result = intake.lambda_handler(load_event("eventbridge_metric_alarm.json"), ctx())
    assert result["action"] == "opened"


def test_missing_environment_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "STATE_MACHINE_ARN", "RUNBOOK_PATH"):
        monkeypatch.delenv(name, raising=False)
    intake.runtime.cache_clear()
    with pytest.raises(RuntimeError, match="IntakeSettings: environment is not set up: TABLE_NAME"):
        intake.runtime()
    intake.runtime.cache_clear()
