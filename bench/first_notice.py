"""Time from an alarm event to the first customer-visible publish, on the auto path (no approval).

    .venv/bin/python bench/first_notice.py [--runs 5] [--json]

Runs the real pipeline on the embedded emulator: intake handler, the ASL on moto's interpreter, the
steps handler in-process, SNS/S3/DynamoDB in moto. The sample runbook's SEV2 policy is used with
approval switched off. Reported per run: until the status page is published, until the customer SNS
topics have the message, and how much of that is our own code (handlers, including their AWS calls
to the emulator) versus the rest (moto's interpreter scheduling states).

Round trips: every AWS call our handlers make is traced (start, end, thread). Within one handler
invocation, the sequential round trips are the longest chain of calls each starting after the
previous one ended (calls in parallel count once); across invocations, the longest chain of
invocations each starting after the previous one ended (parallel branches count once), from the
intake's ``StartExecution`` on. ``critical_path_round_trips`` counts them from the alarm event up to
the first customer-visible publish: the status page's ``index.html`` PUT or the customer SNS topic.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
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
_quiet = threading.local()  # the bench's own polling is not traced


@dataclass
class Call:
    start: float
    end: float
    thread: int
    service: str
    operation: str
    params: dict[str, Any]


@dataclass
class Invocation:
    name: str
    start: float
    end: float = float("inf")
    thread: int = 0
    calls: list[Call] = field(default_factory=list)


class Trace:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.invocations: list[Invocation] = []
        self.lock = threading.Lock()

    def attach(self, session: Any) -> None:
        session.events.register("before-parameter-build.*.*", self._before)
        session.events.register("after-call.*.*", self._after)

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = dict(params)
        context["bench_start"] = time.perf_counter()

    def _after(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if getattr(_quiet, "on", False) or "bench_start" not in context:
            return
        call = Call(
            context["bench_start"],
            time.perf_counter(),
            threading.get_ident(),
            model.service_model.service_name,
            model.name,
            context.get("bench_params", {}),
        )
        with self.lock:
            self.calls.append(call)

    def invoke(self, name: str, fn: Any) -> Any:
        inv = Invocation(name, time.perf_counter(), thread=threading.get_ident())
        with self.lock:
            self.invocations.append(inv)
        try:
            return fn()
        finally:
            inv.end = time.perf_counter()


trace = Trace()


def timed_step(event: dict[str, Any], service: Any) -> dict[str, Any]:
    start = time.perf_counter()
    name = str(event.get("step")) + (f":{event['route']}" if event.get("route") else "")
    try:
        return trace.invoke(name, lambda: _original(event, service))
    finally:
        ours.append((start, time.perf_counter()))


def chain(calls: list[Call]) -> int:
    """The longest run of calls each starting after the previous one ended."""
    best: list[int] = []
    ordered = sorted(calls, key=lambda c: c.end)
    for i, c in enumerate(ordered):
        best.append(1 + max((best[j] for j in range(i) if ordered[j].end <= c.start), default=0))
    return max(best, default=0)


def round_trips(customers_topic: str) -> dict[str, Any]:
    """Sequential round trips from the alarm event to the page's index.html and to the customer topic."""
    invs = sorted(trace.invocations, key=lambda i: i.start)
    for call in trace.calls:  # a call belongs to its thread's invocation, else the latest one under way
        owner = [i for i in invs if i.thread == call.thread and i.start <= call.start <= i.end]
        owner = owner or [i for i in invs if i.start <= call.start <= i.end]
        if owner:
            owner[-1].calls.append(call)

    def visible(c: Call) -> str | None:
        if c.service == "s3" and c.operation == "PutObject" and c.params.get("Key") == "index.html":
            return "page"
        if c.service == "sns" and c.params.get("TopicArn") == customers_topic:
            return "sns"
        return None

    intake = invs[0]
    started = next(c for c in sorted(intake.calls, key=lambda c: c.end) if c.operation == "StartExecution")
    first = [c for c in intake.calls if c.end <= started.end]
    out: dict[str, Any] = {}
    for target in ("page", "sns"):
        hit = min((c for c in trace.calls if visible(c) == target), key=lambda c: c.end, default=None)
        if hit is None:
            continue
        last = next(i for i in invs if hit in i.calls)
        steps = [i for i in invs[1:] if i.start >= started.end and i.end <= last.start]
        best: dict[int, int] = {}
        for k, inv in enumerate(steps):
            prior = [best[j] for j in range(k) if steps[j].end <= inv.start]
            best[k] = chain(inv.calls) + max(prior, default=0)
        before = max((best[k] for k, inv in enumerate(steps) if inv.end <= last.start), default=0)
        mine = chain([c for c in last.calls if c.end <= hit.end])
        out[target] = {"round_trips": chain(first) + before + mine, "path_steps": len(steps) + 2}
    out["by_service"] = {}
    for c in trace.calls:
        out["by_service"][c.service] = out["by_service"].get(c.service, 0) + 1
    return out


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
    trace.calls.clear()
    trace.invocations.clear()
    with EmbeddedMoto() as emulator:
        env = LocalEnvironment(emulator)
        trace.attach(env.session)
        env.provision()
        env.wire(runbook, approval_base_url="http://127.0.0.1:9", time_scale=1 / 3600)
        rt = env.intake_runtime(runbook)
        store = env.store()
        start = time.perf_counter()
        t_intake = time.perf_counter()
        event = state_change_event("checkout-api-prod-5xx-rate", "ALARM", datetime.now(UTC), namespace="AWS/ApiGateway")
        trace.calls.clear()  # provisioning is not part of the path
        trace.invocations.clear()
        out = trace.invoke("intake", lambda: invoke_intake(event, rt))
        intake = time.perf_counter() - t_intake
        incident = out["opened"][0]
        got: dict[str, float] = {}
        deadline = start + 30
        while len(got) < 2 and time.perf_counter() < deadline:
            _quiet.on = True
            routes = {e.data["route"] for e in store.timeline(incident) if e.kind == "message_sent"}
            _quiet.on = False
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
        time.sleep(0.2)  # let the last calls land in the trace
        trips = round_trips(env.names.topic_arn("customers"))
        return {
            "page": got["page"],
            "sns": got["sns"],
            "ours": mine,
            "rest": total - mine,
            "total": total,
            "trips": trips,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON line")
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

    page_trips = int(statistics.median(r["trips"]["page"]["round_trips"] for r in runs))
    sns_trips = int(statistics.median(r["trips"]["sns"]["round_trips"] for r in runs))
    if args.json:
        print(
            json.dumps(
                {
                    "critical_path_round_trips": min(page_trips, sns_trips),
                    "page_round_trips": page_trips,
                    "sns_round_trips": sns_trips,
                    "first_publish_ms": round(min(med("page"), med("sns"))),
                    "page_ms": round(med("page")),
                    "sns_ms": round(med("sns")),
                    "both_ms": round(med("total")),
                    "requests_by_service": runs[-1]["trips"]["by_service"],
                    "runs": len(runs),
                }
            )
        )
        return

    print(f"alarm -> first customer-visible publish, auto path, median of {len(runs)} runs on the emulator:")
    print(f"  both published (total):       {med('total'):7.0f} ms")
    print(f"  status page published:        {med('page'):7.0f} ms")
    print(f"  customer SNS topic (en, es):  {med('sns'):7.0f} ms")
    print(f"  of which our code (intake + step handlers, incl. their calls to the emulator): {med('ours'):7.0f} ms")
    print(f"  the rest (moto's Step Functions interpreter and polling): {med('rest'):7.0f} ms")
    print(f"  sequential AWS round trips to the page's index.html: {page_trips}; to the customer topic: {sns_trips}")


if __name__ == "__main__":
    main()
