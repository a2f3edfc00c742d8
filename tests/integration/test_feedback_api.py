"""The feedback endpoint through Powertools' event handler, with the DynamoDB store on moto: scanner
GETs and HEADs, replays, forged tokens, floods, bodies that are not UTF-8, HTML in comments."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from clarion.adapters.dynamodb_store import DynamoDBFeedbackStore
from clarion.domain.enums import Phase
from clarion.domain.feedback.collect import RATE_LIMIT, FeedbackCollector
from clarion.domain.feedback.model import counts
from clarion.domain.feedback.tokens import issue
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.feedback_api import FeedbackPages, build_app
from clarion.local.context import LocalLambdaContext

KEY = b"k" * 48
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def event(method: str, body: str = "", query: str = "", ip: str = "203.0.113.9", b64: bool = False) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": "/feedback",
        "rawQueryString": query,
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")) if query else None,
        "headers": {"content-type": "application/x-www-form-urlencoded"},
        "requestContext": {
            "http": {"method": method, "path": "/feedback", "protocol": "HTTP/1.1", "sourceIp": ip, "userAgent": "t"},
            "requestId": "r",
            "domainName": "x",
            "domainPrefix": "x",
            "stage": "$default",
            "routeKey": "$default",
            "accountId": "a",
            "apiId": "a",
            "time": "",
            "timeEpoch": 0,
        },
        "routeKey": "$default",
        "body": body,
        "isBase64Encoded": b64,
    }


@pytest.fixture
def store(ddb: Any) -> DynamoDBFeedbackStore:
    return DynamoDBFeedbackStore("incidents", ddb)


@pytest.fixture
def app(runbook: Runbook, store: DynamoDBFeedbackStore) -> Any:
    pages = FeedbackPages(runbook, FeedbackCollector(store=store, key=lambda: KEY, clock=lambda: NOW))
    return build_app(lambda: pages)


def call(app: Any, ev: dict[str, Any]) -> dict[str, Any]:
    return dict(app.resolve(ev, LocalLambdaContext("clarion-feedback")))


def fields(lang: str = "en", update: str = "investigating") -> dict[str, str]:
    return issue(KEY, "payments-1", update, Phase.INVESTIGATING, lang, NOW)


def test_scanners_get_and_head_never_count_then_one_post_counts_once(app: Any, store: DynamoDBFeedbackStore) -> None:
    query = urlencode({**fields(), "v": "yes"})
    for method in ("GET", "HEAD", "GET"):
        resp = call(app, event(method, query=query))
        assert resp["statusCode"] == 200
        assert resp["headers"]["Cache-Control"] == "no-store"
    page = call(app, event("GET", query=query))["body"]
    assert 'method="post"' in page and 'value="yes" checked' in page and "Opening this page sent nothing" in page
    assert store.feedback("payments-1") == []
    form = urlencode({**fields(), "vote": "yes", "via": "email"})
    first = call(app, event("POST", form))
    assert first["statusCode"] == 200 and "recorded your answer" in first["body"]
    replay = call(app, event("POST", form))
    assert replay["statusCode"] == 409 and "already have your answer" in replay["body"]
    assert counts(store.feedback("payments-1"))["responses"] == 1


def test_forged_and_malformed_tokens_are_refused(app: Any, store: DynamoDBFeedbackStore) -> None:
    forged = {**fields(), "u": "update-7", "vote": "no"}
    resp = call(app, event("POST", urlencode(forged)))
    assert resp["statusCode"] == 403 and "not valid" in resp["body"]
    assert call(app, event("GET", query=urlencode({**fields(), "s": "f" * 64})))["statusCode"] == 403
    assert call(app, event("POST", urlencode({"vote": "yes"})))["statusCode"] == 400
    assert store.feedback("payments-1") == []


def test_bodies_that_are_not_utf8_get_400(app: Any, store: DynamoDBFeedbackStore) -> None:
    good = urlencode({**fields(), "vote": "no"})
    raw = (good + "&comment=").encode() + b"\xff\xfe caf\xe9"
    resp = call(app, event("POST", base64.b64encode(raw).decode(), b64=True))
    assert resp["statusCode"] == 400 and "UTF-8" in resp["body"]
    resp = call(app, event("POST", good + "&comment=caf%E9"))  # percent-encoded Latin-1
    assert resp["statusCode"] == 400
    assert store.feedback("payments-1") == []
    ok = call(app, event("POST", base64.b64encode((good + "&comment=caf%C3%A9").encode()).decode(), b64=True))
    assert ok["statusCode"] == 200
    assert store.feedback("payments-1")[0].comment == "café"


def test_html_in_comments_is_escaped_on_every_page_that_shows_it(app: Any, store: DynamoDBFeedbackStore) -> None:
    evil = '</textarea><script>alert(1)</script>"><img src=x onerror=alert(2)>'
    too_long = evil + "x" * 600
    resp = call(app, event("POST", urlencode({**fields(), "vote": "no", "comment": too_long})))
    assert resp["statusCode"] == 413 and "the limit is 500" in resp["body"]
    assert "<script>" not in resp["body"] and "&lt;script&gt;" in resp["body"]
    assert "<img" not in resp["body"]
    assert store.feedback("payments-1") == []
    resp = call(app, event("POST", urlencode({**fields(), "vote": "no", "comment": evil})))
    assert resp["statusCode"] == 200 and "<script>" not in resp["body"]
    assert store.feedback("payments-1")[0].comment == evil


def test_a_flood_from_one_address_is_cut_off(app: Any, store: DynamoDBFeedbackStore) -> None:
    statuses = [
        call(app, event("POST", urlencode({**fields(update=f"u{n}"), "vote": "yes"}), ip="192.0.2.66"))["statusCode"]
        for n in range(RATE_LIMIT + 5)
    ]
    assert statuses.count(200) == RATE_LIMIT and statuses[RATE_LIMIT:] == [429] * 5
    assert len(store.feedback("payments-1")) == RATE_LIMIT


def test_pages_speak_the_readers_language(app: Any) -> None:
    page = call(app, event("GET", query=urlencode({**fields("es"), "v": "no"})))["body"]
    assert '<html lang="es">' in page and "¿Le resultó útil esta actualización?" in page
    done = call(app, event("POST", urlencode({**fields("es"), "vote": "no"})))["body"]
    assert "Gracias. Registramos su respuesta." in done and "/es/incidents/payments-1.html" in done
