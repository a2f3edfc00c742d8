"""The scheduled metrics function (EventBridge, every 5 minutes): read the charted CloudWatch
metrics for the last 24 hours and 7 days, draw the charts and ``api/v2/metrics.json``, and publish
them to every page target through the page's publisher, which writes only files that changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from clarion.adapters.cloudwatch_metrics import CloudWatchMetrics
from clarion.adapters.s3_page_publisher import PublishReport, S3Target, StatusPagePublisher
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.observability import logger
from clarion.handlers.settings import load_settings
from clarion.status_page.render import ChartRenderer, SiteRenderer


class MetricsEnv(BaseModel):
    model_config = ConfigDict(frozen=True)

    runbook_path: Path = Field(alias="RUNBOOK_PATH")
    page_targets: str = Field(alias="PAGE_TARGETS", description="JSON list of {name, bucket, prefix, region}")


def publish_metrics(
    runbook: Runbook,
    targets: list[dict[str, Any]],
    client: Callable[[str, str | None], Any],
    now: datetime,
) -> PublishReport:
    """``client(service, region)``: a boto3 client. Used by the deployed function and the local mode."""
    source = CloudWatchMetrics(runbook, lambda region: client("cloudwatch", region))
    s3 = [S3Target(t["name"], t["bucket"], client("s3", t.get("region")), t.get("prefix", "")) for t in targets]
    publisher = StatusPagePublisher(ChartRenderer(SiteRenderer(runbook), lambda: source.fetch(now)), s3)
    return publisher.publish(lambda: [], lambda: now)


@lru_cache(maxsize=1)
def _deployed() -> tuple[Runbook, list[dict[str, Any]]]:  # pragma: no cover - exercised in AWS
    from clarion.runbook_loader import load_runbook

    env = load_settings(MetricsEnv)
    return load_runbook(env.runbook_path, lint=False), json.loads(env.page_targets)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # pragma: no cover
    import boto3

    runbook, targets = _deployed()

    def client(service: str, region: str | None) -> Any:
        return boto3.client(service, region_name=region)  # type: ignore[call-overload]

    report = publish_metrics(runbook, targets, client, datetime.now(UTC))
    written = {t.target: len(t.written) for t in report.targets}
    logger.info("metrics published", extra={"written": written, "failed": [t.target for t in report.failed]})
    if report.failed:
        raise RuntimeError("; ".join(f"{t.target}: {t.error}" for t in report.failed))
    return {"written": written}
