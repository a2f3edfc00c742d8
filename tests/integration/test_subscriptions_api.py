"""The subscribe endpoint through Powertools' event handler, with the DynamoDB store on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import boto3
from clarion.adapters.dynamodb_store import DynamoDBSubscriptionStore
from clarion.domain.runbooks.model import Runbook
from clarion.domain.subscriptions import RATE_LIMIT, SubscriptionDesk
from clarion.local.context import LocalLambdaContext
from clarion.web.subscribe import build_app


def event(path: str, body: str, ip: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
        "requestContext": {
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": ip, "userAgent": "t"},
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
        "isBase64Encoded": False,
    }


def test_subscribe_endpoint(runbook: Runbook, ddb: Any) -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="clarion-customers")["TopicArn"]
    desk = SubscriptionDesk(
        runbook=runbook,
        topic_arn=topic,
        sns=sns,
        store=DynamoDBSubscriptionStore("incidents", ddb),
        send_sms=lambda p, t: None,
        key=lambda: b"k" * 48,
        clock=lambda: datetime.now(UTC),
    )
    app = build_app(lambda: desk)
    body = urlencode(
        [
            ("protocol", "email"),
            ("endpoint", "ana@customer.example"),
            ("components", "login"),
            ("components", "web-app"),
            ("language", "en"),
        ]
    )
    resp = app.resolve(event("/subscribe", body, "192.0.2.1"), LocalLambdaContext("subscribe"))
    assert resp["statusCode"] == 200 and resp["headers"]["Cache-Control"] == "no-store"
    (sub,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    policy = json.loads(
        sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]["FilterPolicy"]
    )
    assert policy["components"] == ["login", "web-app"]
    statuses = [
        app.resolve(event("/subscribe", body, "192.0.2.1"), LocalLambdaContext("s"))["statusCode"]
        for _ in range(RATE_LIMIT)
    ]
    assert statuses == [200] * (RATE_LIMIT - 1) + [429]  # counted in DynamoDB, conditionally
