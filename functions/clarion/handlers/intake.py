"""Alarm intake: EventBridge "CloudWatch Alarm State Change" events and alarm Lambda actions.

Thin: parse the event, dedupe it (Powertools Idempotency on alarm ARN + state + state timestamp),
apply it with :func:`clarion.domain.alarms.intake.apply_alarm` (transient AWS errors retried a few
times), and map errors to logs and metrics.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.adapters.aws_errors import describe, is_transient
from clarion.domain.alarms.events import AlarmEvent, parse_alarm_event
from clarion.domain.alarms.intake import apply_alarm
from clarion.domain.errors import IgnoredEvent, MalformedEvent
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.observability import logger, metrics
from clarion.handlers.settings import IntakeSettings, load_settings
from clarion.ports import IncidentStore, Workflow
from clarion.runbook_loader import load_runbook


class IntakeRuntime:
    """What the handler needs, built once per container (or injected by tests and the local mode)."""

    def __init__(
        self,
        runbook: Runbook,
        store: IncidentStore,
        workflow: Workflow,
        idempotency_table: str | None = None,
        idempotency_ttl_seconds: int = 86400,
        dynamodb_client: Any = None,
        retry_attempts: int = 3,
        retry_base_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.runbook = runbook
        self.store = store
        self.workflow = workflow
        self.retry_attempts = max(1, retry_attempts)
        self.retry_base_seconds = retry_base_seconds
        self.sleep = sleep
        self._process = self._apply
        self._layer: Any = None
        self._applied = threading.local()  # this thread's last applied result, if its record fails to save
        self.idempotency_config: Any = None
        if idempotency_table:
            # Imported here: only the deployed handler pays for it, after settings are read.
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            self._layer = DynamoDBPersistenceLayer(table_name=idempotency_table, boto3_client=dynamodb_client)
            self.idempotency_config = IdempotencyConfig(expires_after_seconds=idempotency_ttl_seconds)
            self._process = idempotent_function(
                data_keyword_argument="key", persistence_store=self._layer, config=self.idempotency_config
            )(self._apply)

    def process(self, event: AlarmEvent) -> dict[str, Any]:
        """Apply the event once per (alarm, state, state time). A transient AWS error is retried
        here a few times with backoff; beyond that the invocation fails and Lambda retries it.

        Powertools leaves the idempotency record INPROGRESS when its own write fails after the
        change was applied (saving the result) or after the change failed (deleting the record),
        and then refuses every retry until the record expires (with this invocation). So on such a
        failure the record is removed, and a change that was applied counts as done: the change
        itself is idempotent (an event not newer than the alarm's state is stale), so a redelivery
        or a retry only delivers what an earlier attempt left pending."""
        key = {"alarm": event.alarm_arn, "state": event.state.value, "at": event.state_timestamp.isoformat()}
        delay = self.retry_base_seconds
        for attempt in range(1, self.retry_attempts + 1):
            self._applied.result = None
            try:
                return self._process(key=key, event=event)
            except Exception as exc:
                released = self._release(key, exc)
                applied: dict[str, Any] | None = self._applied.result
                if applied is not None and applied.get("key") == key:
                    # Applied; only its record failed to save. Done: a redelivery finds the event stale.
                    logger.warning("alarm applied, its idempotency result not saved", extra={"error": describe(exc)})
                    return dict(applied["result"])
                if not (released and is_transient(exc)) or attempt == self.retry_attempts:
                    raise
                logger.warning("transient AWS error", extra={"error": describe(exc), "attempt": attempt})
            self.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _release(self, key: dict[str, str], exc: Exception) -> bool:
        """False when a record may still be in progress (so a retry now would be refused)."""
        if self._layer is None:
            return True
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyPersistenceLayerError

        if not isinstance(exc, IdempotencyPersistenceLayerError):
            return True
        try:
            self._layer.delete_record(data=key, exception=exc)
        except Exception as again:  # it still expires with the invocation (Powertools' in-progress expiry)
            logger.warning("idempotency record not released", extra={"error": describe(again)})
            return False
        return True

    def _apply(self, key: dict[str, str], event: AlarmEvent) -> dict[str, Any]:
        outcome = apply_alarm(event, self.runbook, self.store, self.workflow, datetime.now(UTC))
        # JSON types only, so a first answer and one replayed from the idempotency table are equal.
        result: dict[str, Any] = json.loads(json.dumps(asdict(outcome)))
        self._applied.result = {"key": key, "result": result}
        return result


@lru_cache(maxsize=1)
def runtime() -> IntakeRuntime:
    from clarion.adapters.dynamodb_store import DynamoDBIncidentStore
    from clarion.adapters.stepfunctions_workflow import StepFunctionsWorkflow

    settings = load_settings(IntakeSettings)
    return IntakeRuntime(
        runbook=load_runbook(settings.runbook_path, lint=False),  # linted at synth
        store=DynamoDBIncidentStore(settings.table_name),
        workflow=StepFunctionsWorkflow(settings.state_machine_arn),
        idempotency_table=settings.idempotency_table_name,
        idempotency_ttl_seconds=settings.idempotency_ttl_seconds,
    )


def handle(event: Any, rt: IntakeRuntime, context: LambdaContext | None = None) -> dict[str, Any]:
    """The handler's logic with its runtime given; the Lambda entry point below supplies it."""
    if context is not None and rt.idempotency_config is not None:
        rt.idempotency_config.register_lambda_context(context)
    try:
        alarm = parse_alarm_event(event)
    except IgnoredEvent as exc:
        logger.info("event ignored", extra={"reason": exc.message, **exc.ident})
        metrics.add_metric(name="IgnoredEvents", unit=MetricUnit.Count, value=1)
        return {"action": "ignored", "reason": exc.message}
    except MalformedEvent as exc:
        # Raised on so the invocation fails into the on-failure destination: nothing is lost.
        logger.warning("malformed event", extra={"reason": exc.message, **exc.ident})
        metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        raise
    logger.append_keys(alarm_arn=alarm.alarm_arn, alarm_state=alarm.state.value)
    result = rt.process(alarm)
    logger.info("alarm applied", extra={"action": result["action"], "incidents": result["incident_ids"]})
    metrics.add_metric(name=f"Alarm{result['action'].title()}", unit=MetricUnit.Count, value=1)
    if result["opened"]:
        metrics.add_metric(name="IncidentsOpened", unit=MetricUnit.Count, value=len(result["opened"]))
    return result


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, runtime(), context)
