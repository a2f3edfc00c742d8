"""The deployed functions build their service once per container, not once per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from clarion.domain.runbooks.model import Runbook
from clarion.handlers import runtime

ENV = {
    "TABLE_NAME": "incidents",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:wf",
    "RUNBOOK_PATH": "/var/task/runbooks",
    "HMAC_SECRET_ID": "clarion/approval",
    "APPROVAL_BASE_URL": "https://a.example",
    "SENDER_EMAIL": "s@ledgerly.example",
    "TOPIC_CUSTOMERS": "t1",
    "TOPIC_TECHNICAL": "t2",
    "TOPIC_CHAT": "t3",
    "TOPIC_INTERNAL": "t4",
    "PAGE_TARGETS": '[{"name": "p", "bucket": "b"}]',
}


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch, runbook: Runbook) -> Iterator[list[Any]]:
    calls: list[Any] = []
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(runtime, "load_runbook", lambda path, lint=True: runbook)
    monkeypatch.setattr(runtime, "secret_key", lambda secret_id: lambda: b"k" * 48)

    def build(rb: Runbook, wiring: runtime.Wiring, client: Any, key: Any) -> tuple[str, str]:
        calls.append(wiring)
        return ("service", "desk")

    monkeypatch.setattr(runtime, "build", build)
    runtime._deployed.cache_clear()
    runtime._deployed_desk.cache_clear()
    yield calls
    runtime._deployed.cache_clear()
    runtime._deployed_desk.cache_clear()


def test_desk_and_service_are_built_once_per_container(builds: list[Any]) -> None:
    desks = {id(runtime.deployed_approval_desk()) for _ in range(3)}
    assert len(desks) == 1
    for _ in range(3):
        assert runtime.deployed_workflow_service() == "service"
    assert len(builds) == 1
    assert builds[0].page_targets[0].bucket == "b" and builds[0].topics["customers"] == "t1"


def test_approval_desk_needs_only_its_own_environment(builds: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The approval function is given the table, runbook and key, not the workflow's topics or pages."""
    for name in ("APPROVAL_BASE_URL", "SENDER_EMAIL", "TOPIC_CUSTOMERS", "PAGE_TARGETS", "STATE_MACHINE_ARN"):
        monkeypatch.delenv(name)
    desk = runtime.deployed_approval_desk()
    assert desk.store.table == "incidents" and builds == []  # type: ignore[attr-defined]
