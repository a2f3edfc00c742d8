"""The approval function: a Lambda function URL serving the approval page and the desk through the
web package's Powertools app (``clarion.web.app``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.handlers.observability import logger, metrics
from clarion.web.app import build_app


@lru_cache(maxsize=1)
def _deployed_app() -> LambdaFunctionUrlResolver:  # pragma: no cover - wiring for the deployed function
    from clarion.handlers.runtime import deployed_approval_desk, deployed_desk

    return build_app(deployed_approval_desk, deployed_desk)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _deployed_app().resolve(event, context)
