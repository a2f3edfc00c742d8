"""Publishing the status page to S3 (moto): order, headers, skipping, conflicts, several targets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from clarion.adapters.s3_page_publisher import MANIFEST, S3Target, StatusPagePublisher
from clarion.domain.runbooks.model import Runbook
from clarion.domain.status_page import PageIncident, PageUpdate
from clarion.status_page.render import SiteRenderer
from clarion.status_page.sample import sample_history

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    for name in ("page-primary", "page-replica"):
        client.create_bucket(Bucket=name)
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return client


@pytest.fixture
def history(runbook: Runbook) -> list[PageIncident]:
    return sample_history(runbook, NOW, past=30, active=1, maintenance=1, realistic=False)


def record_puts(client: Any) -> list[str]:
    keys: list[str] = []
    client.meta.events.register("before-parameter-build.s3.PutObject", lambda params, **_: keys.append(params["Key"]))
    return keys


def test_first_publish_writes_everything_in_order_with_headers(runbook: Runbook, s3: Any, history: Any) -> None:
    puts = record_puts(s3)
    publisher = StatusPagePublisher(SiteRenderer(runbook), [S3Target("primary", "page-primary", s3)])
    report = publisher.publish(lambda: history, lambda: NOW)
    assert report.ok, report
    assert puts[-1] == MANIFEST and puts[-2] in ("index.html", "es/index.html")
    last_detail = max(i for i, k in enumerate(puts) if "incidents/" in k and k.endswith(".html"))
    first_index = min(i for i, k in enumerate(puts) if k.endswith("index.html") and "history" not in k)
    first_api = min(i for i, k in enumerate(puts) if k.startswith("api/"))
    assert last_detail < first_api < first_index
    head = s3.head_object(Bucket="page-primary", Key="index.html")
    assert head["ContentType"] == "text/html; charset=utf-8" and "max-age=30" in head["CacheControl"]
    css = next(k for k in puts if k.startswith("assets/"))
    assert "immutable" in s3.head_object(Bucket="page-primary", Key=css)["CacheControl"]
    assert s3.head_object(Bucket="page-primary", Key="api/v2/summary.json")["ContentType"].startswith(
        "application/json"
    )
    assert s3.head_object(Bucket="page-primary", Key="history.atom")["ContentType"].startswith("application/atom+xml")


def test_second_publish_rewrites_only_what_changed(runbook: Runbook, s3: Any, history: Any) -> None:
    publisher = StatusPagePublisher(SiteRenderer(runbook), [S3Target("primary", "page-primary", s3)])
    publisher.publish(lambda: history, lambda: NOW)
    puts = record_puts(s3)
    report = publisher.publish(lambda: history, lambda: NOW + timedelta(minutes=1))
    assert report.ok
    assert not any(k.startswith("incidents/") or k.startswith("es/incidents/") or k.startswith("assets/") for k in puts)
    assert report.targets[0].unchanged > 0
    assert {"index.html", "es/index.html", MANIFEST} <= set(puts)


def _with_update(history: list[PageIncident], body: str, at: datetime) -> list[PageIncident]:
    active = next(i for i in history if i.unresolved and not i.is_maintenance)
    new = active.model_copy(
        update={
            "updated_at": at,
            "updates": [
                *active.updates,
                PageUpdate(id=body, status="identified", body={"en": body, "es": body}, created_at=at),
            ],
        }
    )
    return [new if i.id == active.id else i for i in history]


def test_concurrent_publisher_forces_a_retry_and_no_update_is_lost(runbook: Runbook, s3: Any, history: Any) -> None:
    renderer = SiteRenderer(runbook)
    target = S3Target("primary", "page-primary", s3)
    StatusPagePublisher(renderer, [target]).publish(lambda: history, lambda: NOW)

    state = {"current": _with_update(history, "first-writer-update", NOW + timedelta(minutes=1)), "calls": 0}

    def load() -> list[PageIncident]:
        state["calls"] += 1
        if state["calls"] == 1:
            # Another publisher publishes a newer state while this one is working.
            newer = _with_update(state["current"], "second-writer-update", NOW + timedelta(minutes=2))
            StatusPagePublisher(renderer, [target]).publish(lambda: newer, lambda: NOW + timedelta(minutes=2))
            stale = state["current"]
            state["current"] = newer
            return stale
        return state["current"]

    report = StatusPagePublisher(renderer, [target]).publish(load, lambda: NOW + timedelta(minutes=3))
    assert report.ok and report.targets[0].attempts == 2, report
    index = s3.get_object(Bucket="page-primary", Key="index.html")["Body"].read().decode()
    assert "first-writer-update" in index and "second-writer-update" in index
    active = next(i for i in state["current"] if i.unresolved and not i.is_maintenance)
    detail = s3.get_object(Bucket="page-primary", Key=f"incidents/{active.id}.html")["Body"].read().decode()
    assert "second-writer-update" in detail


def test_one_target_down_does_not_stop_the_others(runbook: Runbook, s3: Any, history: Any) -> None:
    publisher = StatusPagePublisher(
        SiteRenderer(runbook),
        [
            S3Target("missing", "no-such-bucket", s3),
            S3Target("primary", "page-primary", s3),
            S3Target("au", "page-replica", s3, prefix="au"),
        ],
    )
    report = publisher.publish(lambda: history, lambda: NOW)
    assert not report.ok
    assert [t.target for t in report.failed] == ["missing"] and "NoSuchBucket" in report.failed[0].error
    assert s3.head_object(Bucket="page-primary", Key="index.html")
    assert s3.head_object(Bucket="page-replica", Key="au/index.html")
    manifest = json.loads(s3.get_object(Bucket="page-replica", Key="au/" + MANIFEST)["Body"].read())
    assert "index.html" in manifest["files"]


def test_a_publisher_needs_a_target(runbook: Runbook) -> None:
    with pytest.raises(ValueError, match="at least one"):
        StatusPagePublisher(SiteRenderer(runbook), [])
