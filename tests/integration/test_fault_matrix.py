"""The fault matrix: the alarm -> approval -> publish -> update -> resolve path on the emulator (the
ASL on moto's interpreter, the real handlers, the approval page over HTTP), with every AWS operation
that path calls failing, through the same ``--fault`` mechanism ``clarion local up`` offers.

Default (``make test``): three runs, errors cycling through 500, throttle and connection, every
operation faulted in each: once at its first call; three times in a row from its first call; once
half-way through its calls and three times at three quarters (the update and the resolution). Then:
0 lost, 0 duplicated, 0 out-of-order customer messages, the approval email sent, every execution
succeeded, the page resolved with each update once and its manifest in step with the bucket (the
next publish finds no leftovers). Run with ``-s`` to see the operations x runs table.

``CLARION_FAULT_MATRIX=long`` adds a run per operation (each alone, once and three times, starting
at its first and its second call): about 15 minutes.

Covered next to it: intake's own calls (idempotency, the store, StartExecution) one position at a
time in ``test_intake_faults.py`` (a failed intake is retried by Lambda's asynchronous invocation,
not by the workflow, so here intake runs on clients without faults); every PUT position of a page
publish with each error kind in ``test_page_publisher_faults.py``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.intake import IntakeRuntime
from clarion.handlers.observability import logger
from clarion.local.demo import DemoFailure, approve
from clarion.local.environment import LocalEnvironment
from clarion.local.faults import ERRORS, Fault, FaultInjector
from clarion.local.moto_glue import EmbeddedMoto, sns_notifications
from clarion.local.server import LocalServer, approval_links

from tests.integration.test_workflow_paths import API, HOUR, Flow

# Every operation the path may call; a first run without faults finds those it does call.
CANDIDATES = [
    ("dynamodb", "GetItem"),
    ("dynamodb", "BatchGetItem"),
    ("dynamodb", "Query"),
    ("dynamodb", "PutItem"),
    ("dynamodb", "UpdateItem"),
    ("dynamodb", "DeleteItem"),
    ("dynamodb", "TransactWriteItems"),
    ("sns", "Publish"),
    ("sns", "PublishBatch"),
    ("sesv2", "SendEmail"),
    ("s3", "GetObject"),
    ("s3", "PutObject"),
    ("s3", "ListObjectsV2"),
    ("stepfunctions", "StartExecution"),
    ("stepfunctions", "SendTaskSuccess"),
    ("sqs", "SendMessage"),
    ("secretsmanager", "GetSecretValue"),
]
PHASES = ["investigating", "update", "resolved"]
LONG = os.environ.get("CLARION_FAULT_MATRIX") == "long"


@dataclass
class Outcome:
    faults: list[str]
    injected: int = 0
    injected_calls: list[str] = field(default_factory=list)  # the operation of each injected fault
    calls: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)
    page: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    story: list[str] = field(default_factory=list)
    try_again: int = 0  # approval pages that said "try again in a minute" (AWS kept failing)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.out_of_order or self.page or self.other)


@pytest.fixture
def pipeline(runbook: Runbook, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[list[Fault]], Outcome]]:
    logger.setLevel("CRITICAL")
    # Real DynamoDB is atomic; moto's transact_write_items is not across threads (NOTES.md): the
    # Map's parallel routes would lose writes to moto, not to Clarion. Serialise moto's backend.
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("transact_write_items", "put_item", "update_item", "delete_item", "get_item", "query"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)

    def run(faults: list[Fault]) -> Outcome:
        injector = FaultInjector(faults)
        outcome = Outcome([str(f) for f in faults])
        with EmbeddedMoto() as emulator:
            env = LocalEnvironment(emulator, faults=injector)
            env.provision()
            server = LocalServer(env).start()
            try:
                steps, _ = env.wire(runbook, approval_base_url=server.url, time_scale=HOUR, sleep=lambda _s: None)
                steps.settings.min_approval_seconds = 20  # the test approves at once; faults slow it down
                flow = Flow(env, runbook)
                ddb = env.client("dynamodb", inject=False)
                from clarion.adapters.dynamodb_store import DynamoDBIncidentStore
                from clarion.adapters.stepfunctions_workflow import StepFunctionsWorkflow

                flow.rt = IntakeRuntime(
                    runbook=runbook,
                    store=DynamoDBIncidentStore(env.names.table, ddb),
                    workflow=StepFunctionsWorkflow(
                        env.names.state_machine_arn, env.client("stepfunctions", inject=False)
                    ),
                    idempotency_table=env.names.idempotency_table,
                    dynamodb_client=ddb,
                )
                _check(flow, _drive(flow, outcome), outcome)
            finally:
                server.stop()
        outcome.injected = len(injector.injected)
        outcome.injected_calls = [i.operation for i in injector.injected]
        outcome.calls = injector.summary()["calls"]
        return outcome

    yield run


def _drive(flow: Flow, outcome: Outcome) -> str:
    approved: set[str] = set()

    def wait(what: str, done: Callable[[], bool], timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for link in approval_links(flow.env):
                if link not in approved:
                    approved.add(link)
                    try:
                        status = approve(link)[0]
                    except DemoFailure as exc:  # superseded or expired meanwhile: the workflow decides
                        status = 503 if "answered 503" in str(exc) else 0
                    if status == 503:  # "Please try again in a minute": the approver does
                        outcome.try_again += 1
                        approved.discard(link)
                    elif status >= 500:
                        outcome.other.append(f"the approval page answered {status}")
            if done():
                return True
            time.sleep(0.1)
        outcome.other.append(f"timed out waiting for {what}")
        return False

    inc = flow.alarm("checkout-api-prod-5xx-rate", **API)["opened"][0]
    if not wait("the approval email", lambda: bool(approval_links(flow.env))):
        outcome.lost.append("the approval email")
    wait("the first messages", lambda: _went_out(flow, inc, "investigating"))
    wait("a regular update", lambda: _went_out(flow, inc, "update-1"))
    flow.alarm("checkout-api-prod-5xx-rate", "OK", minutes=5, **API)
    wait("the resolution", lambda: "postmortem_drafted" in flow.kinds(inc), timeout=90)
    wait("every execution to end", lambda: all(e["status"] != "RUNNING" for e in flow.executions()))
    return str(inc)


def _phase(draft_id: str) -> str:
    return "update" if draft_id.startswith("update-") else draft_id


def _went_out(flow: Flow, inc: str, draft_id: str) -> bool:
    draft = flow.wstore.get_draft(inc, draft_id)
    if draft is None:
        return False
    if draft.status in ("published", "superseded"):
        return True
    done = {
        e.data["route"] for e in flow.store.timeline(inc) if e.kind == "message_sent" and e.data["draft_id"] == draft_id
    }
    return set(draft.routes) <= done


def _check(flow: Flow, inc: str, outcome: Outcome) -> None:
    outcome.story = [
        f"{e.at.strftime('%H:%M:%S.%f')[:12]} {e.kind}: {e.summary[:140]}" for e in flow.store.timeline(inc)
    ]
    env = flow.env
    for ex in flow.executions():
        if ex["status"] != "SUCCEEDED":
            outcome.other.append(f"execution {ex['name']} {ex['status']}")
    # What customers received, on the wire: the customer topic's notifications, by phase and language.
    customers = env.names.topic_arn("customers")
    wire = [
        (n["attributes"]["phase"]["Value"], n["attributes"]["language"]["Value"])
        for n in sns_notifications(env.names.account, env.names.region)
        if n["topic"] == customers and "phase" in n["attributes"]
    ]
    timeline = flow.store.timeline(inc)
    sends = [e for e in timeline if e.kind == "message_sent"]
    sent = [(e.data["draft_id"], e.data["route"]) for e in sends]
    # A route never told gets an opening (investigating) under a later draft: the phase sent counts.
    drafts_sent = {
        (e.data["draft_id"], e.data.get("phase") or _phase(e.data["draft_id"]))
        for e in sends
        if e.data["route"] == "sns:customers"
    }
    for phase, lang in sorted(set(wire)):
        allowed = sum(1 for _, p in drafts_sent if p == phase)
        if wire.count((phase, lang)) > allowed:
            outcome.duplicated.append(f"customers got {phase}/{lang} {wire.count((phase, lang))} times, {allowed} sent")
    for lang in {lang for _, lang in wire}:
        phases = [p for p, lg in wire if lg == lang]
        ranks = [PHASES.index(p) for p in phases if p in PHASES]
        if ranks != sorted(ranks):
            outcome.out_of_order.append(f"{lang}: {phases}")
        for needed in ("investigating", "resolved"):
            if needed not in phases:
                outcome.lost.append(f"customers never got {needed} in {lang}")
    # The send ledger: every route of every draft that went out, exactly once.
    for item in sorted(set(sent)):
        if sent.count(item) > 1:
            outcome.duplicated.append(f"{item} recorded sent {sent.count(item)} times")
    for draft_id in {d for d, _ in sent}:
        draft = flow.wstore.get_draft(inc, draft_id)
        assert draft is not None
        missing = set(draft.routes) - {r for d, r in sent if d == draft_id}
        if missing and draft.status != "superseded":
            outcome.lost.append(f"{draft_id}: {sorted(missing)} never sent")
    for e in timeline:
        if e.kind == "message_failed":
            outcome.lost.append(f"{e.data.get('route')} failed: {e.data.get('error')}")
    # The page: each update once, the incident resolved, the manifest in step with the bucket.
    page = page_problems(env, inc, len({d for d, r in sent if r == "status_page"}))
    outcome.duplicated += [p for p in page if p.startswith("page updates repeated")]
    outcome.page += [p for p in page if not p.startswith("page updates repeated")]


def page_problems(env: LocalEnvironment, inc: str, page_sends: int) -> list[str]:
    """What is wrong with the published page once the incident is resolved: it must be there, resolved,
    each of its ``page_sends`` updates once, nothing unresolved in the summary, and the manifest in
    step with the bucket (so the next publish finds no leftovers)."""
    problems: list[str] = []
    s3 = env.client("s3", inject=False)
    bucket = env.names.page_bucket

    def get(key: str) -> Any:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    incidents = {i["id"]: i for i in get("api/v2/incidents.json")["incidents"]}
    page_incident = incidents.get(inc)
    if page_incident is None:
        problems.append("the incident is not on the page")
    else:
        ids = [u["id"] for u in page_incident["incident_updates"]]
        if len(ids) != len(set(ids)):
            problems.append(f"page updates repeated: {ids}")
        if page_incident["status"] != "resolved":
            problems.append(f"the page says {page_incident['status']}")
        if len(set(ids)) != page_sends:
            problems.append(f"{len(set(ids))} page updates for {page_sends} sent")
    if get("api/v2/summary.json")["incidents"]:
        problems.append("summary.json still lists an unresolved incident")
    live = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    stale = [p for p, m in get("_clarion/manifest.json")["files"].items() if live.get(p) != m["etag"]]
    if stale:
        problems.append(f"the next publish would find leftovers: {stale}")
    return problems


def test_every_operation_failing_once_then_three_times_loses_nothing(
    pipeline: Callable[[list[Fault]], Outcome],
) -> None:
    # Run 1 faults every candidate at its first call; the calls it counts tell which operations the
    # path uses and how often. Run 2: each of those three times from its first call. Run 3: each
    # once half-way through its calls and three times at three quarters (the update and resolve).
    first = pipeline([Fault(s, o, ERRORS[i % len(ERRORS)], 1, 1) for i, (s, o) in enumerate(CANDIDATES)])
    ops = [(s, o) for s, o in CANDIDATES if first.calls.get(f"{s}.{o}", 0) > 0]
    assert len(ops) >= 10, ops
    assert first.injected == len(ops) and first.clean, _explain(first)
    thrice = pipeline([Fault(s, o, ERRORS[(i + 1) % len(ERRORS)], 3, 1) for i, (s, o) in enumerate(ops)])
    assert thrice.injected >= 3 * len(ops) - 3, thrice  # (almost) every fault hit three calls
    assert thrice.clean, _explain(thrice)
    later: list[Fault] = []
    for i, (s, o) in enumerate(ops):
        n = first.calls[f"{s}.{o}"]
        if n >= 2:
            later.append(Fault(s, o, ERRORS[(i + 2) % len(ERRORS)], 1, max(2, n // 2)))
        if n >= 4:
            later.append(Fault(s, o, ERRORS[i % len(ERRORS)], 3, max(n // 2 + 1, n * 3 // 4)))
    middle = pipeline(later)
    assert middle.clean, _explain(middle)
    print("\n" + matrix_table([("x1@1", first), ("x3@1", thrice), ("x1@1/2 x3@3/4", middle)], ops))


def matrix_table(runs: list[tuple[str, Outcome]], ops: list[tuple[str, str]]) -> str:
    """Operations x runs: the faults injected into each operation's calls, then each run's count of
    lost, duplicated and out-of-order customer messages and page problems."""
    width = max(len(f"{s}.{o}") for s, o in ops)
    lines = ["fault matrix (whole path): faults injected, by operation and run", f"  {'':<{width}}"]
    lines[-1] += "".join(f" | {n:>14}" for n, _ in runs)
    for s, o in ops:
        cells = []
        for _, run in runs:
            hit = sum(1 for i in run.injected_calls if i == f"{s}.{o}")
            cells.append(f"{hit} of {run.calls.get(f'{s}.{o}', 0)} calls")
        lines.append(f"  {s}.{o:<{width - len(s) - 1}}" + "".join(f" | {c:>14}" for c in cells))
    for label, attr in (
        ("lost", "lost"),
        ("duplicated", "duplicated"),
        ("out of order", "out_of_order"),
        ("page problems", "page"),
    ):
        lines.append(f"  {label:<{width}}" + "".join(f" | {len(getattr(r, attr)):>14}" for _, r in runs))
    return "\n".join(lines)


def _explain(o: Outcome) -> str:
    return (
        f"faults {o.faults}\ninjected {o.injected} calls {o.calls}\nlost {o.lost}\nduplicated {o.duplicated}\n"
        f"out of order {o.out_of_order}\npage {o.page}\nother {o.other}\ntimeline:\n" + "\n".join(o.story)
    )


@pytest.mark.skipif(not LONG, reason="set CLARION_FAULT_MATRIX=long for the full matrix (about 15 minutes)")
def test_each_operation_alone(pipeline: Callable[[list[Fault]], Outcome]) -> None:
    census = pipeline([Fault(s, o, "500", 1, 10_000) for s, o in CANDIDATES])
    ops = [(s, o) for s, o in CANDIDATES if census.calls.get(f"{s}.{o}", 0) > 0]
    failures = []
    for i, (s, o) in enumerate(ops):
        for count in (1, 3):
            for nth in (1, 2):
                outcome = pipeline([Fault(s, o, ERRORS[(i + count + nth) % len(ERRORS)], count, nth)])
                if not outcome.clean:
                    failures.append(outcome)
    assert failures == []
