"""Transient AWS errors never end a workflow: a step re-runs itself a few times, then leaves as
``TransientError`` for the state machine's Retry; every Task of the ASL has a Catch that tells the
internal channel and the dead-letter queue; a send that happened is never reported as failed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from clarion.domain.errors import TransientError
from clarion.domain.incident import Incident
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.workflow_steps import run_step

from tests.conftest import ROOT
from tests.unit.test_workflow_service import Rig

ROOT_ASL = ROOT / "infra" / "statemachine" / "incident.asl.json"


def throttle(op: str = "Publish") -> ClientError:
    return ClientError(
        {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, op
    )


class FlakyNotifier:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.notices: list[str] = []

    def notify(self, incident: Incident, text: str) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.notices.append(text)


@pytest.fixture
def rig(runbook: Runbook) -> Rig:
    return Rig(runbook)


def test_a_throttled_step_runs_again_and_says_it_once(rig: Rig) -> None:
    notifier = FlakyNotifier([throttle(), EndpointConnectionError(endpoint_url="https://sns")])
    rig.service.notifier = notifier
    assert run_step({"step": "open", "incident_id": "payments-1"}, rig.service) == {"severity": "SEV2"}
    assert len(notifier.notices) == 1 and "Incident opened" in notifier.notices[0]
    assert len(rig.sleeps) == 2 and rig.sleeps[1] == 2 * rig.sleeps[0]  # backoff


def test_a_throttle_that_outlasts_the_step_leaves_as_transient_error(rig: Rig) -> None:
    rig.service.notifier = FlakyNotifier([throttle() for _ in range(10)])
    with pytest.raises(TransientError, match="Publish: Throttling"):
        run_step({"step": "open", "incident_id": "payments-1"}, rig.service)
    assert len(rig.sleeps) == rig.service.settings.retry_attempts - 1


def test_a_permanent_error_is_not_retried(rig: Rig) -> None:
    denied = ClientError(
        {"Error": {"Code": "AuthorizationError"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "Publish"
    )
    rig.service.notifier = FlakyNotifier([denied])
    with pytest.raises(ClientError):
        run_step({"step": "open", "incident_id": "payments-1"}, rig.service)
    assert rig.sleeps == []


def test_a_failing_internal_notice_does_not_undo_the_approval_request(rig: Rig) -> None:
    """The emails went out; the trailing internal notice failing must not send them again."""
    rig.service.notifier = FlakyNotifier([throttle() for _ in range(10)])
    rig.service.draft("payments-1", "investigating", "d1")
    run_step({"step": "request_approval", "incident_id": "payments-1", "draft_id": "d1", "token": "t"}, rig.service)
    approvers = rig.service.runbook.people_in(rig.service.runbook.policy(rig.severity).approval.approvers)
    assert len(rig.mailer.sent) == len(approvers) > 0  # each approver once
    kinds = [e.kind for e in rig.store.timeline("payments-1")]
    assert "approval_requested" in kinds and "internal_notice_failed" in kinds


def test_a_retried_approval_request_keeps_the_links_already_emailed(rig: Rig) -> None:
    """The step fails after the emails (the timeline write is throttled) and is retried: the same
    request, the same links; the first email's link is not replaced by the retry."""
    rig.service.draft("payments-1", "investigating", "d1")
    real = rig.store.commit
    failures = [throttle("TransactWriteItems")]

    def flaky_commit(change: Any) -> None:
        if change.timeline and change.timeline[0][1].kind == "approval_requested" and failures:
            raise failures.pop()
        real(change)

    rig.store.commit = flaky_commit  # type: ignore[method-assign]
    run_step({"step": "request_approval", "incident_id": "payments-1", "draft_id": "d1", "token": "t"}, rig.service)
    draft = rig.wstore.drafts[("payments-1", "d1")]
    assert len(draft.approval_ids) == 1  # one request, still pending
    request = rig.wstore.get_approval(draft.approval_ids[0])
    assert request is not None and request.status.value == "pending"
    links = [m["text"] for m in rig.mailer.sent]
    half = len(links) // 2
    assert half > 0 and links[:half] == links[half:]  # sent again, with the very same links


