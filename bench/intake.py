"""Intake numbers: cold import of the handler module, first-call set-up, warm per-event time.

    make bench            (or: .venv/bin/python bench/intake.py [--events 300])

Cold import runs in fresh interpreters (the Lambda cold start's share that is ours); warm
per-event time is measured against the embedded emulator (moto server on loopback), so it
includes HTTP round trips to moto, not to DynamoDB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

IMPORT_SNIPPET = (
    "import time; t = time.perf_counter(); import clarion.handlers.intake; print((time.perf_counter() - t) * 1000)"
)
SETUP_SNIPPET = (
    "import time; import clarion.handlers.intake as m; t = time.perf_counter(); "
    "from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer; "
    "from clarion.runbook_loader import load_runbook; load_runbook('runbooks', lint=False); "
    "print((time.perf_counter() - t) * 1000)"
)


def fresh(snippet: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        res = subprocess.run(
            [sys.executable, "-c", snippet],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT / "functions"), "PATH": "/usr/bin:/bin"},
        )
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return out


def warm(events: int) -> list[float]:
    from clarion.domain.alarms.events import state_change_event
    from clarion.handlers.observability import logger
    from clarion.local.environment import LocalEnvironment, invoke_intake
    from clarion.local.moto_glue import EmbeddedMoto
    from clarion.runbook_loader import load_runbook

    logger.setLevel("ERROR")
    runbook = load_runbook(ROOT / "runbooks")
    t0 = datetime(2026, 11, 23, tzinfo=UTC)
    alarms = ["login-5xx", "checkout-api-prod-latency", "invoicing-jobs", "region-us-east-1-health"]
    timings = []
    with EmbeddedMoto() as emulator:
        env = LocalEnvironment(emulator)
        env.provision(execute_workflows=False)  # intake alone: the workflow is benchmarked elsewhere
        rt = env.intake_runtime(runbook)
        invoke_intake(state_change_event("warm-up", "ALARM", t0), rt)
        for i in range(events):
            name = alarms[i % len(alarms)]
            state = "ALARM" if (i // len(alarms)) % 2 == 0 else "OK"
            event = state_change_event(name, state, t0 + timedelta(seconds=i + 1))
            start = time.perf_counter()
            invoke_intake(event, rt)
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--imports", type=int, default=7)
    args = parser.parse_args()

    imports = fresh(IMPORT_SNIPPET, args.imports)
    setup = fresh(SETUP_SNIPPET, 3)
    per_event = warm(args.events)
    q = statistics.quantiles(per_event, n=20)
    print(
        f"cold import of clarion.handlers.intake: median {statistics.median(imports):.0f} ms, "
        f"min {min(imports):.0f} ms over {len(imports)} fresh interpreters (goal <= 400 ms)"
    )
    print(
        f"first-call set-up (Powertools idempotency import + runbook load and validation): "
        f"median {statistics.median(setup):.0f} ms"
    )
    print(
        f"warm per-event on the emulator: median {statistics.median(per_event):.1f} ms, "
        f"p95 {q[18]:.1f} ms over {len(per_event)} events"
    )


if __name__ == "__main__":
    main()
