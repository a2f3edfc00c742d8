"""An alarm storm in one component group: conflicts and latency of the intake's writes.

    .venv/bin/python bench/alarm_storm.py [--events 500] [--alarms 50] [--threads 8] [--json]

50 alarms of the payments group (checkout errors and latency), each going into ALARM ten times
(re-notifications and redeliveries, newer state timestamps each time), 500 events in random order
from 8 threads, through the real intake (``apply_alarm``) and the real DynamoDB store on the
emulator (moto in process). moto's transactions are not atomic across threads, real DynamoDB's
are: the emulator's DynamoDB handler is serialised, which leaves the races between our reads and
our conditional writes exactly as they are. Workflow starts are recorded, not executed.

Reported: conflicts (conditional commits that lost a race) per event, events that gave up,
latency per event (p50, p95), and whether the group ends with one incident holding all 50 alarms.
Goal: conflicts <= 10 % of events.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

import boto3  # noqa: E402
from clarion.adapters.dynamodb_store import DynamoDBIncidentStore, table_definition  # noqa: E402
from clarion.domain.alarms.events import parse_alarm_event, state_change_event  # noqa: E402
from clarion.domain.alarms.intake import apply_alarm  # noqa: E402
from clarion.domain.errors import ConcurrentUpdate  # noqa: E402
from clarion.domain.incident import Change, Incident, Signal  # noqa: E402
from clarion.runbook_loader import load_runbook  # noqa: E402
from moto import mock_aws  # noqa: E402

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


class CountingStore(DynamoDBIncidentStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.commits = 0
        self.conflicts = 0

    def commit(self, change: Change) -> None:
        try:
            super().commit(change)
        except ConcurrentUpdate:
            with self.lock:
                self.conflicts += 1
            raise
        finally:
            with self.lock:
                self.commits += 1


class Starts:
    def __init__(self) -> None:
        self.names: set[str] = set()

    def start(
        self, incident: Incident, signal: Signal, suffix: str = "", extra: dict[str, object] | None = None
    ) -> str:
        name = f"{incident.id}-{signal}{suffix}"
        self.names.add(name)
        return name


def serialise_moto_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def locked(self: Any) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = locked  # type: ignore[method-assign]


def run(events: int, alarms: int, threads: int, seed: int) -> dict[str, Any]:
    runbook = load_runbook(ROOT / "runbooks")
    rng = random.Random(seed)
    names = [f"checkout-api-{i:02d}-5xx" if i % 2 == 0 else f"checkout-api-{i:02d}-latency" for i in range(alarms)]
    per_alarm = max(1, events // alarms)
    batch = []
    for name in names:
        for k in range(per_alarm):
            at = T0 + timedelta(minutes=k, seconds=rng.randint(0, 50))
            raw = state_change_event(name, "ALARM", at, namespace="AWS/ApiGateway")
            batch.append(parse_alarm_event(raw))
    rng.shuffle(batch)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(**table_definition("storm"))
        store = CountingStore("storm", ddb)
        workflow = Starts()
        latencies: list[float] = []
        gave_up = 0
        lock = threading.Lock()

        def one(event: Any) -> None:
            nonlocal gave_up
            start = time.perf_counter()
            try:
                apply_alarm(event, runbook, store, workflow, T0 + timedelta(hours=1))
            except ConcurrentUpdate:
                with lock:
                    gave_up += 1
            with lock:
                latencies.append(time.perf_counter() - start)

        wall = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, batch))
        wall = time.perf_counter() - wall
        open_id = store.get_open_incident_id("payments")
        incident = store.get_incident(open_id) if open_id else None
        linked = len(incident.alarms) if incident else 0
        opened = sum(1 for n in workflow.names if n.endswith("-open"))
    latencies.sort()
    return {
        "events": len(batch),
        "threads": threads,
        "commits": store.commits,
        "conflicts": store.conflicts,
        "conflict_rate": round(store.conflicts / len(batch), 3),
        "gave_up": gave_up,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "seconds": round(wall, 2),
        "incidents_opened": opened,
        "alarms_linked": linked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--alarms", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    serialise_moto_dynamodb()
    row = run(args.events, args.alarms, args.threads, args.seed)
    if args.json:
        print(json.dumps(row))
        return
    print(
        f"{row['events']} events of {args.alarms} alarms in one group, {row['threads']} threads: "
        f"{row['conflicts']} conflicts ({row['conflict_rate']:.1%} of events), {row['gave_up']} gave up; "
        f"p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms; {row['incidents_opened']} incident opened "
        f"holding {row['alarms_linked']} alarms"
    )


if __name__ == "__main__":
    main()
