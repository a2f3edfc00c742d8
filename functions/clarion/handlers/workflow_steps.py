"""The workflow's Task states: one function, one typed request per step. Thin: parse, call the
step on :class:`clarion.domain.workflow.service.WorkflowService`, return its result. Task tokens are never
logged.

Every step is safe to run twice, so a transient AWS error (throttling, 5xx, a dropped connection,
beyond botocore's own retries) re-runs the step here a few times with backoff; if it persists it
leaves as ``TransientError``, which the state machine's Retry takes, and then its Catch."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from clarion.adapters.aws_errors import describe, is_transient, transient
from clarion.domain.errors import ConcurrentUpdate, TransientError
from clarion.domain.workflow.service import WorkflowService
from clarion.handlers.observability import logger, metrics

Step = Literal[
    "open",
    "draft",
    "request_approval",
    "approval_timeout",
    "rejected",
    "publish_route",
    "route_failed",
    "published",
    "check",
    "continue_as_new",
    "resolve",
    "postmortem",
    "maintenance_phase",
    "step_failed",
]


class StepRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step: Step
    incident_id: str = Field(min_length=1, max_length=120)
    draft_id: str = ""
    phase: str = ""
    token: str = Field(default="", repr=False)
    level: int = 0
    route: str = ""
    iteration: int = 0
    start: int = 0
    error: dict[str, Any] = Field(default_factory=dict)
    failed_step: str = Field(default="", max_length=80)
    continues: bool = False


def run_step(event: dict[str, Any], service: WorkflowService) -> dict[str, Any]:
    req = StepRequest.model_validate(event)
    logger.append_keys(incident_id=req.incident_id, step=req.step)
    attempts = max(1, service.settings.retry_attempts)
    delay = service.settings.retry_base_seconds
    for attempt in range(1, attempts + 1):
        try:
            return _run(req, service)
        except ConcurrentUpdate:
            if attempt == attempts:
                raise
        except TransientError:
            raise  # the step already retried; the state machine's Retry takes it from here
        except Exception as exc:
            if not is_transient(exc):
                raise
            logger.warning("transient AWS error", extra={"error": describe(exc), "attempt": attempt})
            metrics.add_metric(name="TransientError", unit=MetricUnit.Count, value=1)
            if attempt == attempts:
                raise transient(exc) from exc
        service.sleep(delay * service.settings.time_scale)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def _run(req: StepRequest, s: WorkflowService) -> dict[str, Any]:
    match req.step:
        case "open":
            return s.open(req.incident_id)
        case "draft":
            return s.draft(req.incident_id, req.phase, req.draft_id)
        case "request_approval":
            s.request_approval(req.incident_id, req.draft_id, req.token, req.level)
            return {"requested": True}
        case "approval_timeout":
            return s.approval_timeout(req.incident_id, req.draft_id, req.level)
        case "rejected":
            return s.rejected(req.incident_id, req.draft_id)
        case "publish_route":
            return s.publish_route(req.incident_id, req.draft_id, req.route)
        case "route_failed":
            metrics.add_metric(name="RouteFailed", unit=MetricUnit.Count, value=1)
            return s.route_failed(req.incident_id, req.draft_id, req.route, req.error)
        case "published":
            return s.published(req.incident_id, req.draft_id)
        case "check":
            return s.check(req.incident_id, req.iteration, req.start)
        case "continue_as_new":
            return s.continue_as_new(req.incident_id, req.iteration)
        case "resolve":
            return s.resolve(req.incident_id)
        case "postmortem":
            return s.postmortem(req.incident_id)
        case "maintenance_phase":
            return s.maintenance_phase(req.incident_id, req.phase)
        case "step_failed":
            metrics.add_metric(name="StepFailed", unit=MetricUnit.Count, value=1)
            return s.step_failed(req.incident_id, req.failed_step, req.error, continues=req.continues)
    raise AssertionError(req.step)  # pragma: no cover - Literal covers every case


@lru_cache(maxsize=1)
def service() -> WorkflowService:  # pragma: no cover - wiring for the deployed function
    from clarion.handlers.runtime import deployed_workflow_service

    return deployed_workflow_service()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_step(event, service())
