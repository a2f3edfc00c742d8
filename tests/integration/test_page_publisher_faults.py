"""The publish protocol converges: fail each PUT of a publish in turn, with each kind of error, and
the site is whole again after the next publish (or already after this one, when its own retry
repaired it). "Whole" is checked across ``index.html``, ``es/index.html``, every ``api/v2`` file,
the incident pages and the feeds, and the manifest agrees with the bucket."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from clarion.adapters.s3_page_publisher import MANIFEST, S3Target, StatusPagePublisher
from clarion.domain.runbooks.model import Runbook
from clarion.domain.status_page import PageIncident, PageUpdate
from clarion.local.faults import ERRORS, Fault, FaultInjector
from clarion.status_page.render import SiteRenderer
from clarion.status_page.sample import sample_history

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


def _with_update(history: list[PageIncident], marker: str, at: datetime) -> tuple[list[PageIncident], str]:
    active = next(i for i in history if i.unresolved and not i.is_maintenance)
    new = active.model_copy(
        update={
            "updated_at": at,
            "status": "identified",
            "updates": [
                *active.updates,
                PageUpdate(id=marker, status="identified", body={"en": marker, "es": f"{marker}-es"}, created_at=at),
            ],
        }
    )
    return [new if i.id == active.id else i for i in history], active.id


def _get(s3: Any, bucket: str, key: str) -> str:
    return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())


def site_problems(s3: Any, bucket: str, marker: str, incident_id: str) -> list[str]:
    """What a reader would find inconsistent with the store's newest state."""
    problems: list[str] = []
    expect = {
        "index.html": marker,
        "es/index.html": f"{marker}-es",
        f"incidents/{incident_id}.html": marker,
        f"es/incidents/{incident_id}.html": f"{marker}-es",
        "api/v2/summary.json": marker,
        "api/v2/incidents.json": marker,
        "api/v2/incidents/unresolved.json": marker,
        "history.atom": marker,
        "history.rss": marker,
        "es/history.atom": f"{marker}-es",
        "es/history.rss": f"{marker}-es",
    }
    for key, text in expect.items():
        if text not in _get(s3, bucket, key):
            problems.append(f"{key} lacks {text}")
    summary = json.loads(_get(s3, bucket, "api/v2/summary.json"))
    status = json.loads(_get(s3, bucket, "api/v2/status.json"))
    components = json.loads(_get(s3, bucket, "api/v2/components.json"))
    if status["status"] != summary["status"]:
        problems.append("status.json and summary.json disagree on the status")
    if components["components"] != summary["components"]:
        problems.append("components.json and summary.json disagree on the components")
    manifest = json.loads(_get(s3, bucket, MANIFEST))
    live = {
        o["Key"]: o["ETag"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    }
    for path, meta in manifest["files"].items():
        if live.get(path) != meta["etag"]:
            problems.append(f"manifest records a stale ETag for {path}")
    return problems


@pytest.fixture
def s3(aws: None) -> Any:
    return boto3.client("s3", region_name="us-east-1")


def _first_publish(runbook: Runbook, s3: Any, bucket: str) -> tuple[list[PageIncident], str]:
    """A bucket with a first publish; returns the history with one new update, and its incident."""
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    history = sample_history(runbook, NOW, past=4, active=1, maintenance=1, realistic=False)
    publisher = StatusPagePublisher(SiteRenderer(runbook), [S3Target("p", bucket, s3)])
    assert publisher.publish(lambda: history, lambda: NOW).ok
    return _with_update(history, "marker-update", NOW + timedelta(seconds=30))


@pytest.mark.parametrize("error", ERRORS)
def test_every_put_position_failing_is_repaired_by_the_next_publish(runbook: Runbook, s3: Any, error: str) -> None:
    renderer = SiteRenderer(runbook)
    history, incident_id = _first_publish(runbook, s3, "site")
    # Its status changed (investigating -> identified), which re-renders its history page once; the
    # rounds below only add updates, which do not (history pages follow their rows exactly).
    assert (
        StatusPagePublisher(renderer, [S3Target("p", "site", s3)])
        .publish(lambda: history, lambda: NOW + timedelta(seconds=45))
        .ok
    )
    history, incident_id = _with_update(history, "probe-update", NOW + timedelta(seconds=50))
    # How many PUTs does publishing one new update take? (a fault that never fires counts them)
    probe = FaultInjector([Fault("s3", "PutObject", error, 1, 10_000)])
    counting = probe.attach(boto3.client("s3", region_name="us-east-1"), "s3")
    at = NOW + timedelta(minutes=1)
    assert StatusPagePublisher(renderer, [S3Target("p", "site", counting)]).publish(lambda: history, lambda: at).ok
    positions = probe.calls[("s3", "PutObject")]
    assert positions >= 15, positions  # the detail pages, the API, the feeds, both indexes, the manifest

    unrepaired: list[str] = []
    for position in range(1, positions + 1):
        # Each round publishes one more update, failing the position-th PUT of that publish.
        at += timedelta(minutes=1)
        marker = f"update-{error}-{position}"
        history, incident_id = _with_update(history, marker, at)
        faults = FaultInjector([Fault("s3", "PutObject", error, 1, position)])
        faulty = faults.attach(boto3.client("s3", region_name="us-east-1"), "s3")
        # One attempt only: as if the function died right after the failed write.
        first = StatusPagePublisher(renderer, [S3Target("p", "site", faulty)], attempts=1).publish(
            lambda h=history: h, lambda t=at: t
        )
        assert not first.ok and len(faults.injected) == 1, (position, first)
        # The next publish, by another publisher, with nothing changed in the store.
        nxt = StatusPagePublisher(renderer, [S3Target("p", "site", s3)]).publish(
            lambda h=history: h, lambda t=at: t + timedelta(seconds=30)
        )
        assert nxt.ok and nxt.targets[0].attempts == 1, (position, nxt)
        problems = site_problems(s3, "site", marker, incident_id)
        if problems:
            unrepaired.append(f"position {position}: {problems}")
    assert unrepaired == []


@pytest.mark.parametrize("position", [1, 8, 17])
def test_a_failed_write_is_repaired_within_the_same_publish(runbook: Runbook, s3: Any, position: int) -> None:
    renderer = SiteRenderer(runbook)
    history, incident_id = _first_publish(runbook, s3, "same")
    faults = FaultInjector([Fault("s3", "PutObject", "500", 1, position)])
    faulty = faults.attach(boto3.client("s3", region_name="us-east-1"), "s3")
    report = StatusPagePublisher(renderer, [S3Target("p", "same", faulty)]).publish(
        lambda: history, lambda: NOW + timedelta(minutes=1)
    )
    assert report.ok and report.targets[0].attempts == 2 and len(faults.injected) == 1, report
    assert site_problems(s3, "same", "marker-update", incident_id) == []


def test_a_permanent_error_is_not_retried(runbook: Runbook, s3: Any) -> None:
    history, _ = _first_publish(runbook, s3, "perm")
    report = StatusPagePublisher(SiteRenderer(runbook), [S3Target("p", "no-such-bucket", s3)]).publish(
        lambda: history, lambda: NOW
    )
    assert not report.ok and report.targets[0].attempts == 1 and "NoSuchBucket" in report.targets[0].error
