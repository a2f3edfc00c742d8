"""The subscribe endpoint behind the status page's form: a Lambda function URL routed by
Powertools' event handler.

    POST /subscribe   protocol=email|sms, endpoint, components (repeated), language
    POST /confirm     phone, code (SMS opt-in)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain.subscriptions import Answer, SubscriptionDesk
from clarion.handlers.observability import logger, metrics

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
}


def _form(body: str) -> dict[str, Any]:
    parsed = parse_qs(body[:20_000], keep_blank_values=True)
    return {k: (v if k == "components" else v[0]) for k, v in parsed.items()}


def build_app(get_desk: Callable[[], SubscriptionDesk]) -> LambdaFunctionUrlResolver:
    """``get_desk`` returns the desk; the deployed function builds it once, at the first request."""
    app = LambdaFunctionUrlResolver()

    def respond(answer: Answer) -> Response[str]:
        metrics.add_metric(name=f"Subscribe{answer.status}", unit="Count", value=1)
        return Response(
            status_code=answer.status, content_type="text/html; charset=utf-8", body=answer.html, headers=dict(HEADERS)
        )

    def source() -> str:
        return app.current_event.request_context.http.source_ip or "unknown"

    def body() -> str | None:
        try:
            return app.current_event.decoded_body or ""
        except (UnicodeDecodeError, ValueError):
            return None

    def unreadable() -> Response[str]:
        return Response(
            status_code=400,
            content_type="text/plain; charset=utf-8",
            body="The form was not sent as UTF-8 text.",
            headers=dict(HEADERS),
        )

    @app.post("/subscribe")
    def subscribe() -> Response[str]:
        raw = body()
        if raw is None:
            return unreadable()
        answer = get_desk().subscribe(_form(raw), source())
        logger.info("subscribe", extra={"status": answer.status})  # never the address
        return respond(answer)

    @app.post("/confirm")
    def confirm() -> Response[str]:
        raw = body()
        if raw is None:
            return unreadable()
        return respond(get_desk().confirm(_form(raw), source()))

    return app


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
