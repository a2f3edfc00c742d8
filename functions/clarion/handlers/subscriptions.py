"""The subscribe function: a Lambda function URL serving the web package's subscribe app
(``clarion.web.subscribe``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain.subscriptions import SubscriptionDesk
from clarion.handlers.observability import logger, metrics
from clarion.web.subscribe import build_app


@lru_cache(maxsize=1)
def _deployed_app() -> LambdaFunctionUrlResolver:  # pragma: no cover - wiring for the deployed function
    import os

    import boto3

    from clarion.adapters.channels import secret_key
    from clarion.adapters.dynamodb_store import DynamoDBSubscriptionStore
    from clarion.runbook_loader import load_runbook

    def desk() -> SubscriptionDesk:
        from datetime import UTC, datetime

        runbook = load_runbook(os.environ["RUNBOOK_PATH"], lint=False)  # linted at synth
        origin = os.environ.get("SMS_ORIGINATION_IDENTITY", "")
        sms: Any = boto3.client("pinpoint-sms-voice-v2") if origin else None
        return SubscriptionDesk(
            runbook=runbook,
            topic_arn=os.environ["TOPIC_CUSTOMERS"],
            sns=boto3.client("sns"),
            store=DynamoDBSubscriptionStore(os.environ["TABLE_NAME"]),
            send_sms=(
                (
                    lambda phone, text: sms.send_text_message(
                        DestinationPhoneNumber=phone,
                        OriginationIdentity=origin,
                        MessageBody=text,
                        MessageType="TRANSACTIONAL",
                    )
                )
                if origin  # no origination identity: the deployment sends no SMS (and may not)
                else None
            ),
            key=secret_key(os.environ["HMAC_SECRET_ID"]),
            clock=lambda: datetime.now(UTC),
        )

    return build_app(lru_cache(maxsize=1)(desk))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _deployed_app().resolve(event, context)
