"""In-memory WorkflowStore with the DynamoDB adapter's conditions."""

from __future__ import annotations

from datetime import datetime

from clarion.domain.approvals.links import ApprovalRequest, ApprovalStatus
from clarion.domain.incident import Change, TimelineEntry
from clarion.domain.messaging.drafts import Draft
from clarion.ports import IncidentStore, WorkflowStore


class InMemoryWorkflowStore:
    def __init__(self, incidents: IncidentStore | None = None) -> None:
        self.incidents = incidents  # where create_draft's timeline entries go (the same table in DynamoDB)
        self.entries: list[tuple[str, TimelineEntry]] = []
        self.drafts: dict[tuple[str, str], Draft] = {}
        self.approvals: dict[str, ApprovalRequest] = {}
        self.sends: dict[str, tuple[str, float]] = {}
        self.documents: dict[tuple[str, str], str] = {}

    def save_draft(self, draft: Draft, *, create: bool = False) -> Draft:
        key = (draft.incident_id, draft.id)
        if create and key in self.drafts:
            return self.drafts[key]
        self.drafts[key] = draft
        return draft

    def create_draft(self, draft: Draft, entry: TimelineEntry) -> Draft:
        key = (draft.incident_id, draft.id)
        if key in self.drafts:
            return self.drafts[key]
        self.drafts[key] = draft
        if self.incidents is not None:
            self.incidents.commit(Change(timeline=[(draft.incident_id, entry)]))
        else:
            self.entries.append((draft.incident_id, entry))
        return draft

    def claim_sends(self, keys: list[str], now: datetime, lease_seconds: int = 300) -> dict[str, bool]:
        return {k: self.claim_send(k, now, lease_seconds) for k in keys}

    def get_draft(self, incident_id: str, draft_id: str) -> Draft | None:
        return self.drafts.get((incident_id, draft_id))

    def save_approval(self, request: ApprovalRequest) -> None:
        self.approvals[request.id] = request

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        return self.approvals.get(approval_id)

    def transition_approval(self, updated: ApprovalRequest) -> bool:
        current = self.approvals.get(updated.id)
        if current is None or current.status is not ApprovalStatus.PENDING:
            return False
        self.approvals[updated.id] = updated
        return True

    def claim_send(self, key: str, now: datetime, lease_seconds: int = 300) -> bool:
        status, lease = self.sends.get(key, ("", 0.0))
        t = now.timestamp()
        if status == "sent" or (status == "sending" and lease >= t):
            return False
        self.sends[key] = ("sending", t + lease_seconds)
        return True

    def finish_send(self, key: str, *, ok: bool, detail: str) -> None:
        self.sends[key] = ("sent" if ok else "failed", 0.0)

    def save_document(self, incident_id: str, name: str, text: str) -> None:
        self.documents[(incident_id, name)] = text

    def get_document(self, incident_id: str, name: str) -> str | None:
        return self.documents.get((incident_id, name))


_check: WorkflowStore = InMemoryWorkflowStore()
