"""After resolution, on fakes: the check-in and the report's notices are closings of the audience
ledger (only routes that were told, approved unless the policy pre-approves them); the report's page
text is the report; customer emails ask whether the update helped."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from clarion.domain.enums import Audience, Channel, ComponentStatus, Phase, Severity
from clarion.domain.feedback.tokens import verify
from clarion.domain.runbooks.model import Runbook
from clarion.domain.workflow.after_incident import report_document, submit_report
from clarion.domain.workflow.manual import InvalidRequest, declare_incident

from tests.fakes.pipeline import FakePipeline
from tests.unit.test_workflow_service import NOW, Rig, rig

__all__ = ["rig"]

TEXTS = {"en": "## What happened\n\nA bad deploy.", "es": "## Qué ocurrió\n\nUn despliegue defectuoso."}


def _tell(rig: Rig, routes: list[str], draft_id: str = "investigating") -> None:
    """Approve the opening and publish it on ``routes`` only: the others were never told (their
    sends failed)."""
    rig.service.draft("payments-1", "investigating", draft_id)
    rig.approve(draft_id)
    for route in routes:
        assert rig.service.publish_route("payments-1", draft_id, route)["status"] == "sent"


def _resolve(rig: Rig) -> None:
    rig.service.resolve("payments-1")


def test_the_check_in_goes_only_to_routes_that_were_told(rig: Rig) -> None:
    _tell(rig, ["status_page", "sns:customers"])
    _resolve(rig)
    assert rig.service.postmortem("payments-1")["checkin_seconds"] == 24 * 3600  # the SEV2 policy
    checkin = rig.service.draft("payments-1", "checkin", "checkin")
    assert checkin["routes"] == ["sns:customers"]  # never the page; never technical, chat or support
    assert checkin["approval_required"] is True  # not pre-approved in the SEV2 policy
    draft = rig.wstore.get_draft("payments-1", "checkin")
    assert draft is not None and not any(m.channel is Channel.STATUS_PAGE for m in draft.messages)
    assert set(draft.left_out) == {"sns:technical", "chat:technical", "email:support"}  # the ledger's plan
    drafted = [e for e in rig.store.timeline("payments-1") if e.kind == "drafted" and e.data["draft_id"] == "checkin"]
    assert set(drafted[0].data["left_out"]) == {"sns:technical", "chat:technical", "email:support"}
    email = draft.message(Audience.CUSTOMERS, Channel.EMAIL, "es")
    assert email is not None and "¿todo funciona bien para usted ahora?" in email.body
    # Not approved yet: the ledger's check at the moment of sending refuses it.
    assert rig.service.publish_route("payments-1", "checkin", "sns:customers")["status"] == "refused"
    assert rig.service.publish_route("payments-1", "checkin", "chat:technical")["status"] == "refused"
    rig.approve("checkin")
    for route in checkin["routes"]:
        assert rig.service.publish_route("payments-1", "checkin", route)["status"] == "sent"
    refused = rig.service.publish_route("payments-1", "checkin", "chat:technical")
    assert refused["status"] == "refused"  # a late or forged step for a route never told sends nothing
    assert rig.deliveries["sns"].delivered == ["investigating:sns:customers", "checkin:sns:customers"]
    assert rig.deliveries["chat"].delivered == [] and rig.deliveries["email"].delivered == []
    told = rig.store.ledger("payments-1")
    assert [(t.route, t.phase) for t in told.entries if t.draft_id == "checkin"] == [("sns:customers", Phase.CHECKIN)]
    assert [t.approved_by for t in told.entries if t.draft_id == "checkin"] == ["amara@example"]


def test_a_policy_may_pre_approve_the_check_in(runbook: Runbook) -> None:
    sev2 = runbook.policy(Severity.SEV2)
    approval = sev2.approval.model_copy(update={"pre_approved": [*sev2.approval.pre_approved, Phase.CHECKIN]})
    policies = {**runbook.policies.policies, Severity.SEV2: sev2.model_copy(update={"approval": approval})}
    rig = Rig(runbook.model_copy(update={"policies": runbook.policies.model_copy(update={"policies": policies})}))
    _tell(rig, ["status_page", "sns:customers", "chat:technical"])
    _resolve(rig)
    checkin = rig.service.draft("payments-1", "checkin", "checkin")
    assert checkin["approval_required"] is False and checkin["routes"] == ["sns:customers", "chat:technical"]
    assert rig.service.publish_route("payments-1", "checkin", "sns:customers")["status"] == "sent"


def test_no_check_in_without_a_person_told_a_policy_or_outside_drills(runbook: Runbook) -> None:
    page_only = Rig(runbook)
    _tell(page_only, ["status_page"])
    _resolve(page_only)
    assert page_only.service.postmortem("payments-1")["checkin_seconds"] == 0
    minimal = Rig(runbook, Severity.SEV4)
    _tell(minimal, ["status_page"])
    _resolve(minimal)
    assert minimal.service.postmortem("payments-1")["checkin_seconds"] == 0
    assert runbook.policy(Severity.SEV4).checkin_after is None
    assert runbook.policy(Severity.SEV1).checkin_after == timedelta(hours=24)


def test_the_report_is_the_page_text_and_its_notices_go_where_the_incident_was_told(rig: Rig) -> None:
    _tell(rig, ["status_page", "sns:customers", "chat:technical"])
    with pytest.raises(InvalidRequest, match="not resolved yet"):
        submit_report(
            rig.service.runbook, rig.store, rig.wstore, rig.workflow, "payments-1", TEXTS, actor="ana", now=NOW
        )
    _resolve(rig)
    draft_id = submit_report(
        rig.service.runbook, rig.store, rig.wstore, rig.workflow, "payments-1", TEXTS, actor="ana", now=NOW
    )
    assert draft_id == "report-1" and "report" in rig.workflow.signals("payments-1")
    assert rig.wstore.get_document("payments-1", report_document("es")) == TEXTS["es"]
    made = rig.service.draft("payments-1", "postmortem", draft_id)
    assert made["routes"] == ["status_page", "sns:customers", "chat:technical"]
    assert made["approval_required"] is True  # a report is approved per policy, like any message
    draft = rig.wstore.get_draft("payments-1", draft_id)
    assert draft is not None
    assert draft.message(Audience.CUSTOMERS, Channel.STATUS_PAGE, "es").body == TEXTS["es"]  # type: ignore[union-attr]
    sms = draft.message(Audience.CUSTOMERS, Channel.SMS, "en")
    assert sms is not None and "https://status.ledgerly.example/" in sms.body  # a short notice with the link
    again = submit_report(
        rig.service.runbook, rig.store, rig.wstore, rig.workflow, "payments-1", TEXTS, actor="ana", now=NOW
    )
    assert again == "report-2"


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ({"en": "x"}, "missing es"),
        ({**TEXTS, "fr": "x"}, "no language fr"),
        ({**TEXTS, "es": "  \n"}, "the es report is empty"),
        ({**TEXTS, "en": "x" * 100_001}, "the limit is 100,000"),
    ],
)
def test_report_problems_are_named(rig: Rig, texts: dict[str, str], message: str) -> None:
    _tell(rig, ["status_page"])
    _resolve(rig)
    with pytest.raises(InvalidRequest, match=message):
        submit_report(rig.service.runbook, rig.store, rig.wstore, rig.workflow, "payments-1", texts, actor="a", now=NOW)
    assert rig.workflow.signals("payments-1") == []


def test_no_public_report_for_an_incident_customers_never_saw(rig: Rig) -> None:
    _tell(rig, ["chat:technical"])
    _resolve(rig)
    with pytest.raises(InvalidRequest, match="never told"):
        submit_report(rig.service.runbook, rig.store, rig.wstore, rig.workflow, "payments-1", TEXTS, actor="a", now=NOW)


def test_customer_emails_ask_whether_the_update_helped(rig: Rig) -> None:
    rig.service.settings.feedback_url = "https://fb.example"
    rig.service.draft("payments-1", "investigating", "d1")
    draft = rig.wstore.get_draft("payments-1", "d1")
    assert draft is not None
    for lang, question in (("en", "Was this update helpful?"), ("es", "¿Le resultó útil esta actualización?")):
        email = draft.message(Audience.CUSTOMERS, Channel.EMAIL, lang)
        assert email is not None and question in email.body
        links = [w for w in email.body.split() if w.startswith("https://fb.example/feedback?")]
        assert len(links) == 2
        params = dict(parse_qsl(urlsplit(links[0]).query))
        token = verify(b"k" * 48, params, NOW)
        assert not isinstance(token, str) and token.update_id == "d1" and token.language == lang
    for m in draft.messages:
        if not (m.audience is Audience.CUSTOMERS and m.channel is Channel.EMAIL):
            assert "feedback?" not in m.body


def _declared(p: FakePipeline, *, drill: bool = False) -> str:
    inc = declare_incident(
        p.runbook,
        p.store,
        p.workflow,
        title={"en": "Card payments fail", "es": "Fallan los pagos con tarjeta"},
        components=["checkout-api"],
        status=ComponentStatus.PARTIAL_OUTAGE,
        severity=Severity.SEV2,
        actor="cli:test",
        now=p.clock(),
        drill=drill,
    )
    p.service.open(inc.id)
    return inc.id


@pytest.mark.parametrize("how", ["drill", "rejected", "held"])
def test_no_check_in_report_or_feedback_form_for_drills_and_incidents_nobody_heard_of(
    runbook: Runbook, how: str
) -> None:
    p = FakePipeline(runbook)
    inc = _declared(p, drill=how == "drill")
    decision = {"drill": "approve", "rejected": "reject", "held": "timeout"}[how]
    p.phase(inc, Phase.INVESTIGATING, "investigating", decision, escalation="timeout")  # type: ignore[arg-type]
    p.resolve(inc)
    assert p.service.postmortem(inc)["checkin_seconds"] == 0  # no check-in is ever drafted
    with pytest.raises(InvalidRequest, match="drill" if how == "drill" else "never told"):
        submit_report(p.runbook, p.store, p.wstore, p.workflow, inc, TEXTS, actor="ana", now=p.clock())
    assert "report" not in p.workflow.signals(inc)
    # Even a check-in or report step that ran anyway (late, by hand) reaches no customer.
    for phase, draft_id in ((Phase.CHECKIN, "checkin"), (Phase.POSTMORTEM, "report-1")):
        p.phase(inc, phase, draft_id)
    customers = [d for d in p.delivered if d.incident_id == inc and not d.route.endswith("technical")]
    assert customers == []
    assert p.load_page() == [] and all(not page for page in p.pages)  # no page, so no feedback form
    if how != "drill":
        assert [d for d in p.delivered if d.incident_id == inc] == []


def test_the_report_and_its_notices_follow_the_ledger_through_the_pipeline(runbook: Runbook) -> None:
    p = FakePipeline(runbook)
    inc = _declared(p)
    assert p.phase(inc, Phase.INVESTIGATING, "investigating") == "approved"
    p.resolve(inc)
    submit_report(p.runbook, p.store, p.wstore, p.workflow, inc, TEXTS, actor="ana", now=p.clock())
    assert p.phase(inc, Phase.POSTMORTEM, "report-1", "reject") == "rejected"  # a person said no: nothing
    assert [d for d in p.delivered if d.draft_id == "report-1"] == []
    assert p.load_page()[0].status == "resolved"
    submit_report(p.runbook, p.store, p.wstore, p.workflow, inc, TEXTS, actor="ana", now=p.clock())
    assert p.phase(inc, Phase.POSTMORTEM, "report-2") == "approved"
    opening = {d.route for d in p.delivered if d.draft_id == "investigating"}
    assert {d.route for d in p.delivered if d.draft_id == "report-2"} == opening
    page = p.load_page()[0]
    assert page.status == "postmortem" and page.report == TEXTS
