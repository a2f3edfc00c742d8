"""Who hears what: the audience ledger on fakes (docs/design.md, decision 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from clarion.domain.enums import ComponentStatus, IncidentStatus, Phase, Severity
from clarion.domain.messaging.ledger import AudienceLedger, Told, needs_approval, opening_phase, plan
from clarion.domain.runbooks.model import Runbook
from clarion.domain.workflow.manual import (
    InvalidRequest,
    cancel_maintenance,
    declare_incident,
    schedule_maintenance,
    update_incident,
)

from tests.fakes.pipeline import FakePipeline

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
ALL = ["status_page", "sns:customers", "sns:technical", "chat:technical", "email:support"]


def declare(p: FakePipeline, severity: Severity, *, drill: bool = False, component: str = "checkout-api") -> str:
    inc = declare_incident(
        p.runbook,
        p.store,
        p.workflow,
        title={"en": "Card test", "es": "Prueba de tarjeta"},
        components=[component],
        status=ComponentStatus.PARTIAL_OUTAGE,
        severity=severity,
        actor="cli:test",
        now=p.clock(),
        drill=drill,
    )
    p.service.open(inc.id)
    return inc.id


def sent(p: FakePipeline, incident_id: str, draft_id: str | None = None) -> list[str]:
    return [
        d.route for d in p.delivered if d.incident_id == incident_id and (draft_id is None or d.draft_id == draft_id)
    ]


def test_the_plan_per_phase() -> None:
    told = AudienceLedger(
        (Told(route="status_page", draft_id="investigating", phase=Phase.INVESTIGATING, at=T0, approved_by="a"),)
    )
    assert plan(Phase.INVESTIGATING, ALL, told).routes == ALL
    update = plan(Phase.UPDATE, ALL, told)
    assert update.routes == ["status_page"] and update.openings == ALL[1:] and update.left_out == []
    resolved = plan(Phase.RESOLVED, ALL, told)
    assert resolved.routes == ["status_page"] and resolved.openings == [] and resolved.left_out == ALL[1:]
    # Told before the severity dropped the route: it still hears the end.
    assert plan(Phase.RESOLVED, [], told).routes == ["status_page"]
    assert plan(Phase.RESOLVED, ALL, AudienceLedger()).routes == []
    assert opening_phase(Phase.UPDATE, IncidentStatus.IDENTIFIED) is Phase.IDENTIFIED
    assert opening_phase(Phase.UPDATE, IncidentStatus.INVESTIGATING) is Phase.INVESTIGATING
    pre = [Phase.RESOLVED]
    assert not needs_approval(Phase.RESOLVED, True, pre, has_openings=False)
    assert needs_approval(Phase.RESOLVED, True, [], has_openings=False)
    assert needs_approval(Phase.UPDATE, True, [Phase.UPDATE], has_openings=True)  # a new route's opening is asked
    assert needs_approval(Phase.INVESTIGATING, True, pre, has_openings=False)
    assert not needs_approval(Phase.INVESTIGATING, False, pre, has_openings=False)


def test_rejected_opening_then_resolve_stays_internal(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    inc = declare(p, Severity.SEV3)
    assert p.phase(inc, Phase.INVESTIGATING, "investigating", "reject") == "rejected"
    assert p.resolve(inc) == "pre-approved"
    assert sent(p, inc) == []  # not one route, the resolution included
    resolved = p.wstore.get_draft(inc, "resolved")
    assert resolved is not None and resolved.routes == [] and set(resolved.left_out) == set(ALL)
    notices = [text for i, text in p.notifier.notices if i == inc]
    assert any("Nobody outside the team was told of this incident" in t for t in notices)
    assert p.load_page() == []  # never on the page


def test_hold_after_timeout_then_resolve_stays_internal(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    inc = declare(p, Severity.SEV3)  # SEV3: hold on timeout
    assert p.phase(inc, Phase.INVESTIGATING, "investigating", "timeout") == "held"
    p.resolve(inc)
    assert sent(p, inc) == [] and p.load_page() == []


def test_approved_opening_then_resolution_goes_where_the_opening_went_without_asking(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    inc = declare(p, Severity.SEV3)
    p.phase(inc, Phase.INVESTIGATING, "investigating", "approve")
    told = p.store.ledger(inc)
    assert told.routes == {"status_page", "sns:customers", "sns:technical", "chat:technical", "email:support"}
    assert {t.approved_by for t in told.entries} == {"amara@example"}
    assert p.resolve(inc) == "pre-approved"  # the runbook's default: pre-approved where the opening was approved
    assert sorted(sent(p, inc, "resolved")) == sorted(told.routes)
    assert [i.id for i in p.load_page()] == [inc]


def test_a_resolution_needs_approval_when_the_runbook_says_so(runbook: Runbook) -> None:
    policies = dict(runbook.policies.policies)
    sev3 = policies[Severity.SEV3]
    asking = sev3.approval.model_copy(update={"pre_approved": []})
    policies[Severity.SEV3] = sev3.model_copy(update={"approval": asking})
    strict = runbook.model_copy(update={"policies": runbook.policies.model_copy(update={"policies": policies})})
    p = FakePipeline(strict)
    inc = declare(p, Severity.SEV3)
    p.phase(inc, Phase.INVESTIGATING, "investigating", "approve")
    assert p.resolve(inc, decision="reject") == "rejected"
    assert sent(p, inc, "resolved") == []


def test_a_route_added_by_a_severity_raise_first_gets_an_opening(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    inc = declare(p, Severity.SEV4)  # status page only, no approval
    assert p.phase(inc, Phase.INVESTIGATING, "investigating") == "pre-approved"
    assert sent(p, inc) == ["status_page"]
    update_incident(p.store, p.workflow, inc, actor="cli:test", now=p.clock(), severity=Severity.SEV1, publish=False)
    draft_info = p.service.draft(inc, "update", "update-1")
    assert draft_info["approval_required"]  # new routes hear an opening: a person approves it
    draft = p.wstore.get_draft(inc, "update-1")
    assert draft is not None
    assert set(draft.opening_routes) == set(ALL) - {"status_page"} and draft.opening_phase is Phase.INVESTIGATING
    customers = draft.for_route("sns:customers")
    assert customers.phase is Phase.INVESTIGATING and all(m.opening for m in customers.messages)
    assert any("What you can do meanwhile" in m.body or "investigating" in m.body for m in customers.messages)
    page = draft.for_route("status_page")
    assert page.phase is Phase.UPDATE and not any(m.opening for m in page.messages)
    p.decide(inc, "update-1", "approve")
    p.publish(inc, "update-1", draft.routes)
    phases = {(d.route, d.phase) for d in p.delivered if d.draft_id == "update-1"}
    assert ("status_page", Phase.UPDATE) in phases and ("sns:customers", Phase.INVESTIGATING) in phases
    p.resolve(inc)
    assert set(sent(p, inc, "resolved")) == set(ALL)


def test_unapproved_or_foreign_sends_are_refused_at_the_moment_of_sending(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    inc = declare(p, Severity.SEV2)
    p.service.draft(inc, "investigating", "investigating")
    assert p.service.publish_route(inc, "investigating", "status_page")["status"] == "refused"  # not approved
    p.decide(inc, "investigating", "reject")
    assert p.service.publish_route(inc, "investigating", "sns:customers")["status"] == "refused"
    p.service.resolve(inc)
    p.service.draft(inc, "resolved", "resolved")
    # A resolution route nobody was told of, forced by a late or replayed step: refused.
    assert p.service.publish_route(inc, "resolved", "status_page")["reason"] == "not a route of this draft"
    assert sent(p, inc) == []


def test_drills_never_go_public_and_every_message_says_drill(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    inc = declare(p, Severity.SEV2, drill=True)
    p.phase(inc, Phase.INVESTIGATING, "investigating", "approve")
    assert set(sent(p, inc)) == {"sns:technical", "chat:technical"}  # customers, page and support: suppressed
    p.resolve(inc)
    assert set(sent(p, inc, "resolved")) == {"sns:technical", "chat:technical"}
    for d in p.delivered:
        assert all(body.startswith("[DRILL] ") for body in d.bodies)
    assert all(text.startswith("[DRILL] ") for i, text in p.notifier.notices if i == inc)
    # Another incident publishes the page: the drill is not on it.
    real = declare(p, Severity.SEV4, component="public-api")
    p.phase(real, Phase.INVESTIGATING, "investigating")
    assert [i.id for i in p.pages[-1]] == [real]


def test_maintenance_cancelled_tells_those_told_and_a_second_cancel_says_so(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    now = p.clock()
    m = schedule_maintenance(
        runbook,
        p.store,
        p.workflow,
        title={"en": "Login upgrade", "es": "Actualización del inicio de sesión"},
        components=["login"],
        start=now + timedelta(hours=2),
        end=now + timedelta(hours=3),
        actor="cli:test",
        now=now,
    )
    p.service.maintenance_phase(m.id, "maintenance_scheduled")
    assert p.phase(m.id, Phase.MAINTENANCE_SCHEDULED, "maintenance-scheduled") == "pre-approved"
    told = sorted(sent(p, m.id))
    cancelled = cancel_maintenance(p.store, p.workflow, m.id, actor="cli:test", now=p.clock())
    assert cancelled.cancelled_at is not None and cancelled.maintenance_status is not None
    assert cancelled.maintenance_status.value == "completed"  # Statuspage's enum
    assert p.workflow.signals(m.id) == ["maintenance", "cancel"]
    assert p.phase(m.id, Phase.MAINTENANCE_CANCELLED, "maintenance-cancelled") == "pre-approved"
    assert sorted(sent(p, m.id, "maintenance-cancelled")) == told
    page = p.pages[-1][0]
    assert page.cancelled and page.status == "completed" and "cancelled" in page.updates[-1].body["en"]
    assert "cancelado" in page.updates[-1].body["es"]
    # The window's own execution wakes up later: it says nothing more.
    assert p.service.maintenance_phase(m.id, "maintenance_in_progress")["cancelled"]
    assert p.phase(m.id, Phase.MAINTENANCE_IN_PROGRESS, "maintenance-in-progress") == "pre-approved"
    assert sent(p, m.id, "maintenance-in-progress") == []
    with pytest.raises(InvalidRequest, match="already cancelled"):
        cancel_maintenance(p.store, p.workflow, m.id, actor="cli:test", now=p.clock())


def test_maintenance_cancelled_before_anyone_was_told_stays_internal(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    now = p.clock()
    m = schedule_maintenance(
        runbook,
        p.store,
        p.workflow,
        title={"en": "Login upgrade", "es": "Actualización del inicio de sesión"},
        components=["login"],
        start=now + timedelta(hours=2),
        end=now + timedelta(hours=3),
        actor="cli:test",
        now=now,
    )
    cancel_maintenance(p.store, p.workflow, m.id, actor="cli:test", now=p.clock())
    p.phase(m.id, Phase.MAINTENANCE_SCHEDULED, "maintenance-scheduled")  # a late step: refused
    p.phase(m.id, Phase.MAINTENANCE_CANCELLED, "maintenance-cancelled")
    assert sent(p, m.id) == [] and p.load_page() == []


def test_the_approval_page_says_where_each_text_goes(runbook: Runbook) -> None:
    from clarion.domain.approvals.desk import ApprovalView, Page, one_sided_edits
    from clarion.domain.approvals.links import ApprovalRequest, Approver
    from clarion.domain.messaging.drafts import apply_edits
    from clarion.web.approvals import render_page

    p = FakePipeline(runbook)
    inc = declare(p, Severity.SEV4)
    p.phase(inc, Phase.INVESTIGATING, "investigating")
    update_incident(p.store, p.workflow, inc, actor="cli:test", now=p.clock(), severity=Severity.SEV2, publish=False)
    p.service.draft(inc, "update", "update-1")
    draft = p.wstore.get_draft(inc, "update-1")
    incident = p.store.get_incident(inc)
    assert draft is not None and incident is not None
    request = ApprovalRequest(
        id="a1",
        incident_id=inc,
        draft_id="update-1",
        task_token="t",
        approvers=[Approver(name="Amara", email="amara@example")],
        created_at=T0,
        expires_at=T0 + timedelta(minutes=15),
    )
    view = ApprovalView(runbook, incident, draft, request, 0, {"a": "0", "e": "1", "s": "x"}, "csrf", [])
    html = render_page(Page(200, view=view), "/approvals/a1", now=T0)
    # The page was told of the opening: it gets the update. The customer topic never was: an opening.
    assert '<h3>Customers · Status page · English</h3>\n<p class="small muted">Goes to Status page.</p>' in html
    assert (
        "Goes to Email and SMS subscribers (customers), which was never told of this incident: "
        "it gets this opening, not the update." in html
    )
    assert "<legend>Customers · Email · opening</legend>" in html
    assert 'name="msg:opening/customers/email/en"' in html
    # Editing the English opening alone is one-sided for the opening, not for the update's email.
    opening_en = next(m for m in draft.messages if m.key == "opening/customers/email/en")
    edited = apply_edits(draft, {opening_en.key: opening_en.body + " More soon."}, 3)
    assert one_sided_edits(draft, edited) == ["opening/customers/email"]


def test_the_cancellation_names_the_window_not_the_day_it_was_announced(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    now = p.clock()
    m = schedule_maintenance(
        runbook,
        p.store,
        p.workflow,
        title={"en": "Login upgrade", "es": "Actualización del inicio de sesión"},
        components=["login"],
        start=now + timedelta(days=1),
        end=now + timedelta(days=1, hours=2),
        actor="cli:test",
        now=now,
    )
    p.service.maintenance_phase(m.id, "maintenance_scheduled")
    p.phase(m.id, Phase.MAINTENANCE_SCHEDULED, "maintenance-scheduled")
    cancel_maintenance(p.store, p.workflow, m.id, actor="cli:test", now=p.clock())
    p.phase(m.id, Phase.MAINTENANCE_CANCELLED, "maintenance-cancelled")
    (email,) = [d for d in p.delivered if d.draft_id == "maintenance-cancelled" and d.route == "sns:customers"]
    text = " ".join(email.bodies)
    # "que anunciamos del 24 al 24" reads as if the announcement lasted from one date to the other.
    assert "anunciamos del" not in text
    assert "Hemos cancelado el mantenimiento de Inicio de sesión previsto del 24 de noviembre de 2026" in text


def test_a_window_cancelled_while_under_way_says_it_began_and_is_over(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    now = p.clock()
    m = schedule_maintenance(
        runbook,
        p.store,
        p.workflow,
        title={"en": "Login upgrade", "es": "Actualización del inicio de sesión"},
        components=["login"],
        start=now + timedelta(minutes=5),
        end=now + timedelta(hours=1),
        actor="cli:test",
        now=now,
    )
    p.service.maintenance_phase(m.id, "maintenance_scheduled")
    p.phase(m.id, Phase.MAINTENANCE_SCHEDULED, "maintenance-scheduled")
    p.now += timedelta(minutes=10)  # the window has begun
    p.service.maintenance_phase(m.id, "maintenance_in_progress")
    p.phase(m.id, Phase.MAINTENANCE_IN_PROGRESS, "maintenance-in-progress")
    cancel_maintenance(p.store, p.workflow, m.id, actor="cli:test", now=p.clock())
    p.phase(m.id, Phase.MAINTENANCE_CANCELLED, "maintenance-cancelled")
    told = sorted(sent(p, m.id, "maintenance-in-progress"))
    assert told and sorted(sent(p, m.id, "maintenance-cancelled")) == told
    (email,) = [d for d in p.delivered if d.draft_id == "maintenance-cancelled" and d.route == "sns:customers"]
    en, es = email.bodies
    # Customers were told it started: "cancelled ... if we plan it again" would leave them wondering.
    assert "The rest of the planned maintenance of Login is cancelled: it began on Nov 23, 2026" in en
    assert "The maintenance is over." in en and "If we plan it again" not in en
    assert "El resto del mantenimiento programado de Inicio de sesión está cancelado: comenzó el 23 de" in es
    assert "El mantenimiento ya terminó." in es and "Si lo volvemos a programar" not in es
    page = p.pages[-1][0]
    assert "is cancelled" in page.updates[-1].body["en"] and "está cancelado" in page.updates[-1].body["es"]


def test_the_approval_page_of_a_drill_says_customers_get_nothing(runbook: Runbook) -> None:
    from clarion.domain.approvals.desk import ApprovalView, Page
    from clarion.domain.approvals.links import ApprovalRequest, Approver
    from clarion.web.approvals import render_page

    p = FakePipeline(runbook)
    inc = declare(p, Severity.SEV2, drill=True)
    p.service.draft(inc, "investigating", "investigating")
    draft = p.wstore.get_draft(inc, "investigating")
    incident = p.store.get_incident(inc)
    assert draft is not None and incident is not None
    request = ApprovalRequest(
        id="a1",
        incident_id=inc,
        draft_id="investigating",
        task_token="t",
        approvers=[Approver(name="Amara", email="amara@example")],
        created_at=T0,
        expires_at=T0 + timedelta(minutes=15),
    )
    view = ApprovalView(runbook, incident, draft, request, 0, {"a": "0", "e": "1", "s": "x"}, "csrf", [])
    html = render_page(Page(200, view=view), "/approvals/a1", now=T0)
    # The page, the customer topic and the support copy are suppressed in a drill: the approver is told.
    assert "Goes to Status page." not in html
    assert "A drill: not sent to Status page; customers never hear of drills." in html
    assert (
        "A drill: not sent to Email and SMS subscribers (customers) and Support copy (email); "
        "customers never hear of drills." in html
    )
    assert '<h3>Technical audience · Chat · English</h3>\n<p class="small muted">Goes to Chat.</p>' in html
