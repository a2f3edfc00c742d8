"""The metrics a runbook charts, read with CloudWatch ``GetMetricData`` (the only permission the
scheduled metrics function has besides writing the page): one request per region and window for up
to 500 series, following ``NextToken``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from clarion.domain.metrics import WINDOWS, MetricsSnapshot, Series, Window, charted
from clarion.domain.runbooks.model import ComponentMetric, Runbook

MAX_QUERIES = 500  # GetMetricData's limit per request


def metric_query(query_id: str, metric: ComponentMetric, window: Window) -> dict[str, Any]:
    stat: dict[str, Any] = {
        "Metric": {
            "Namespace": metric.namespace,
            "MetricName": metric.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(metric.dimensions.items())],
        },
        "Period": window.period,
        "Stat": metric.statistic,
    }
    if metric.unit != "None":
        stat["Unit"] = metric.unit
    return {"Id": query_id, "MetricStat": stat, "ReturnData": True}


class CloudWatchMetrics:
    """``client(region)`` returns a CloudWatch client; ``region`` is None for the function's own."""

    def __init__(self, runbook: Runbook, client: Callable[[str | None], Any]) -> None:
        self.runbook = runbook
        self.client = client

    def fetch(self, now: datetime) -> MetricsSnapshot:
        snapshot = MetricsSnapshot(now)
        by_region: dict[str | None, list[tuple[str, ComponentMetric]]] = defaultdict(list)
        for component, metric in charted(self.runbook):
            by_region[metric.region].append((component.id, metric))
        for region, metrics in by_region.items():
            client = self.client(region)
            for window in WINDOWS:
                for start in range(0, len(metrics), MAX_QUERIES):
                    batch = metrics[start : start + MAX_QUERIES]
                    ids = {f"q{i}": pair for i, pair in enumerate(batch)}
                    queries = [metric_query(qid, m, window) for qid, (_, m) in ids.items()]
                    points: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
                    token: str | None = None
                    while True:
                        kwargs: dict[str, Any] = {
                            "MetricDataQueries": queries,
                            "StartTime": now - window.span,
                            "EndTime": now,
                            "ScanBy": "TimestampAscending",
                        }
                        if token:
                            kwargs["NextToken"] = token
                        resp = client.get_metric_data(**kwargs)
                        for result in resp.get("MetricDataResults", []):
                            points[result["Id"]].extend(zip(result["Timestamps"], result["Values"], strict=True))
                        token = resp.get("NextToken")
                        if not token:
                            break
                    for qid, (cid, metric) in ids.items():
                        ordered = sorted((at, float(v)) for at, v in points.get(qid, []))
                        snapshot.add(Series(cid, metric.id, window, ordered))
        return snapshot
