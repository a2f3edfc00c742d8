"""The alarm end of the fault matrix: intake's AWS calls (Powertools idempotency, the incident store,
StartExecution) failing once and three times at each of their calls, through the ``--fault``
mechanism, with each event delivered as Lambda delivers an asynchronous invocation (the first try and
two retries, each after the previous invocation's time is up).

Then for every case: the alarm opened exactly one incident and started its workflow once; the OK
marked it for resolution once and started the resolution once; nothing is left pending; no
idempotency record is left in progress; no event needed the on-failure queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from clarion.adapters.aws_errors import describe
from clarion.adapters.dynamodb_store import DynamoDBIncidentStore, table_definition
from clarion.adapters.stepfunctions_workflow import StepFunctionsWorkflow
from clarion.domain.alarms.events import state_change_event
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.intake import IntakeRuntime, handle
from clarion.handlers.observability import logger
from clarion.local.context import LocalLambdaContext
from clarion.local.environment import idempotency_table_definition
from clarion.local.faults import ERRORS, Fault, FaultInjector
from moto import mock_aws

from tests.integration.test_intake_handler import create_workflow

LAMBDA_ATTEMPTS = 3  # an asynchronous invocation: the first try and two retries, then the on-failure queue
INVOCATION_SECONDS = 0.25  # the test's function timeout: Lambda retries only after it (a minute or more)
INTAKE_OPS = [
    ("dynamodb", "PutItem"),
    ("dynamodb", "GetItem"),
    ("dynamodb", "BatchGetItem"),
    ("dynamodb", "Query"),
    ("dynamodb", "TransactWriteItems"),
    ("dynamodb", "UpdateItem"),
    ("dynamodb", "DeleteItem"),
    ("stepfunctions", "StartExecution"),
]
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def deliver_like_lambda(event: dict[str, Any], rt: IntakeRuntime) -> tuple[dict[str, Any] | None, list[str]]:
    """Invoke the intake as Lambda's asynchronous invocation does. Returns the result (None when
    every attempt failed: the event went to the on-failure queue) and each failed attempt's error."""
    errors: list[str] = []
    for _ in range(LAMBDA_ATTEMPTS):
        context = LocalLambdaContext("clarion-intake", timeout_seconds=INVOCATION_SECONDS)
        try:
            return handle(event, rt, context), errors
        except Exception as exc:
            errors.append(describe(exc))
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 0.01)
    return None, errors


@dataclass
class IntakeOutcome:
    faults: list[str]
    injected: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    failed_attempts: list[str] = field(default_factory=list)


def run_intake(runbook: Runbook, faults: list[Fault]) -> IntakeOutcome:
    injector = FaultInjector(faults)
    outcome = IntakeOutcome([str(f) for f in faults])
    with mock_aws():
        plain = boto3.client("dynamodb", region_name="us-east-1")
        plain.create_table(**table_definition("incidents"))
        plain.create_table(**idempotency_table_definition("idempotency"))
        sfn_plain = boto3.client("stepfunctions", region_name="us-east-1")
        arn = create_workflow(sfn_plain)
        ddb = injector.attach(boto3.client("dynamodb", region_name="us-east-1"), "dynamodb")
        sfn = injector.attach(boto3.client("stepfunctions", region_name="us-east-1"), "stepfunctions")
        rt = IntakeRuntime(
            runbook=runbook,
            store=DynamoDBIncidentStore("incidents", ddb),
            workflow=StepFunctionsWorkflow(arn, sfn),
            idempotency_table="idempotency",
            dynamodb_client=ddb,
            sleep=lambda _s: None,
        )
        for state, minutes in (("ALARM", 0), ("OK", 5)):
            event = state_change_event("checkout-api-prod-5xx-rate", state, T0 + timedelta(minutes=minutes))
            event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["namespace"] = "AWS/ApiGateway"
            result, errors = deliver_like_lambda(event, rt)
            outcome.failed_attempts += errors
            if result is None:
                outcome.problems.append(f"the {state} event went to the on-failure queue: {errors}")
        _check(DynamoDBIncidentStore("incidents", plain), plain, sfn_plain, arn, outcome)
    outcome.injected = len(injector.injected)
    outcome.calls = injector.summary()["calls"]
    return outcome


