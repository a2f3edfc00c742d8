"""Exactly once, in order: a later phase that went out supersedes an earlier draft still waiting
(its link answers 410, its routes are skipped, its timeout does nothing), and an approver's
decision is never lost when Step Functions is throttled: the page answers clearly (never a 500)
and the workflow acts on the stored decision when the approval window closes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from clarion.domain.approvals.links import ApprovalStatus
from clarion.domain.enums import Phase
from clarion.domain.incident import Change
from clarion.domain.messaging.ledger import Told
from clarion.domain.runbooks.model import Runbook
from clarion.web.approvals import render_page

from tests.fakes.channels import ScriptedDelivery
from tests.unit.test_approval_desk import World


class ThrottledDecider:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[str] = []

    def succeed(self, token: str, output: dict[str, object]) -> None:
        self.calls.append("succeed")
        if self.failures:
            self.failures -= 1
            raise RuntimeError("SendTaskSuccess: ThrottlingException")

    def fail(self, token: str, error: str, cause: str) -> None:
        self.succeed(token, {})


@pytest.fixture
def world(runbook: Runbook) -> World:
    w = World(runbook)
    w.desk.sleep = lambda _s: None
    return w


def test_a_throttled_send_task_success_is_retried_and_the_approver_sees_approved(world: World) -> None:
    world.desk.decider = ThrottledDecider(failures=2)
    page = world.desk.decide(world.approval_id, world.form(decision="approve"), "/x")
    assert page.status == 200 and "Approved" in render_page(page)
    assert world.desk.decider.calls == ["succeed"] * 3  # type: ignore[attr-defined]


def test_a_decision_survives_step_functions_staying_down(world: World) -> None:
    world.desk.decider = ThrottledDecider(failures=100)
    page = world.desk.decide(world.approval_id, world.form(decision="approve"), "/x")
    assert page.status == 202 and "Decision recorded" in render_page(page) and "cannot be lost" in render_page(page)
    assert world.status() is ApprovalStatus.APPROVED
    # A second click is told it is already decided (not a 500, not a second decision).
    assert world.desk.decide(world.approval_id, world.form(decision="approve"), "/x").status == 409
    # When the window closes, the workflow finds the stored decision and publishes (not the policy).
    world.now += timedelta(hours=2)
    out = world.service.approval_timeout("payments-1", "investigating")
    assert out["action"] == "approved"
    assert "decision_recovered" in [e.kind for e in world.store.timeline("payments-1")]


def _told(world: World, route: str) -> None:
    """The audience ledger's record that ``route`` heard an approved opening earlier."""
    told = Told(route=route, draft_id="earlier", phase=Phase.INVESTIGATING, at=world.now, approved_by="amara@example")
    world.store.commit(Change(told=[("payments-1", told)]))


def _publish_resolution(world: World) -> None:
    _told(world, "status_page")  # a resolution goes only where an opening went
    world.now += timedelta(minutes=10)
    world.service.deliveries = {"status_page": ScriptedDelivery(), "sns": ScriptedDelivery()}
    world.service.draft("payments-1", "resolved", "resolved")
    assert world.service.publish_route("payments-1", "resolved", "status_page")["status"] == "sent"


def test_a_later_phase_supersedes_a_pending_draft_and_its_link_answers_410(world: World) -> None:
    _publish_resolution(world)
    page = world.desk.view(world.approval_id, world.params, "/x")
    assert page.status == 410 and "A later update was already sent" in render_page(page)
    post = world.desk.decide(world.approval_id, world.form(decision="approve"), "/x")
    assert post.status == 410 and world.decider.calls == []  # never reached Step Functions
    # Even if the old draft reached its publish step (a holding statement on timeout, say), no
    # customer receives "investigating" after "resolved".
    out = world.service.publish_route("payments-1", "investigating", "sns:customers")
    assert out["status"] == "superseded"
    assert world.service.deliveries["sns"].delivered == []  # type: ignore[attr-defined]
    timeout = world.service.approval_timeout("payments-1", "investigating")
    assert timeout["action"] == "superseded" and world.status() is ApprovalStatus.SUPERSEDED
    world.service.published("payments-1", "investigating")
    draft = world.wstore.get_draft("payments-1", "investigating")
    assert draft is not None and draft.status == "superseded"


def test_an_earlier_draft_does_not_supersede_a_later_one(world: World) -> None:
    world.now += timedelta(minutes=1)
    world.service.deliveries = {"status_page": ScriptedDelivery()}
    draft = world.wstore.get_draft("payments-1", "investigating")
    assert draft is not None
    world.wstore.save_draft(draft.model_copy(update={"status": "approved", "approved_by": "amara@example"}))
    assert world.service.publish_route("payments-1", "investigating", "status_page")["status"] == "sent"
    world.now += timedelta(minutes=10)
    world.service.draft("payments-1", "resolved", "resolved")
    assert world.service.publish_route("payments-1", "resolved", "status_page")["status"] == "sent"
