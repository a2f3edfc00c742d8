"""A body that is not UTF-8 gets a clear 400 on every endpoint, and an approver never sees a 500:
when the store is down the page says nothing was decided and the link still works."""

from __future__ import annotations

import base64
from typing import Any

from clarion.domain.approvals.desk import Page
from clarion.handlers import subscriptions
from clarion.local.context import LocalLambdaContext
from clarion.web import app as approval_api


def event(path: str, method: str, body: bytes) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "t"},
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
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


class NeverCalled:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the desk was reached: {name}")


class DownDesk:
    def view(self, *a: Any, **k: Any) -> Page:
        raise RuntimeError("GetItem: ProvisionedThroughputExceededException")

    decide = view


def test_a_non_utf8_approval_post_is_a_400() -> None:
    app = approval_api.build_app(lambda: NeverCalled())  # type: ignore[arg-type, return-value]
    resp = app.resolve(event("/approvals/abc", "POST", b"decision=\xff\xfe"), LocalLambdaContext("a"))
    assert resp["statusCode"] == 400 and "UTF-8" in resp["body"]


def test_a_non_utf8_subscribe_post_is_a_400() -> None:
    app = subscriptions.build_app(lambda: NeverCalled())  # type: ignore[arg-type, return-value]
    for path in ("/subscribe", "/confirm"):
        resp = app.resolve(event(path, "POST", b"endpoint=\xc3\x28"), LocalLambdaContext("s"))
        assert resp["statusCode"] == 400 and "UTF-8" in resp["body"]


def test_the_approver_never_sees_a_500() -> None:
    app = approval_api.build_app(lambda: DownDesk())  # type: ignore[arg-type, return-value]
    for method, body in (("GET", b""), ("POST", b"decision=approve")):
        resp = app.resolve(event("/approvals/abc", method, body), LocalLambdaContext("a"))
        assert resp["statusCode"] == 503 and "Nothing was decided" in resp["body"], resp
