"""The approval endpoint: a Lambda function URL, routed by Powertools' event handler.

GET|HEAD /approvals/<id>?a=&e=&s=   the confirmation page; never decides (link scanners)
POST     /approvals/<id>            the decision, from that page's form (CSRF value inside)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain.approvals.desk import ApprovalDesk, Page
from clarion.domain.approvals.page import render_result
from clarion.handlers.observability import logger, metrics

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the link's signature must not leak to other sites
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}
MAX_BODY = 200_000


def build_app(get_desk: Callable[[], ApprovalDesk]) -> LambdaFunctionUrlResolver:
    """``get_desk`` returns the desk; the deployed function builds it once, at the first request."""
    app = LambdaFunctionUrlResolver()

    def respond(page: Page, head: bool = False) -> Response[str]:
        metrics.add_metric(name=f"ApprovalPage{page.status}", unit="Count", value=1)
        return Response(
            status_code=page.status,
            content_type="text/html; charset=utf-8",
            body="" if head else page.html,
            headers=dict(HEADERS),
        )

    def busy(exc: Exception) -> Page:
        # AWS kept failing before anything was decided: say so, never a bare 500.
        logger.warning("approval desk unavailable", extra={"error": type(exc).__name__})
        return Page(
            503,
            render_result(
                "Please try again in a minute",
                "Clarion could not reach its database just now. Nothing was decided; your link still works.",
            ),
        )

    @app.route("/approvals/<approval_id>", method=["GET", "HEAD"])
    def view(approval_id: str) -> Response[str]:
        params = dict(app.current_event.query_string_parameters or {})
        try:
            page = get_desk().view(approval_id, params, action=f"/approvals/{approval_id}")
        except Exception as exc:
            page = busy(exc)
        logger.info("approval page viewed", extra={"approval_id": approval_id, "status": page.status})
        return respond(page, head=app.current_event.request_context.http.method == "HEAD")

    @app.post("/approvals/<approval_id>")
    def decide(approval_id: str) -> Response[str]:
        try:
            raw = app.current_event.decoded_body or ""
        except (UnicodeDecodeError, ValueError):
            return respond(Page(400, render_result("Unreadable form", "The form was not sent as UTF-8 text.")))
        if len(raw) > MAX_BODY:
            return respond(Page(413, "<p>Request too large.</p>"))
        form = dict(parse_qsl(raw, keep_blank_values=True))
        try:
            page = get_desk().decide(approval_id, form, action=f"/approvals/{approval_id}")
        except Exception as exc:
            page = busy(exc)
        logger.info(
            "approval decision",
            extra={"approval_id": approval_id, "status": page.status, "decision": form.get("decision", "")},
        )
        return respond(page)

    return app


@lru_cache(maxsize=1)
def _deployed_app() -> LambdaFunctionUrlResolver:  # pragma: no cover - wiring for the deployed function
    from clarion.handlers.runtime import deployed_approval_desk

    return build_app(deployed_approval_desk)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _deployed_app().resolve(event, context)
