"""The workflow's paths on fakes: the steps the state machine calls, in the order its ASL file calls
them, with a scripted approver. Deliveries and page publishes are recorded for oracles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from clarion.adapters.channels import StatusPageDelivery
from clarion.adapters.s3_page_publisher import PublishReport
from clarion.domain.approvals.links import ApprovalStatus
from clarion.domain.enums import Phase
from clarion.domain.incident import Incident
from clarion.domain.messaging.drafts import Draft
from clarion.domain.page_index import PageSource
from clarion.domain.runbooks.model import Runbook
from clarion.domain.status_page import PageIncident
from clarion.domain.workflow.service import Delivery, WorkflowService, WorkflowSettings

from tests.fakes.channels import RecordingMailer, RecordingNotifier
from tests.fakes.page_store import InMemoryPageStore
from tests.fakes.store import InMemoryIncidentStore
from tests.fakes.workflow import RecordingWorkflow
from tests.fakes.workflow_store import InMemoryWorkflowStore

Decision = Literal["approve", "reject", "timeout"]


@dataclass(frozen=True)
class Delivered:
    incident_id: str
    draft_id: str
    route: str
    phase: Phase
    bodies: tuple[str, ...]


class RecordingDelivery:
    def __init__(self, log: list[Delivered]) -> None:
        self.log = log

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        self.log.append(Delivered(incident.id, draft.id, route, draft.phase, tuple(m.body for m in draft.messages)))
        return f"id-{len(self.log)}"


@dataclass
class FakePipeline:
    runbook: Runbook
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    store: InMemoryIncidentStore = field(default_factory=InMemoryIncidentStore)
    wstore: InMemoryWorkflowStore = field(default_factory=InMemoryWorkflowStore)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    workflow: RecordingWorkflow = field(default_factory=RecordingWorkflow)
    delivered: list[Delivered] = field(default_factory=list)
    pages: list[list[PageIncident]] = field(default_factory=list)  # what each page publish showed

    def __post_init__(self) -> None:
        self.page_store = InMemoryPageStore(self.store, lambda: self.now)

        def publish(load: object) -> PublishReport:
            assert callable(load)
            self.pages.append(_shown(load()))
            return PublishReport(targets=[])

        page = StatusPageDelivery(self.page_store, publish, self.clock, {})
        recorder = RecordingDelivery(self.delivered)
        deliveries: dict[str, Delivery] = {name: recorder for name in ("sns", "chat", "email", "social")}
        self.page_delivery = page
        self.service = WorkflowService(
            runbook=self.runbook,
            store=self.store,
            wstore=self.wstore,
            notifier=self.notifier,
            mailer=RecordingMailer(),
            deliveries={**deliveries, "status_page": _PageRecorder(page, self.delivered)},
            workflow=self.workflow,
            key=lambda: b"k" * 48,
            settings=WorkflowSettings(approval_base_url="https://approvals.example"),
            clock=self.clock,
            sleep=lambda _s: None,
        )

    def clock(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def load_page(self) -> list[PageIncident]:
        """What the page's model holds now: every incident the page was told of."""
        return _shown(self.page_store.load())

    # --- the state machine's paths -------------------------------------------------------------

    def decide(self, incident_id: str, draft_id: str, decision: Decision, escalation: Decision = "reject") -> str:
        """The approval branch: returns what happened ("approved", "rejected", "held", "holding")."""
        draft = self.wstore.get_draft(incident_id, draft_id)
        assert draft is not None
        self.service.request_approval(incident_id, draft_id, token="t0", level=0)
        if decision == "approve":
            self._approve(draft)
            return "approved"
        if decision == "reject":
            self._reject(draft)
            return "rejected"
        action = self.service.approval_timeout(incident_id, draft_id, 0)["action"]
        if action == "publish_holding_statement":
            return "holding"
        if action == "escalate":
            self.service.request_approval(incident_id, draft_id, token="t1", level=1)
            if escalation == "approve":
                self._approve(draft)
                return "approved"
            if escalation == "reject":
                self._reject(draft)
                return "rejected"
            self.service.approval_timeout(incident_id, draft_id, 1)
        return "held"

    def _approve(self, draft: Draft) -> None:
        current = self.wstore.get_draft(draft.incident_id, draft.id)
        assert current is not None
        self._close_requests(current, ApprovalStatus.APPROVED)
        self.wstore.save_draft(current.model_copy(update={"status": "approved", "approved_by": "amara@example"}))

    def _reject(self, draft: Draft) -> None:
        current = self.wstore.get_draft(draft.incident_id, draft.id)
        assert current is not None
        self._close_requests(current, ApprovalStatus.REJECTED)
        self.wstore.save_draft(current.model_copy(update={"status": "rejected"}))
        self.service.rejected(draft.incident_id, draft.id)

    def _close_requests(self, draft: Draft, status: ApprovalStatus) -> None:
        for approval_id in draft.approval_ids:
            request = self.wstore.get_approval(approval_id)
            if request is not None:
                self.wstore.transition_approval(request.model_copy(update={"status": status}))

    def phase(
        self,
        incident_id: str,
        phase: Phase,
        draft_id: str,
        decision: Decision = "approve",
        escalation: Decision = "reject",
    ) -> str:
        """Draft -> ApprovalNeeded -> (RequestApproval ...) -> Publish -> Published, as the ASL runs it."""
        result = self.service.draft(incident_id, phase.value, draft_id)
        outcome = "pre-approved"
        if result["approval_required"]:
            outcome = self.decide(incident_id, draft_id, decision, escalation)
            if outcome in ("rejected", "held"):
                return outcome
        self.publish(incident_id, draft_id, result["routes"])
        return outcome

    def publish(self, incident_id: str, draft_id: str, routes: list[str]) -> None:
        for route in routes:
            self.service.publish_route(incident_id, draft_id, route)
        self.service.published(incident_id, draft_id)

    def resolve(self, incident_id: str, decision: Decision = "approve") -> str:
        self.service.resolve(incident_id)
        outcome = self.phase(incident_id, Phase.RESOLVED, "resolved", decision)
        self.service.postmortem(incident_id)
        return outcome


def _shown(page: PageSource) -> list[PageIncident]:
    return sorted(page.shown().values(), key=lambda i: (i.started_at, i.id), reverse=True)


class _PageRecorder:
    """The real status page delivery (it records the update on the page's model, with its timeline
    entry, and publishes what the model holds), also recorded as a delivery."""

    def __init__(self, page: StatusPageDelivery, log: list[Delivered]) -> None:
        self.page = page
        self.log = log

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        self.log.append(Delivered(incident.id, draft.id, route, draft.phase, tuple(m.body for m in draft.messages)))
        return self.page.deliver(route, draft, incident)


_d: Delivery = RecordingDelivery([])
