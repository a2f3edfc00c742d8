"""Who hears what on the emulator: the real state machine on moto's interpreter, the approval page's
POST form, SNS, S3. Shorter sequences than on the fakes (each runs for seconds); the same oracle,
read from what the emulator holds: the timelines' ``message_sent`` entries (every delivery), the
topics' notifications and every file in the page bucket."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clarion.adapters.stepfunctions_workflow import StepFunctionsWorkflow
from clarion.domain.enums import ComponentStatus, IncidentKind, Phase, Severity
from clarion.domain.errors import ClarionError
from clarion.domain.workflow.manual import (
    cancel_maintenance,
    declare_incident,
    resolve_incident,
    schedule_maintenance,
    update_incident,
)
from clarion.domain.workflow.service import route_reaches_customers
from clarion.handlers.observability import logger
from clarion.local.demo import DemoFailure, approve
from clarion.local.environment import LocalEnvironment
from clarion.local.moto_glue import EmbeddedMoto, sns_notifications
from clarion.local.server import LocalServer, approval_links
from hypothesis import example, given
from hypothesis import strategies as st

from tests.property.conftest import EMULATOR_EXAMPLES, sized
from tests.property.test_who_hears_what import GROUPS, OPENING_TEXTS, RAN, RUNBOOK

pytestmark = pytest.mark.integration

SCALE = 1 / 1200  # an hour's cadence -> 3 s; approval timeouts -> the floor below
steps = st.one_of(
    st.tuples(
        st.just("open"),
        st.sampled_from(sorted(GROUPS)),
        st.sampled_from([Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4]),
        st.booleans(),
        st.sampled_from(["approve", "reject", "timeout"]),
    ),
    st.tuples(st.just("update"), st.sampled_from(sorted(GROUPS)), st.sampled_from(["approve", "reject", "timeout"])),
    st.tuples(st.just("resolve"), st.sampled_from(sorted(GROUPS))),
    st.tuples(st.just("schedule"), st.sampled_from(sorted(GROUPS)), st.booleans()),
)


def wait(what: str, probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Emulated:
    def __init__(self, env: LocalEnvironment) -> None:
        self.env = env
        self.store = env.store()
        self.wstore = env.workflow_store()
        self.workflow = StepFunctionsWorkflow(env.names.state_machine_arn, env.client("stepfunctions"))
        self.titles: dict[str, str] = {}
        self.counter = 0

    def answer(self, incident_id: str, draft_id: str, decision: str) -> None:
        """The approver's part for one draft: approve or reject on the page, or let it time out."""
        draft = wait(f"draft {draft_id}", lambda: self.wstore.get_draft(incident_id, draft_id))
        if not draft.approval_required:
            return
        ids = wait(
            f"the approval request for {draft_id}",
            lambda: (d := self.wstore.get_draft(incident_id, draft_id)) and d.approval_ids,
        )
        if decision in ("approve", "reject"):
            link = wait(
                "the approval email", lambda: [x for x in approval_links(self.env) if f"/approvals/{ids[0]}?" in x]
            )[0]
            with contextlib.suppress(DemoFailure):  # too late: the timeout policy applied, which is fine too
                approve(link, decision=decision)
        wait(
            f"{draft_id} decided",
            lambda: (d := self.wstore.get_draft(incident_id, draft_id)) and d.status != "drafted",
            timeout=40,
        )

    def step(self, s: tuple[Any, ...]) -> None:
        now = datetime.now(UTC)
        try:
            if s[0] == "open":
                _, group, severity, drill, decision = s
                self.counter += 1
                title = f"Emulated token{self.counter:03d}y"
                inc = declare_incident(
                    RUNBOOK,
                    self.store,
                    self.workflow,
                    title={"en": title, "es": title},
                    components=[GROUPS[group]],
                    status=ComponentStatus.PARTIAL_OUTAGE,
                    severity=severity,
                    actor="cli:prop",
                    now=now,
                    drill=drill,
                )
                self.titles[inc.id] = title
                self.answer(inc.id, "investigating", decision)
            elif s[0] == "update":
                _, group, decision = s
                inc_id = self.store.get_open_incident_id(group)
                if inc_id is None:
                    return
                _, draft_id = update_incident(self.store, self.workflow, inc_id, actor="cli:prop", now=now)
                assert draft_id is not None
                self.answer(inc_id, draft_id, decision)
            elif s[0] == "resolve":
                inc_id = self.store.get_open_incident_id(s[1])
                if inc_id is not None:
                    resolve_incident(self.store, self.workflow, inc_id, actor="cli:prop", now=now)
            elif s[0] == "schedule":
                _, group, cancel = s
                self.counter += 1
                title = f"Window token{self.counter:03d}y"
                m = schedule_maintenance(
                    RUNBOOK,
                    self.store,
                    self.workflow,
                    title={"en": title, "es": title},
                    components=[GROUPS[group]],
                    start=now + timedelta(minutes=2),
                    end=now + timedelta(minutes=4),
                    actor="cli:prop",
                    now=now,
                )
                self.titles[m.id] = title
                if cancel:
                    wait("the announcement", lambda: self.wstore.get_draft(m.id, "maintenance-scheduled"))
                    cancel_maintenance(self.store, self.workflow, m.id, actor="cli:prop", now=datetime.now(UTC))
        except ClarionError:
            pass

    def finish(self) -> None:
        """Resolve what is open and let every execution end."""
        for group in GROUPS:
            inc_id = self.store.get_open_incident_id(group)
            if inc_id is not None:
                resolve_incident(self.store, self.workflow, inc_id, actor="cli:prop", now=datetime.now(UTC))
        sfn = self.env.client("stepfunctions")

        def done() -> bool:
            runs = sfn.list_executions(stateMachineArn=self.env.names.state_machine_arn)["executions"]
            return all(r["status"] != "RUNNING" for r in runs)

        wait("every execution to end", done, timeout=90)

    def check(self) -> None:
        incidents = {
            i.id: i
            for kind in (IncidentKind.INCIDENT, IncidentKind.MAINTENANCE)
            for i in self.store.list_incidents(limit=500, kind=kind)
        }
        sends: Counter[tuple[str, str, str]] = Counter()
        public: set[str] = set()
        told_customers: set[str] = set()
        for inc_id, inc in incidents.items():
            first: dict[str, str] = {}
            for e in self.store.timeline(inc_id):
                if e.kind != "message_sent":
                    continue
                route, draft_id, phase = e.data["route"], e.data["draft_id"], e.data["phase"]
                sends[(inc_id, draft_id, route)] += 1
                first.setdefault(route, phase)
                draft = self.wstore.get_draft(inc_id, draft_id)
                assert draft is not None and draft.status not in ("rejected", "held"), f"{draft_id} was not approved"
                if inc.drill:
                    assert not route_reaches_customers(route)
                    assert all(m["body"].startswith("[DRILL] ") for m in e.data["messages"])
                if route == "status_page":
                    public.add(inc_id)
                if route == "sns:customers":
                    told_customers.add(inc_id)
            for route, phase in first.items():
                assert Phase(phase) in OPENING_TEXTS, f"{route} first heard of {inc_id} through {phase}"
        assert max(sends.values(), default=1) == 1, sends.most_common(1)
        s3 = self.env.client("s3")
        bucket = self.env.names.page_bucket
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        hidden = {needle for i, t in self.titles.items() if i not in public for needle in (i, t)}
        for key in keys:
            text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", "replace")
            for needle in hidden:
                assert needle not in text, f"{key} mentions {needle!r}, which was never public"
        customers = self.env.names.topic_arn("customers")
        for n in sns_notifications(self.env.names.account, self.env.names.region):
            if n["topic"] != customers:
                continue
            for inc_id, title in self.titles.items():
                if inc_id not in told_customers:
                    assert title not in (n["subject"] or "") and title not in n["message"]


