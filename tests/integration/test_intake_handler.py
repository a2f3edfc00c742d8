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


def create_workflow(client: Any) -> str:
    """The incident state machine from the one ASL file (moto does not run it here); its ARN."""
    return str(
        client.create_state_machine(
            name="wf",
            definition=render_asl(ASL, {"StepsFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:steps"}),
            roleArn="arn:aws:iam::123456789012:role/wf",
        )["stateMachineArn"]
    )


@pytest.fixture
def sfn(aws: None) -> Any:
    client = boto3.client("stepfunctions", region_name="us-east-1")
    client.arn = create_workflow(client)  # type: ignore[attr-defined]
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


def _faulted(runbook: Runbook, ddb: Any, sfn: Any, *specs: str) -> IntakeRuntime:
    """The runtime with ``--fault`` specs on its DynamoDB client (the store's and Powertools')."""
    from clarion.local.faults import FaultInjector

    faulty = FaultInjector.from_specs(list(specs)).attach(boto3.client("dynamodb", region_name="us-east-1"), "dynamodb")
    return IntakeRuntime(
        runbook=runbook,
        store=DynamoDBIncidentStore("incidents", faulty),
        workflow=StepFunctionsWorkflow(sfn.arn, sfn),
        idempotency_table="idempotency",
        dynamodb_client=faulty,
        sleep=lambda _s: None,
    )


def _records(ddb: Any) -> list[str]:
    return [i["status"]["S"] for i in ddb.scan(TableName="idempotency")["Items"]]


def _opened_once(ddb: Any, sfn: Any) -> None:
    incidents = [i for i in ddb.scan(TableName="incidents")["Items"] if i["sk"]["S"] == "META"]
    assert len(incidents) == 1
    assert len(sfn.list_executions(stateMachineArn=sfn.arn)["executions"]) == 1


def test_a_failed_result_write_leaves_no_record_in_progress(runbook: Runbook, ddb: Any, sfn: Any) -> None:
    # Powertools writes the result with UpdateItem after the change is applied; that write fails.
    rt = _faulted(runbook, ddb, sfn, "dynamodb.UpdateItem=throttle")
    event = load_event("eventbridge_metric_alarm.json")
    assert handle(event, rt, ctx())["action"] == "opened"  # applied: done, not failed into a retry
    assert _records(ddb) == []  # the record that would refuse a redelivery is gone
    _opened_once(ddb, sfn)
    again = handle(event, rt, ctx())  # a redelivery
    assert again["action"] == "stale" and _records(ddb) == ["COMPLETED"]
    _opened_once(ddb, sfn)


def test_a_failed_change_is_retried_and_its_record_released(runbook: Runbook, ddb: Any, sfn: Any) -> None:
    rt = _faulted(runbook, ddb, sfn, "dynamodb.TransactWriteItems=500x2", "dynamodb.DeleteItem=500x1")
    assert handle(load_event("eventbridge_metric_alarm.json"), rt, ctx())["action"] == "opened"
    assert _records(ddb) == ["COMPLETED"]
    _opened_once(ddb, sfn)


def test_a_record_that_cannot_be_released_expires_with_the_invocation(runbook: Runbook, ddb: Any, sfn: Any) -> None:
    import time

    rt = _faulted(runbook, ddb, sfn, "dynamodb.UpdateItem=500", "dynamodb.DeleteItem=500")
    event = load_event("eventbridge_metric_alarm.json")
    assert handle(event, rt, LocalLambdaContext("clarion-intake", timeout_seconds=0.2))["action"] == "opened"
    (record,) = ddb.scan(TableName="idempotency")["Items"]
    assert record["status"]["S"] == "INPROGRESS"
    assert int(record["in_progress_expiration"]["N"]) <= int(time.time() * 1000) + 300  # not for a day
    time.sleep(0.3)
    assert handle(event, rt, ctx())["action"] == "stale"  # a redelivery after the invocation's end gets through
    assert _records(ddb) == ["COMPLETED"]
    _opened_once(ddb, sfn)