def _check(store: DynamoDBIncidentStore, ddb: Any, sfn: Any, arn: str, outcome: IntakeOutcome) -> None:
    incidents = store.list_incidents(limit=100)
    if len(incidents) != 1:
        outcome.problems.append(f"{len(incidents)} incidents")
        return
    (incident,) = incidents
    kinds = [e.kind for e in store.timeline(incident.id)]
    for kind in ("opened", "resolution_requested"):
        if kinds.count(kind) != 1:
            outcome.problems.append(f"{kind} recorded {kinds.count(kind)} times")
    if incident.pending_signals:
        outcome.problems.append(f"left pending: {incident.pending_signals}")
    names = sorted(e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"])
    if names != [f"{incident.id}-open", f"{incident.id}-resolve"]:
        outcome.problems.append(f"executions {names}")
    # A record left in progress must expire with its invocation (Lambda retries only after that).
    latest = int((time.time() + INVOCATION_SECONDS) * 1000)
    stuck = [
        i["status"]["S"]
        for i in ddb.scan(TableName="idempotency")["Items"]
        if i["status"]["S"] != "COMPLETED" and int(i.get("in_progress_expiration", {}).get("N", 2**62)) > latest
    ]
    if stuck:
        outcome.problems.append(f"idempotency records left {stuck}")


def intake_cases(calls: dict[str, int]) -> list[list[Fault]]:
    """Each operation failing once at each of its calls, and three times from each of its first
    three calls; DeleteItem (called only to release a record after another write failed) fails
    together with the write whose failure calls it."""
    cases: list[list[Fault]] = []
    for i, (service, op) in enumerate(INTAKE_OPS):
        n = calls.get(f"{service}.{op}", 0)
        for nth in range(1, n + 1):
            cases.append([Fault(service, op, ERRORS[(i + nth) % len(ERRORS)], 1, nth)])
        for nth in range(1, min(n, 3) + 1):
            cases.append([Fault(service, op, ERRORS[(i + nth + 1) % len(ERRORS)], 3, nth)])
    for write in ("UpdateItem", "TransactWriteItems"):
        for count in (1, 3):
            cases.append(
                [Fault("dynamodb", write, "500", count, 1), Fault("dynamodb", "DeleteItem", "throttle", count, 1)]
            )
    return cases


@pytest.fixture
def quiet() -> Callable[[], None]:
    logger.setLevel("CRITICAL")
    return lambda: logger.setLevel("INFO")


def test_intake_loses_and_repeats_nothing_when_any_of_its_calls_fails(runbook: Runbook, quiet: Any) -> None:
    census = run_intake(runbook, [Fault(s, o, "500", 1, 10_000) for s, o in INTAKE_OPS])
    assert census.problems == [] and census.injected == 0
    on_path = {k: v for k, v in census.calls.items() if v}
    assert {"dynamodb.PutItem", "dynamodb.UpdateItem", "stepfunctions.StartExecution"} <= set(on_path), on_path
    cases = intake_cases(census.calls)
    failures: list[IntakeOutcome] = []
    injected = 0
    for faults in cases:
        outcome = run_intake(runbook, faults)
        injected += outcome.injected
        assert outcome.injected >= 1, f"{outcome.faults} never hit a call: {outcome.calls}"
        if outcome.problems:
            failures.append(outcome)
    quiet()
    print(
        f"\nintake fault matrix: {len(cases)} cases over {', '.join(f'{k} ({v} calls)' for k, v in on_path.items())} "
        f"and DeleteItem; {injected} faults injected; {len(failures)} with a lost, repeated or stuck event"
    )
    assert failures == [], "\n".join(
        f"{o.faults}: {o.problems} (attempts failed: {o.failed_attempts})" for o in failures
    )
