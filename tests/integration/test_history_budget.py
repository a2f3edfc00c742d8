"""The history budget on the real ASL (moto's interpreter, the steps handler in-process): a monitoring
loop with five routes, scaled so each cycle takes about a second, runs past several continue-as-new
points. Measured: the events one cycle writes (against ``events_per_cycle``), the events a route's Map
iteration writes, and the events before the first cycle (against the reserve)."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clarion.domain.workflow.history import (
    EVENTS_PER_ROUTE,
    HISTORY_LIMIT,
    RESERVE,
    cycles_per_execution,
    events_per_cycle,
)
from clarion.handlers.observability import logger
from clarion.local.environment import LocalEnvironment
from clarion.local.moto_glue import EmbeddedMoto
from clarion.runbook_loader import load_runbook

from tests.conftest import RUNBOOKS
from tests.integration.test_workflow_paths import Flow

pytestmark = pytest.mark.integration

SEV4 = """  SEV4:
    description: Minimal. Status page only.
    approval: {required: false}
    update_every: 4h
    channels: [status_page]
    audiences: [customers]"""
WIDE = """  SEV4:
    description: Minimal, told widely (five routes, no approval) for this test.
    approval: {required: false}
    update_every: 4h
    channels: [status_page, email, chat]
    audiences: [customers, technical]"""
ROUTES = 5  # status_page, sns:customers, sns:technical, chat:technical, email:support


def history(flow: Flow, arn: str) -> list[dict[str, Any]]:
    events, token = [], None
    while True:
        page = flow.sfn.get_execution_history(
            executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


@pytest.fixture
def wide(tmp_path: Path) -> Iterator[tuple[Flow, Any]]:
    logger.setLevel("ERROR")
    rb = tmp_path / "runbooks"
    shutil.copytree(RUNBOOKS, rb)
    policies = rb / "policies.yaml"
    assert SEV4 in policies.read_text()
    policies.write_text(policies.read_text().replace(SEV4, WIDE))
    runbook = load_runbook(rb)
    emulator = EmbeddedMoto().start()
    try:
        env = LocalEnvironment(emulator)
        env.provision()
        steps, _ = env.wire(
            runbook, approval_base_url="http://127.0.0.1:9/", time_scale=1 / 14400, sleep=lambda _s: None
        )
        yield Flow(env, runbook), steps
    finally:
        emulator.stop()


def test_budget_keeps_every_execution_under_the_limit() -> None:
    for routes in range(0, 301):
        n = cycles_per_execution(routes)
        assert n >= 1
        assert RESERVE + n * events_per_cycle(routes) <= HISTORY_LIMIT
        assert RESERVE + (n + 1) * events_per_cycle(routes) > HISTORY_LIMIT  # and uses what it may
    # The old fixed 100 cycles per execution would fail an execution from 31 routes on.
    assert 100 * events_per_cycle(31) + RESERVE > HISTORY_LIMIT


def test_long_monitoring_loop_with_many_routes_stays_under_its_history_limit(wide: tuple[Flow, Any]) -> None:
    flow, steps = wide
    per_cycle = events_per_cycle(ROUTES)
    cycles = 2
    steps.settings.history_limit = RESERVE + cycles * per_cycle  # the same arithmetic, a short run
    assert cycles_per_execution(ROUTES, steps.settings.history_limit) == cycles
    inc = flow.alarm("public-api-throttles", namespace="AWS/ApiGateway", dimensions={"ApiName": "public-v2"})["opened"][
        0
    ]
    last = 2 * cycles + 1
    flow.wait(f"update-{last}", lambda: flow.draft_status(inc, f"update-{last}") == "published", timeout=90)
    assert sorted(flow.sent_routes(inc, "update-1")) == sorted(
        ["status_page", "sns:customers", "sns:technical", "chat:technical", "email:support"]
    )
    flow.alarm(
        "public-api-throttles", "OK", minutes=30, namespace="AWS/ApiGateway", dimensions={"ApiName": "public-v2"}
    )
    finished = flow.all_finished()
    names = {e["name"] for e in finished}
    assert f"{inc}-monitor-{cycles}" in names and f"{inc}-monitor-{2 * cycles}" in names  # continued as new, twice

    monitoring = next(e for e in finished if e["name"] == f"{inc}-monitor-{cycles}")  # a whole execution of cycles
    events = history(flow, monitoring["executionArn"])
    entered = [i for i, e in enumerate(events) if e.get("stateEnteredEventDetails", {}).get("name") == "Recheck"]
    gaps = {b - a for a, b in itertools.pairwise(entered)}
    assert len(entered) >= 2 and gaps == {per_cycle}, f"a cycle writes {gaps} events; the budget assumes {per_cycle}"
    assert entered[0] <= RESERVE  # everything before the first cycle fits the reserve
    one_cycle = events[entered[0] : entered[1]]
    assert sum(e["type"] == "MapIterationStarted" for e in one_cycle) == ROUTES
    in_map = [e for e in one_cycle if e["type"].startswith("MapIteration")]
    assert len(in_map) + 5 * ROUTES == EVENTS_PER_ROUTE * ROUTES  # each route: its iteration and one Lambda task
    for execution in finished:
        assert len(history(flow, execution["executionArn"])) < steps.settings.history_limit