def test_step_failed_tells_all_three_and_never_fails(rig: Rig) -> None:
    dead: list[dict[str, Any]] = []
    rig.service.dead_letters = dead.append
    out = run_step(
        {
            "step": "step_failed",
            "incident_id": "payments-1",
            "failed_step": "NotifyInternal",
            "continues": True,
            "error": {"Error": "TransientError", "Cause": "Publish: Throttling"},
        },
        rig.service,
    )
    assert out["told"] == {"dead_letters": True, "timeline": True, "internal": True}
    assert dead[0]["step"] == "NotifyInternal" and dead[0]["continues"] is True
    assert "Step NotifyInternal failed after retries" in rig.notifier.notices[-1][1]
    # Everything failing at once still returns: the state machine goes on to where it is safe.
    rig.service.notifier = FlakyNotifier([RuntimeError("down")])
    rig.service.dead_letters = lambda body: (_ for _ in ()).throw(RuntimeError("sqs down"))
    out = rig.service.step_failed("payments-1", "Draft", {"Error": "X"}, continues=False)
    assert out["told"] == {"dead_letters": False, "timeline": True, "internal": False}


def test_a_send_whose_ledger_write_failed_is_recorded_as_sent_not_failed(rig: Rig) -> None:
    rig.service.draft("payments-1", "investigating", "d1")
    rig.approve("d1")  # only approved drafts are sent
    real = rig.wstore.finish_send
    calls = {"n": 0}

    def flaky_finish(key: str, *, ok: bool, detail: str) -> None:
        calls["n"] += 1
        if ok and calls["n"] <= rig.service.settings.retry_attempts:
            raise throttle("UpdateItem")
        real(key, ok=ok, detail=detail)

    rig.wstore.finish_send = flaky_finish  # type: ignore[method-assign]
    from clarion.domain.workflow.service import DeliveredUnrecorded

    with pytest.raises(DeliveredUnrecorded) as exc:
        rig.service.publish_route("payments-1", "d1", "chat:technical")
    dead: list[dict[str, Any]] = []
    rig.service.dead_letters = dead.append
    out = rig.service.route_failed(
        "payments-1", "d1", "chat:technical", {"Error": "DeliveredUnrecorded", "Cause": str(exc.value)}
    )
    assert out["status"] == "sent" and dead == []  # nothing for anyone to redrive
    # A redrive, or another retry, never sends it again: the ledger says sent.
    assert rig.service.publish_route("payments-1", "d1", "chat:technical")["status"] == "already_sent"
    assert rig.deliveries["chat"].delivered == ["d1:chat:technical"]


def _tasks(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, s in states.items():
        if s["Type"] == "Task":
            out.append((name, s))
        if s["Type"] == "Map":
            out += _tasks(s["ItemProcessor"]["States"])
        if s["Type"] == "Parallel":
            for branch in s["Branches"]:
                out += _tasks(branch["States"])
    return out


def test_every_task_retries_transient_errors_and_has_a_catch() -> None:
    asl = json.loads(ROOT_ASL.read_text())
    tasks = _tasks(asl["States"])
    assert len(tasks) > 30
    for name, task in tasks:
        assert any("TransientError" in r["ErrorEquals"] for r in task["Retry"]), name
        assert any("States.ALL" in c["ErrorEquals"] for c in task.get("Catch", [])), name
    publish = asl["States"]["Publish"]
    assert "Iterator" not in publish and "Parameters" not in publish
    assert publish["ItemProcessor"]["ProcessorConfig"]["Mode"] == "INLINE" and "ItemSelector" in publish
    # An internal notice that failed does not stop the customer notice: it ends its own branch,
    # beside the branch that writes the first draft.
    notify, draft = asl["States"]["NotifyAndDraft"]["Branches"]
    assert notify["States"]["NotifyInternalFailed"]["End"] is True
    assert draft["StartAt"] == "DraftFirstMessages"
