"""The scheduled metrics function on moto: CloudWatch GetMetricData in, charts and metrics.json out
through the page publisher, only what changed written, the page's own files left alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from clarion.adapters.cloudwatch_metrics import CloudWatchMetrics, metric_query
from clarion.adapters.s3_page_publisher import MANIFEST, S3Target, StatusPagePublisher
from clarion.domain.metrics import WINDOWS
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.page_metrics import publish_metrics
from clarion.status_page.render import METRICS_JSON, SiteRenderer
from clarion.status_page.sample import sample_history
from moto import mock_aws

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


def clients(service: str, region: str | None = None) -> Any:
    return boto3.client(service, region_name=region or "us-east-1")  # type: ignore[call-overload]


@pytest.fixture
def aws() -> Any:
    with mock_aws():
        s3 = clients("s3")
        s3.create_bucket(Bucket="page")
        s3.put_bucket_versioning(Bucket="page", VersioningConfiguration={"Status": "Enabled"})
        yield s3


def put_response_times(now: datetime, values: list[float]) -> None:
    cw = clients("cloudwatch")
    for i, value in enumerate(values):
        cw.put_metric_data(
            Namespace="Ledgerly/Web",
            MetricData=[
                {
                    "MetricName": "ResponseTime",
                    "Dimensions": [{"Name": "Service", "Value": "web-app"}],
                    "Timestamp": now - timedelta(minutes=5 * (len(values) - i)),
                    "Value": value,
                    "Unit": "Milliseconds",
                }
            ],
        )


def test_query_names_the_metric_as_the_runbook_does(runbook: Runbook) -> None:
    metric = runbook.component("public-api").metrics[1]
    q = metric_query("q0", metric, WINDOWS[1])
    assert q == {
        "Id": "q0",
        "MetricStat": {
            "Metric": {
                "Namespace": "Ledgerly/API",
                "MetricName": "SuccessRate",
                "Dimensions": [{"Name": "Service", "Value": "public-api"}],
            },
            "Period": 3600,
            "Stat": "Average",
            "Unit": "Percent",
        },
        "ReturnData": True,
    }


def test_fetch_reads_each_window_from_cloudwatch(runbook: Runbook, aws: Any) -> None:
    put_response_times(NOW, [100.0, 140.0, 120.0])
    snapshot = CloudWatchMetrics(runbook, lambda region: clients("cloudwatch", region)).fetch(NOW)
    day = snapshot.get("web-app", "response-time", WINDOWS[0])
    assert day.values == [100.0, 140.0, 120.0]
    assert [at for at, _ in day.points] == sorted(at for at, _ in day.points)
    assert snapshot.get("public-api", "success-rate", WINDOWS[0]).points == []  # nothing was put


def test_publish_writes_charts_and_json_then_only_what_changed(runbook: Runbook, aws: Any) -> None:
    s3 = aws
    # The page is already there: the metrics function must not touch its files or its state.
    page = StatusPagePublisher(SiteRenderer(runbook), [S3Target("primary", "page", s3)])
    assert page.publish(lambda: sample_history(runbook, NOW, past=3, active=0, maintenance=0), lambda: NOW).ok
    index_before = s3.get_object(Bucket="page", Key="index.html")["ETag"]
    state_before = json.loads(s3.get_object(Bucket="page", Key=MANIFEST)["Body"].read())["state"]

    put_response_times(NOW, [100.0, 140.0, 120.0])
    targets = [{"name": "primary", "bucket": "page"}]
    report = publish_metrics(runbook, targets, clients, NOW)
    assert report.ok, report
    (written,) = [t.written for t in report.targets]
    charts = 3 * len(WINDOWS) * len(runbook.settings.languages)
    assert len(written) == charts + 1 and METRICS_JSON in written
    doc = json.loads(s3.get_object(Bucket="page", Key=METRICS_JSON)["Body"].read())
    web = next(m for m in doc["metrics"] if m["component_id"] == "web-app")
    assert web["windows"]["24h"]["median"] == 120.0 and web["windows"]["24h"]["latest"] == 120.0
    svg = s3.get_object(Bucket="page", Key="es/metrics/web-app.response-time.24h.svg")
    assert svg["ContentType"] == "image/svg+xml"
    assert "mediana 120 ms, ahora 120 ms" in svg["Body"].read().decode()
    assert s3.get_object(Bucket="page", Key="index.html")["ETag"] == index_before
    manifest = json.loads(s3.get_object(Bucket="page", Key=MANIFEST)["Body"].read())
    assert manifest["state"] == state_before and "index.html" in manifest["files"]

    # Five minutes on, nothing new in CloudWatch: the 7-day charts did not change, so they are not
    # written again; the 24-hour ones moved along the time axis.
    # The page is published again in between (an incident update): it keeps the charts' entries.
    assert page.publish(lambda: sample_history(runbook, NOW, past=3, active=0, maintenance=0), lambda: NOW).ok
    manifest = json.loads(s3.get_object(Bucket="page", Key=MANIFEST)["Body"].read())
    assert METRICS_JSON in manifest["files"]
    again = publish_metrics(runbook, targets, clients, NOW)
    assert again.targets[0].written == [] and again.targets[0].unchanged == charts + 1
    put_response_times(NOW + timedelta(minutes=5), [130.0])
    later = publish_metrics(runbook, targets, clients, NOW + timedelta(minutes=5))
    assert "metrics/web-app.response-time.24h.svg" in later.targets[0].written
    assert "metrics/public-api.success-rate.7d.svg" not in later.targets[0].written
