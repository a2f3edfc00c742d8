"""One bad record never breaks a publish of the others: a stored page summary with a time that has
no zone, or one that does not parse at all, is left off the page and reported; every other incident
is published. Listing incidents skips an unreadable incident record and names it (DynamoDB and S3
on moto, the real stores, delivery, renderer and publisher)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from clarion.adapters.channels import StatusPageDelivery
from clarion.adapters.dynamodb_page_store import DynamoDBPageStore
from clarion.adapters.dynamodb_store import DynamoDBIncidentStore
from clarion.adapters.s3_page_publisher import S3Target, StatusPagePublisher
from clarion.domain.enums import ComponentStatus, Phase, Severity
from clarion.domain.incident import Change, Incident, IncidentWrite
from clarion.domain.messaging.drafts import Draft, DraftMessage
from clarion.domain.runbooks.model import Runbook
from clarion.status_page.render import SiteRenderer

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


def _incident(n: int) -> Incident:
    at = NOW - timedelta(hours=n)
    return Incident(
        id=f"payments-{n}",
        group="payments",
        title={"en": f"Payments problem {n}", "es": f"Problema de pagos {n}"},
        severity=Severity.SEV2,
        components={"checkout-api": ComponentStatus.PARTIAL_OUTAGE},
        started_at=at,
        created_at=at,
        updated_at=at,
        version=1,
    )


def _draft(inc: Incident, draft_id: str, body: str) -> Draft:
    return Draft(
        id=draft_id,
        incident_id=inc.id,
        phase=Phase.INVESTIGATING,
        created_at=NOW,
        messages=[DraftMessage(audience="customers", channel="status_page", language="en", body=body)],
        routes=["status_page"],
        approval_required=False,
    )


def _corrupt(ddb: Any, incident_id: str, change: Any) -> None:
    key = {"pk": {"S": f"INCIDENT#{incident_id}"}, "sk": {"S": "PAGE"}}
    item = ddb.get_item(TableName="incidents", Key=key)["Item"]
    item["doc"]["S"] = change(item["doc"]["S"])
    ddb.put_item(TableName="incidents", Item=item)


@pytest.fixture
def bucket(aws: None) -> Any:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="page")
    return s3


def test_a_naive_or_unreadable_summary_is_left_out_and_reported_the_others_publish(
    runbook: Runbook, ddb: Any, bucket: Any
) -> None:
    store = DynamoDBIncidentStore("incidents", ddb)
    incidents = [_incident(n) for n in (1, 2, 3, 4)]
    for inc in incidents:
        store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)]))
    publisher = StatusPagePublisher(SiteRenderer(runbook), [S3Target("primary", "page", bucket)])
    told: list[str] = []
    delivery = StatusPageDelivery(
        DynamoDBPageStore("incidents", ddb, sleep=lambda _s: None),
        lambda load: publisher.publish(load, lambda: NOW),
        lambda: NOW,
        {},
        tell=lambda _i, text: told.append(text),
    )
    for inc in incidents:
        delivery.deliver("status_page", _draft(inc, "investigating", "Looking into it."), inc)
    assert told == []

    def naive(doc: str) -> str:
        data = json.loads(doc)
        data["started_at"] = "2026-11-23T12:00:00"  # no zone: cannot be ordered against the others
        return json.dumps(data)

    _corrupt(ddb, "payments-2", naive)
    _corrupt(ddb, "payments-3", lambda _doc: "{not json")
    first = incidents[0]
    detail = delivery.deliver("status_page", _draft(first, "update-1", "Still on it."), first)

    api = json.loads(bucket.get_object(Bucket="page", Key="api/v2/incidents.json")["Body"].read())
    shown = {i["id"]: i for i in api["incidents"]}
    assert sorted(shown) == ["payments-1", "payments-4"]  # the others published
    assert "Still on it." in [u["body"] for u in shown["payments-1"]["incident_updates"]]
    assert "left off the page, unreadable" in detail
    assert "INCIDENT#payments-2" in detail and "timezone" in detail  # what is wrong with it, named
    assert "INCIDENT#payments-3" in detail
    assert len(told) == 1 and "payments-2" in told[0] and "payments-3" in told[0]


def test_listing_skips_an_unreadable_incident_and_names_it(ddb: Any) -> None:
    store = DynamoDBIncidentStore("incidents", ddb)
    for inc in (_incident(1), _incident(2)):
        store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)]))
    key = {"pk": {"S": "INCIDENT#payments-2"}, "sk": {"S": "META"}}
    item = ddb.get_item(TableName="incidents", Key=key)["Item"]
    data = json.loads(item["doc"]["S"])
    data["created_at"] = "2026-11-23T12:00:00"
    item["doc"]["S"] = json.dumps(data)
    ddb.put_item(TableName="incidents", Item=item)
    assert [i.id for i in store.list_incidents()] == ["payments-1"]
    assert len(store.unreadable) == 1 and store.unreadable[0].startswith("INCIDENT#payments-2: created_at")
