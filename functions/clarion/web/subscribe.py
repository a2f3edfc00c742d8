"""The subscribe endpoint behind the status page's form: a Lambda function URL routed by
Powertools' event handler.

    POST /subscribe   protocol=email|sms, endpoint, components (repeated), language
    POST /confirm     phone, code (SMS opt-in)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from clarion.domain.subscriptions import Answer, SubscriptionDesk
from clarion.handlers.observability import logger, metrics
from clarion.web.render import render
from clarion.web.security import headers


def render_answer(answer: Answer) -> str:
    return render(
        "subscribe_answer.html.j2",
        page=answer.page,
        text=answer.text,
        lang=answer.lang,
        confirm=answer.confirm,
        error=answer.error,
    )


def _form(body: str) -> dict[str, Any]:
    parsed = parse_qs(body[:20_000], keep_blank_values=True)
    return {k: (v if k == "components" else v[0]) for k, v in parsed.items()}


def build_app(get_desk: Callable[[], SubscriptionDesk]) -> LambdaFunctionUrlResolver:
    """``get_desk`` returns the desk; the deployed function builds it once, at the first request."""
    app = LambdaFunctionUrlResolver()

    def respond(answer: Answer) -> Response[str]:
        metrics.add_metric(name=f"Subscribe{answer.status}", unit="Count", value=1)
        return Response(
            status_code=answer.status,
            content_type="text/html; charset=utf-8",
            body=render_answer(answer),
            headers=headers(),
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
            headers=headers(),
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