@pytest.fixture
def emulated() -> Iterator[Callable[[], Emulated]]:
    logger.setLevel("ERROR")
    running: list[tuple[EmbeddedMoto, LocalServer]] = []

    def make() -> Emulated:
        for emulator, server in running:
            server.stop()
            emulator.stop()
        running.clear()
        emulator = EmbeddedMoto().start()
        env = LocalEnvironment(emulator)
        env.provision()
        server = LocalServer(env).start()
        steps_service, _ = env.wire(RUNBOOK, approval_base_url=server.url, time_scale=SCALE, sleep=lambda _s: None)
        steps_service.settings.min_approval_seconds = 3  # the scripted approver's window
        running.append((emulator, server))
        return Emulated(env)

    yield make
    for emulator, server in running:
        server.stop()
        emulator.stop()


def test_who_hears_what_on_the_emulator(emulated: Callable[[], Emulated]) -> None:
    @sized(EMULATOR_EXAMPLES)
    @given(st.lists(steps, min_size=1, max_size=5))
    @example(  # the four ways customers were misled before the ledger, in one sequence
        [
            ("open", "payments", Severity.SEV3, False, "reject"),
            ("resolve", "payments"),
            ("open", "core", Severity.SEV4, True, "approve"),
            ("open", "regions", Severity.SEV4, False, "approve"),
            ("schedule", "payments", True),
        ]
    )
    def run(sequence: list[tuple[Any, ...]]) -> None:
        world = emulated()
        for s in sequence:
            world.step(s)
        world.finish()
        world.check()
        RAN["emulator"] += 1

    run()
    print(f"\nwho-hears-what sequences run on the emulator: {RAN['emulator']}")
