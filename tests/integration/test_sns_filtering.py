"""Subscribers choose components like Statuspage's component subscriptions: SNS filter policies on
the message attributes Clarion sets, delivered to SQS subscribers on moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
from clarion.adapters.channels import SnsDelivery
from clarion.domain.enums import ComponentStatus, Phase, Severity
from clarion.domain.incident import Incident
from clarion.domain.messaging.drafts import build_draft
from clarion.domain.runbooks.model import Runbook

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def incident(component: str, group: str, drill: bool = False) -> Incident:
    return Incident(
        id=f"{group}-1",
        group=group,
        title={"en": "x", "es": "x"},
        severity=Severity.SEV2,
        components={component: ComponentStatus.PARTIAL_OUTAGE},
        started_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        drill=drill,
        version=1,
    )


def test_component_language_and_drill_filters(runbook: Runbook, aws: None) -> None:
    sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="clarion-customers")["TopicArn"]
    policies = {
        "checkout-en": {"components": ["checkout-api"], "language": ["en"], "drill": ["false"]},
        "login-en": {"components": ["login"], "language": ["en"], "drill": ["false"]},
        "checkout-es": {"components": ["checkout-api"], "language": ["es"], "drill": ["false"]},
        "everything": {"drill": ["false"]},
    }
    queues: dict[str, str] = {}
    for name, policy in policies.items():
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            ReturnSubscriptionArn=True,
            Attributes={"FilterPolicy": json.dumps(policy), "RawMessageDelivery": "true"},
        )
        queues[name] = url
    delivery = SnsDelivery({"customers": topic}, sns)
    for inc in (
        incident("checkout-api", "payments"),
        incident("login", "core"),
        incident("checkout-api", "payments", drill=True),
    ):
        draft = build_draft(runbook, inc, Phase.INVESTIGATING, "d1", NOW)
        delivery.deliver("sns:customers", draft, inc)  # one PublishBatch, an entry per language

    def received(name: str) -> list[dict[str, Any]]:
        msgs = sqs.receive_message(QueueUrl=queues[name], MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) if m["Body"].startswith("{") else {"raw": m["Body"]} for m in msgs]

    checkout_en = received("checkout-en")
    assert len(checkout_en) == 1  # checkout in English, not login, not Spanish, not the drill
    assert len(received("login-en")) == 1
    assert len(received("checkout-es")) == 1
    assert len(received("everything")) == 4  # two incidents x two languages; the drill filtered out
