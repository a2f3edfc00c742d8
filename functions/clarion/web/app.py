"""The approval function's web app (a Lambda function URL, and `clarion local up`), routed by
Powertools' event handler: the approval page and the desk.

GET|HEAD /approvals/<id>?a=&e=&s=   the confirmation page (never decides)
POST     /approvals/<id>            the decision (see ``clarion.web.approvals``)
/desk...                            the desk for the communications roles (see ``clarion.web.desk``)

HEAD answers with the headers GET would send (the same Content-Type and Content-Length) and no body.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from clarion.domain.approvals.desk import ApprovalDesk, Page
from clarion.handlers.observability import logger, metrics
from clarion.web.approvals import approval_headers, render_page
from clarion.web.security import headers

if TYPE_CHECKING:
    from clarion.web.desk import Desk

MAX_BODY = 200_000
HTML = "text/html; charset=utf-8"


def build_app(
    get_approvals: Callable[[], ApprovalDesk],
    get_desk: Callable[[], Desk] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LambdaFunctionUrlResolver:
    """The providers return the approval desk and the desk; the deployed function builds them once."""
    app = LambdaFunctionUrlResolver()

    def respond(page: Page, action: str) -> Response[str]:
        metrics.add_metric(name=f"ApprovalPage{page.status}", unit="Count", value=1)
        html = render_page(page, action, clock())
        hdrs = headers(approval_headers() if page.view else ())
        head = app.current_event.request_context.http.method == "HEAD"
        if head:  # no body, and the length GET would send
            hdrs["Content-Length"] = str(len(html.encode()))
        return Response(status_code=page.status, content_type=HTML, body="" if head else html, headers=hdrs)

    def busy(exc: Exception) -> Page:
        # AWS kept failing before anything was decided: say so, never a bare 500.
        logger.warning("approval desk unavailable", extra={"error": type(exc).__name__})
        return Page(
            503,
            "Please try again in a minute",
            "Clarion could not reach its database just now. Nothing was decided; your link still works.",
        )

    @app.route("/approvals/<approval_id>", method=["GET", "HEAD"])
    def view(approval_id: str) -> Response[str]:
        params = dict(app.current_event.query_string_parameters or {})
        action = f"/approvals/{approval_id}"
        try:
            page = get_approvals().view(approval_id, params, action=action)
        except Exception as exc:
            page = busy(exc)
        logger.info("approval page viewed", extra={"approval_id": approval_id, "status": page.status})
        return respond(page, action)

    @app.post("/approvals/<approval_id>")
    def decide(approval_id: str) -> Response[str]:
        action = f"/approvals/{approval_id}"
        try:
            raw = app.current_event.decoded_body or ""
        except (UnicodeDecodeError, ValueError):
            return respond(Page(400, "Unreadable form", "The form was not sent as UTF-8 text."), action)
        if len(raw) > MAX_BODY:
            return respond(Page(413, "Request too large", "The form was larger than Clarion accepts."), action)
        form = dict(parse_qsl(raw, keep_blank_values=True))
        try:
            page = get_approvals().decide(approval_id, form, action=action)
        except Exception as exc:
            page = busy(exc)
        logger.info(
            "approval decision",
            extra={"approval_id": approval_id, "status": page.status, "decision": form.get("decision", "")},
        )
        return respond(page, action)

    if get_desk is not None:
        from clarion.web.desk import register

        register(app, get_desk)
    return app
