"""The feedback endpoint behind "Was this update helpful?": a Lambda function URL routed by
Powertools' event handler.

GET|HEAD /feedback?i=&u=&p=&l=&r=&e=&s=[&v=yes|no]   a page asking to confirm (email links); never counts
POST     /feedback                                   the answer: counts once per reader and update

The incident pages' form posts here directly. A body that is not UTF-8 gets 400 and counts nothing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from jinja2 import Environment, PackageLoader, select_autoescape

from clarion.domain.feedback.collect import MAX_FORM, FeedbackCollector, Outcome, Result
from clarion.domain.feedback.model import COMMENT_MAX
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.observability import logger, metrics

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "question": "Was this update helpful?",
        "yes": "Yes",
        "no": "No",
        "comment": "Anything we could say better? (optional, up to 500 characters; only our team reads it)",
        "send": "Send",
        "nothing_yet": "Opening this page sent nothing: choose Yes or No and press Send.",
        "back": "Back to the incident",
        "counted": "Thank you. We have recorded your answer.",
        "already": "We already have your answer for this update. Thank you.",
        "forged": "This link is not valid. Nothing was recorded.",
        "expired": "We no longer take answers about this update. Nothing was recorded.",
        "malformed": "This link is incomplete. Open it exactly as it reached you. Nothing was recorded.",
        "limited": "We received too many answers from your network. Please try again in an hour.",
        "too_long": "Your comment has {n} characters; the limit is {limit}. Please shorten it and send again.",
        "no_vote": "Choose Yes or No, then press Send.",
        "unreadable": "We could not read the form (it was not UTF-8 text). Nothing was recorded.",
        "too_large": "The form is too large. Nothing was recorded.",
    },
    "es": {
        "question": "¿Le resultó útil esta actualización?",
        "yes": "Sí",
        "no": "No",
        "comment": "¿Algo que podríamos explicar mejor? (opcional, hasta 500 caracteres; solo lo lee nuestro equipo)",
        "send": "Enviar",
        "nothing_yet": "Abrir esta página no envió ninguna respuesta: elija Sí o No y haga clic en Enviar.",
        "back": "Volver al incidente",
        "counted": "Gracias. Registramos su respuesta.",
        "already": "Ya tenemos su respuesta sobre esta actualización. Gracias.",
        "forged": "Este enlace no es válido. No se registró ninguna respuesta.",
        "expired": "Ya no recibimos respuestas sobre esta actualización. No se registró ninguna respuesta.",
        "malformed": "Este enlace está incompleto. Ábralo tal como le llegó. No se registró ninguna respuesta.",
        "limited": "Recibimos demasiadas respuestas desde su red. Inténtelo de nuevo en una hora.",
        "too_long": "Su comentario tiene {n} caracteres y el máximo es {limit}. Acórtelo y vuelva a enviarlo.",
        "no_vote": "Elija Sí o No y haga clic en Enviar.",
        "unreadable": "No pudimos leer el formulario (no era texto UTF-8). No se registró ninguna respuesta.",
        "too_large": "El formulario es demasiado grande. No se registró ninguna respuesta.",
    },
}


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("clarion.handlers", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


@dataclass
class FeedbackPages:
    """The collector, and how its results look to a reader."""

    runbook: Runbook
    collector: FeedbackCollector

    def language(self, wanted: str) -> str:
        languages = self.runbook.settings.languages
        return wanted if wanted in languages else self.runbook.settings.default_language

    def incident_url(self, result: Result, lang: str) -> str:
        if result.token is None:
            return ""
        base = self.runbook.settings.page.url.rstrip("/")
        prefix = "" if lang == self.runbook.settings.default_language else f"/{lang}"
        return f"{base}{prefix}/incidents/{result.token.incident_id}.html"

    def render(self, result: Result, lang_hint: str = "", *, message_key: str = "") -> str:
        lang = self.language(result.token.language if result.token else lang_hint)
        t = TEXT.get(lang, TEXT["en"])
        key = message_key or {Outcome.ASK: ""}.get(result.outcome, result.outcome.value)
        message = t[key].format(n=len(result.comment), limit=COMMENT_MAX) if key else ""
        show_form = result.outcome in (Outcome.ASK, Outcome.TOO_LONG, Outcome.NO_VOTE)
        return (
            _templates()
            .get_template("feedback.html.j2")
            .render(
                lang=lang,
                t=t,
                page_name=self.runbook.settings.page.name,
                message=message,
                problem=result.status >= 400,
                form=(
                    {"fields": result.fields, "vote": result.vote, "comment": result.comment, "via": result.via}
                    if show_form
                    else None
                ),
                action="/feedback",
                limit=COMMENT_MAX,
                back=self.incident_url(result, lang),
            )
        )


def read_form(event: Any) -> dict[str, str] | None:
    """The urlencoded body as text fields, or None when it is not UTF-8 (raw or percent-encoded)."""
    raw = event.body or ""
    try:
        data = base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("utf-8")
        text = data.decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"))
    except (UnicodeError, ValueError, binascii.Error):
        return None


def build_app(get_pages: Callable[[], FeedbackPages]) -> LambdaFunctionUrlResolver:
    """``get_pages`` returns the pages; the deployed function builds them once, at the first request."""
    app = LambdaFunctionUrlResolver()

    def respond(status: int, html: str, head: bool = False) -> Response[str]:
        metrics.add_metric(name=f"Feedback{status}", unit="Count", value=1)
        return Response(
            status_code=status,
            content_type="text/html; charset=utf-8",
            body="" if head else html,
            headers={**HEADERS, **({"Content-Length": str(len(html.encode()))} if head else {})},
        )

    @app.route("/feedback", method=["GET", "HEAD"])
    def ask() -> Response[str]:
        pages = get_pages()
        params = dict(app.current_event.query_string_parameters or {})
        result = pages.collector.view(params)
        head = app.current_event.request_context.http.method == "HEAD"
        return respond(result.status, pages.render(result, params.get("l", "")), head=head)

    @app.post("/feedback")
    def answer() -> Response[str]:
        pages = get_pages()
        event = app.current_event
        if len(event.body or "") > MAX_FORM * 2:
            return respond(413, pages.render(Result(Outcome.MALFORMED), message_key="too_large"))
        form = read_form(event)
        if form is None:
            return respond(400, pages.render(Result(Outcome.MALFORMED), message_key="unreadable"))
        http = event.request_context.http
        result = pages.collector.submit(form, http.source_ip or "unknown", http.user_agent or "")
        logger.info(
            "feedback",
            extra={
                "outcome": result.outcome.value,
                "incident_id": result.token.incident_id if result.token else None,
                "update_id": result.token.update_id if result.token else None,
            },  # never the comment, never the address
        )
        return respond(result.status, pages.render(result, form.get("l", "")))

    return app


@lru_cache(maxsize=1)
def _deployed_app() -> LambdaFunctionUrlResolver:  # pragma: no cover - wiring for the deployed function
    import os
    from datetime import UTC, datetime

    from clarion.adapters.channels import secret_key
    from clarion.adapters.dynamodb_store import DynamoDBFeedbackStore
    from clarion.runbook_loader import load_runbook

    def pages() -> FeedbackPages:
        return FeedbackPages(
            runbook=load_runbook(os.environ["RUNBOOK_PATH"], lint=False),  # linted at synth
            collector=FeedbackCollector(
                store=DynamoDBFeedbackStore(os.environ["TABLE_NAME"]),
                key=secret_key(os.environ["HMAC_SECRET_ID"]),
                clock=lambda: datetime.now(UTC),
            ),
        )

    return build_app(lru_cache(maxsize=1)(pages))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _deployed_app().resolve(event, context)
