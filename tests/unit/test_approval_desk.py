"""The approval page's rules: GET/HEAD never decide; only a POST with the page's CSRF value does,
once; forged, tampered, expired or replayed links never reach Step Functions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from clarion.domain.approvals.desk import ApprovalDesk
from clarion.domain.approvals.links import ApprovalStatus, csrf_token, sign_link
from clarion.domain.enums import Audience, Channel, ComponentStatus, Severity
from clarion.domain.incident import Change, Incident, IncidentWrite
from clarion.domain.runbooks.model import Runbook
from clarion.domain.workflow.service import WorkflowService, WorkflowSettings
from clarion.web.approvals import approval_email_html, render_page
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes.channels import RecordingDecider, RecordingMailer, RecordingNotifier
from tests.fakes.store import InMemoryIncidentStore
from tests.fakes.workflow import RecordingWorkflow
from tests.fakes.workflow_store import InMemoryWorkflowStore

KEY = b"k" * 48
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


class World:
    def __init__(self, runbook: Runbook, gone: bool = False) -> None:
        self.now = NOW
        self.store = InMemoryIncidentStore()
        self.wstore = InMemoryWorkflowStore(self.store)
        self.mailer = RecordingMailer()
        self.decider = RecordingDecider(gone=gone)
        self.service = WorkflowService(
            runbook=runbook,
            store=self.store,
            wstore=self.wstore,
            notifier=RecordingNotifier(),
            mailer=self.mailer,
            deliveries={},
            workflow=RecordingWorkflow(),
            key=lambda: KEY,
            settings=WorkflowSettings(approval_base_url="https://approve.example"),
            clock=lambda: self.now,
            email_html=approval_email_html,
        )
        self.desk = ApprovalDesk(
            runbook=runbook,
            store=self.store,
            wstore=self.wstore,
            decider=self.decider,
            key=lambda: KEY,
            clock=lambda: self.now,
        )
        inc = Incident(
            id="payments-1",
            group="payments",
            title={"en": "Checkout <b>failing</b>", "es": "x"},
            severity=Severity.SEV2,
            components={"checkout-api": ComponentStatus.PARTIAL_OUTAGE},
            started_at=NOW,
            created_at=NOW,
            updated_at=NOW,
            version=1,
        )
        self.store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)]))
        self.service.draft("payments-1", "investigating", "investigating")
        self.service.request_approval("payments-1", "investigating", token="TOKEN-SECRET")
        link = re.search(r"https://approve\.example/approvals/\S+", str(self.mailer.sent[0]["text"]))
        assert link
        self.link = link.group(0)
        parts = urlsplit(self.link)
        self.approval_id = parts.path.rsplit("/", 1)[1]
        self.params = dict(parse_qsl(parts.query))

    def status(self) -> ApprovalStatus:
        approval = self.wstore.get_approval(self.approval_id)
        assert approval is not None
        return approval.status

    def form(self, **extra: str) -> dict[str, str]:
        return {**self.params, "csrf": csrf_token(KEY, self.approval_id, int(self.params["a"])), **extra}


@pytest.fixture
def world(runbook: Runbook) -> World:
    return World(runbook)


def test_email_holds_the_link_never_the_token(world: World) -> None:
    mail = world.mailer.sent[0]
    assert "TOKEN-SECRET" not in str(mail) and world.link in str(mail["text"])
    assert "Checkout &lt;b&gt;failing&lt;/b&gt;" in str(mail["html"])  # escaped
    assert mail["to"] == ["bruno@ledgerly.example"] and len(world.mailer.sent) == 2
    assert "Timeline so far" in str(mail["text"]) and "Drafted" in str(mail["text"]) and "Drafted" in str(mail["html"])


def test_get_and_head_any_number_of_times_decide_nothing(world: World) -> None:
    for _ in range(5):
        page = world.desk.view(world.approval_id, world.params, "/a")
        assert page.status == 200 and 'name="csrf"' in render_page(page) and "TOKEN-SECRET" not in render_page(page)
    assert world.status() is ApprovalStatus.PENDING and world.decider.calls == []


def test_post_with_csrf_approves_once_with_edits_on_the_timeline(world: World) -> None:
    edit = {"decision": "approve", "msg:customers/status_page/en": "Edited text."}
    unconfirmed = world.desk.decide(world.approval_id, world.form(**edit), "/a")
    html = render_page(unconfirmed)
    # One language edited, the other not: the page says so and asks before anything is decided.
    assert unconfirmed.status == 409 and world.decider.calls == [] and world.status() is ApprovalStatus.PENDING
    assert "edited the English of <em>Customers · Status page</em> but not the Spanish" in html
    assert 'name="confirm_languages" value="yes"' in html and "Edited text." in html
    page = world.desk.decide(world.approval_id, world.form(**edit, confirm_languages="yes"), "/a")
    assert page.status == 200 and "Approved" in render_page(page)
    assert world.decider.calls == [
        ("succeed", "TOKEN-SECRET", {"decision": "approve", "approved_by": "bruno@ledgerly.example"})
    ]
    draft = world.wstore.get_draft("payments-1", "investigating")
    assert (
        draft is not None and draft.status == "approved" and draft.edits == {"customers/status_page/en": "Edited text."}
    )
    (entry,) = [e for e in world.store.timeline("payments-1") if e.kind == "approval_approved"]
    assert entry.actor == "bruno@ledgerly.example" and entry.data["edits"] == {
        "customers/status_page/en": "Edited text."
    }
    replay = world.desk.decide(world.approval_id, world.form(decision="approve"), "/a")
    assert replay.status == 409 and len(world.decider.calls) == 1


def test_reject_fails_the_task(world: World) -> None:
    page = world.desk.decide(world.approval_id, world.form(decision="reject", reason="wrong component"), "/a")
    assert page.status == 200 and world.decider.calls == [("fail", "TOKEN-SECRET", "Clarion.Rejected")]
    assert world.status() is ApprovalStatus.REJECTED


def test_post_without_the_pages_csrf_value_is_refused(world: World) -> None:
    page = world.desk.decide(world.approval_id, {**world.params, "decision": "approve"}, "/a")
    assert page.status == 403 and world.decider.calls == [] and world.status() is ApprovalStatus.PENDING
    other = csrf_token(KEY, world.approval_id, 1)  # the other approver's page
    assert (
        world.desk.decide(world.approval_id, {**world.params, "csrf": other, "decision": "approve"}, "/a").status == 403
    )


def test_expired_link_is_410(world: World) -> None:
    world.now = NOW + timedelta(hours=1)
    assert world.desk.view(world.approval_id, world.params, "/a").status == 410
    assert world.desk.decide(world.approval_id, world.form(decision="approve"), "/a").status == 410
    assert world.decider.calls == []


def test_sms_edit_over_budget_is_refused_with_the_page(world: World) -> None:
    page = world.desk.decide(
        world.approval_id, world.form(decision="approve", **{"msg:customers/sms/en": "ó" * 400}), "/a"
    )
    assert page.status == 422 and "segments" in render_page(page) and world.status() is ApprovalStatus.PENDING


def test_superseded_link_dies_on_escalation(world: World) -> None:
    world.service.request_approval("payments-1", "investigating", token="TOKEN-2", level=1)
    assert world.status() is ApprovalStatus.SUPERSEDED
    assert world.desk.view(world.approval_id, world.params, "/a").status == 410
    assert world.mailer.sent[-1]["to"] == ["eli@ledgerly.example"]  # the incident managers now


def test_decision_after_the_workflow_stopped_waiting(runbook: Runbook) -> None:
    late = World(runbook, gone=True)
    page = late.desk.decide(late.approval_id, late.form(decision="approve"), "/a")
    assert page.status == 410 and "approval_too_late" in [e.kind for e in late.store.timeline("payments-1")]


def test_timeout_marks_the_request_and_the_link_dies(world: World) -> None:
    result = world.service.approval_timeout("payments-1", "investigating")
    assert result["action"] == "escalate" and world.status() is ApprovalStatus.TIMED_OUT
    assert world.desk.view(world.approval_id, world.params, "/a").status == 410


@settings(max_examples=300, deadline=None)
@given(
    a=st.text(max_size=5),
    e=st.text(max_size=12),
    s=st.text(max_size=70),
    approval_id=st.text(max_size=30),
    decision=st.sampled_from(["approve", "reject", "", "x"]),
)
def test_fuzzed_links_are_never_accepted(
    runbook: Runbook, a: str, e: str, s: str, approval_id: str, decision: str
) -> None:
    w = World(runbook)
    forged = {"a": a, "e": e, "s": s}
    if forged == w.params and approval_id == w.approval_id:
        return
    for aid in (approval_id, w.approval_id):
        assert w.desk.view(aid, forged, "/a").status in (400, 403, 404, 410)
        form = {**forged, "csrf": csrf_token(KEY, w.approval_id, 0), "decision": decision}
        assert w.desk.decide(aid, form, "/a").status in (400, 403, 404, 410)
    assert w.decider.calls == [] and w.status() is ApprovalStatus.PENDING


def test_tampered_expiry_is_forged(world: World) -> None:
    later = str(int(world.params["e"]) + 3600)
    assert world.desk.view(world.approval_id, {**world.params, "e": later}, "/a").status == 403
    other = sign_link(b"another-key" * 4, world.approval_id, 0, NOW + timedelta(hours=1))
    assert world.desk.view(world.approval_id, other, "/a").status == 403


def test_every_language_edited_needs_no_confirmation_and_subjects_are_editable(world: World) -> None:
    form = world.form(
        decision="approve",
        **{
            "msg:customers/status_page/en": "Payments fail.",
            "msg:customers/status_page/es": "Los pagos fallan.",
            "subject:customers/email/en": "Payments are failing",
        },
    )
    first = world.desk.decide(world.approval_id, form, "/a")
    assert first.status == 409  # the Spanish subject was left as it was
    assert "Customers · Email" in render_page(first)
    form["subject:customers/email/es"] = "Los pagos fallan"
    page = world.desk.decide(world.approval_id, form, "/a")
    assert page.status == 200 and world.status() is ApprovalStatus.APPROVED
    draft = world.wstore.get_draft("payments-1", "investigating")
    assert draft is not None
    email = draft.message(Audience.CUSTOMERS, Channel.EMAIL, "en")
    assert email is not None and email.subject == "Payments are failing"
    assert draft.edits["subject:customers/email/es"] == "Los pagos fallan"


def test_a_rejection_needs_no_language_confirmation(world: World) -> None:
    form = world.form(decision="reject", **{"msg:customers/status_page/en": "Edited text."})
    assert world.desk.decide(world.approval_id, form, "/a").status == 200
    assert world.status() is ApprovalStatus.REJECTED


def test_the_page_groups_by_audience_and_channel_with_human_labels(world: World) -> None:
    html = render_page(world.desk.view(world.approval_id, world.params, "/a"))
    assert "Customers · SMS · Spanish" in html and "customers · sms · es" not in html
    assert html.index('<h2 id="aud-1">Customers</h2>') < html.index("Technical audience</h2>")
    # English and Spanish of one message in one fieldset, side by side where there is room.
    status_page = html.split("<legend>Customers · Status page</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert 'lang="en"' in status_page and 'lang="es"' in status_page
    assert 'name="subject:customers/email/en"' in html  # subjects are editable
    assert 'data-sms="' in html and "segment" in html  # live count, and the server's count without script
    assert "On the status page" in html  # the entry as customers will see it
    for rows, body in re.findall(r'rows="(\d+)"[^>]*>([^<]*)</textarea>', html):
        # every box shows its whole text on a phone (about 32 characters a line)
        lines = sum(max(1, -(-len(line) // 32)) for line in body.split("\n"))
        assert int(rows) >= lines, body
