"""Time from an alarm event to the first customer-visible publish, on the auto path (no approval).

    .venv/bin/python bench/first_notice.py [--runs 5]

Runs the real pipeline on the embedded emulator: intake handler, the ASL on moto's interpreter, the
steps handler in-process, SNS/S3/DynamoDB in moto. The sample runbook's SEV2 policy is used with
approval switched off. Reported per run: until the status page is published, until the customer SNS
topics have the message, and how much of that is our own code (handlers, including their AWS calls
to the emulator) versus the rest (moto's interpreter scheduling states).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

import clarion.local.environment as local_env  # noqa: E402
from clarion.domain.alarms.events import state_change_event  # noqa: E402
from clarion.domain.enums import Severity  # noqa: E402
from clarion.handlers.observability import logger  # noqa: E402
from clarion.local.environment import LocalEnvironment, invoke_intake  # noqa: E402
from clarion.local.moto_glue import EmbeddedMoto  # noqa: E402
from clarion.runbook_loader import load_runbook  # noqa: E402

ours: list[tuple[float, float]] = []  # (start, end) of each step handler call
_original = local_env.run_step_quietly


def timed_step(event: dict[str, Any], service: Any) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        return _original(event, service)
    finally:
        ours.append((start, time.perf_counter()))


def busy(intervals: list[tuple[float, float]], until: float) -> float:
    """Wall time covered by at least one interval before ``until`` (parallel Map branches overlap)."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        end = min(end, until)
        if end <= start:
            continue
        if start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def one_run(runbook: Any) -> dict[str, float]:
    ours.clear()
    with EmbeddedMoto() as emulator:
        env = LocalEnvironment(emulator)
        env.provision()
        env.wire(runbook, approval_base_url="http://127.0.0.1:9", time_scale=1 / 3600)
        rt = env.intake_runtime(runbook)
        store = env.store()
        start = time.perf_counter()
        t_intake = time.perf_counter()
        out = invoke_intake(
            state_change_event("checkout-api-prod-5xx-rate", "ALARM", datetime.now(UTC), namespace="AWS/ApiGateway"), rt
        )
        intake = time.perf_counter() - t_intake
        incident = out["opened"][0]
        got: dict[str, float] = {}
        deadline = start + 30
        while len(got) < 2 and time.perf_counter() < deadline:
            routes = {e.data["route"] for e in store.timeline(incident) if e.kind == "message_sent"}
            now = time.perf_counter() - start
            if "status_page" in routes:
                got.setdefault("page", now)
            if "sns:customers" in routes:  # one batch: every language
                got.setdefault("sns", now)
            time.sleep(0.005)
        if len(got) < 2:
            raise SystemExit(f"the first notice did not go out: {got}")
        total = max(got.values())
        mine = busy([*ours, (t_intake, t_intake + intake)], start + total)
        return {"page": got["page"], "sns": got["sns"], "ours": mine, "rest": total - mine, "total": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logger.setLevel("ERROR")
    local_env.run_step_quietly = timed_step  # type: ignore[assignment]
    runbook = load_runbook(ROOT / "runbooks")
    policies = dict(runbook.policies.policies)
    sev2 = policies[Severity.SEV2]
    policies[Severity.SEV2] = sev2.model_copy(update={"approval": sev2.approval.model_copy(update={"required": False})})
    runbook = runbook.model_copy(update={"policies": runbook.policies.model_copy(update={"policies": policies})})
    runs = [one_run(runbook) for _ in range(args.runs)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs) * 1000

    print(f"alarm -> first customer-visible publish, auto path, median of {len(runs)} runs on the emulator:")
    print(f"  both published (total):       {med('total'):7.0f} ms")
    print(f"  status page published:        {med('page'):7.0f} ms")
    print(f"  customer SNS topic (en, es):  {med('sns'):7.0f} ms")
    print(f"  of which our code (intake + step handlers, incl. their calls to the emulator): {med('ours'):7.0f} ms")
    print(f"  the rest (moto's Step Functions interpreter and polling): {med('rest'):7.0f} ms")


if __name__ == "__main__":
    main()
