"""Status page numbers: render + publish time and index size for 200 components, 10 active
incidents and histories of 100, 1,000 and 10,000 past incidents.

    .venv/bin/python bench/status_page.py [--runs 7]

The page itself is held constant: every history has the same 100 incidents in the last 120 days
(so the same uptime bars, recent days and feeds); the rest of the history lies further back. What
varies is only how much history the renderer and publisher must not trip over.

"update" is the steady state that matters during an incident: one incident gets a new update and
the page is rendered and published (to S3 on moto, in-process). "first build" is the one-time
publish of everything into an empty bucket. Goals: update <= 150 ms at 10,000; the 10,000 / 100
update-time ratio <= 1.5; index.html <= 60 KB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

import boto3  # noqa: E402
from clarion.adapters.s3_page_publisher import S3Target, StatusPagePublisher  # noqa: E402
from clarion.domain.runbooks.model import Component, ComponentGroup, ComponentsFile, Runbook  # noqa: E402
from clarion.domain.status_page import PageIncident, PageUpdate  # noqa: E402
from clarion.runbook_loader import load_runbook  # noqa: E402
from clarion.status_page.render import SiteRenderer  # noqa: E402
from clarion.status_page.sample import sample_history  # noqa: E402
from moto import mock_aws  # noqa: E402

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


def big_runbook(components: int = 200, per_group: int = 10) -> Runbook:
    rb = load_runbook(ROOT / "runbooks")
    groups = list(rb.components.groups)
    comps = list(rb.components.components)
    n = 0
    while len(comps) < components:
        gid = f"g{len(groups):02d}"
        groups.append(ComponentGroup(id=gid, name={"en": f"Service group {gid}", "es": f"Grupo {gid}"}))
        for _ in range(min(per_group, components - len(comps))):
            n += 1
            comps.append(Component(id=f"c{n:03d}", group=gid, name={"en": f"Service {n}", "es": f"Servicio {n}"}))
    return rb.model_copy(update={"components": ComponentsFile(groups=groups, components=comps)})


def with_update(history: list[PageIncident], at: datetime, n: int) -> list[PageIncident]:
    active = next(i for i in reversed(history) if i.unresolved and not i.is_maintenance)
    new = active.model_copy(
        update={
            "updated_at": at,
            "updates": [
                *active.updates,
                PageUpdate(
                    id=f"bench-{n}",
                    status="identified",
                    body={"en": f"Update {n}", "es": f"Actualización {n}"},
                    created_at=at,
                ),
            ],
        }
    )
    return [new if i.id == active.id else i for i in history]


def measure(runbook: Runbook, past: int, runs: int) -> dict[str, float]:
    history = sample_history(runbook, NOW, past=100, active=10, maintenance=2, span_days=120, realistic=False)
    if past > 100:
        history += sample_history(
            runbook,
            NOW,
            past=past - 100,
            active=0,
            maintenance=0,
            span_days=max(120, past // 3),
            offset_days=121,
            seed=11,
            realistic=False,
        )
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="page")
        publisher = StatusPagePublisher(SiteRenderer(runbook), [S3Target("page", "page", s3)])
        start = time.perf_counter()
        report = publisher.publish(lambda: history, lambda: NOW)
        first = (time.perf_counter() - start) * 1000
        assert report.ok, report
        times, requests = [], []
        for n in range(runs):
            at = NOW + timedelta(minutes=n + 1)
            history = with_update(history, at, n)
            current = history
            start = time.perf_counter()
            report = publisher.publish(lambda: current, lambda: at)  # noqa: B023
            times.append((time.perf_counter() - start) * 1000)
            assert report.ok, report
            requests.append(report.targets[0].requests)
        size = len(s3.get_object(Bucket="page", Key="index.html")["Body"].read())
    return {
        "first": first,
        "update": statistics.median(times),
        "requests": statistics.median(requests),
        "index": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    runbook = big_runbook()
    print(
        f"{len(runbook.components.components)} components in {len(runbook.components.groups)} groups, "
        f"10 active incidents, 2 maintenance windows; median of {args.runs} updates"
    )
    results = {}
    for past in (100, 1_000, 10_000):
        results[past] = r = measure(runbook, past, args.runs)
        print(
            f"history {past:>6,}: update (render + publish) {r['update']:6.1f} ms, "
            f"{r['requests']:.0f} S3 requests; first build {r['first']:8.1f} ms; "
            f"index.html {r['index']:,} bytes"
        )
    ratio = results[10_000]["update"] / results[100]["update"]
    print(f"update time ratio 10,000 / 100: {ratio:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
