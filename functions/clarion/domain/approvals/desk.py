"""What happens when an approver opens or answers an approval link.

``view`` (GET and HEAD) never changes anything: email link scanners fetch every link. ``decide``
(POST from the page) checks, in order, the link's signature, its expiry, the CSRF value bound to
the approval and approver, that the request is still pending, and the edits; then makes the
decision single-use with a conditional write, and only then tells Step Functions. Every refusal
is a clear page and a 4xx, and none of them reaches Step Functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from clarion.domain.approvals.links import (
    ApprovalRequest,
    ApprovalStatus,
    LinkProblem,
    csrf_token,
    verify_csrf,
    verify_link,
)
from clarion.domain.incident import Change, Incident, TimelineEntry
from clarion.domain.messaging.drafts import Draft, DraftMessage, EditProblem, apply_edits
from clarion.domain.messaging.social import social_limit
from clarion.domain.runbooks.model import Runbook
from clarion.domain.workflow.supersession import superseded_by
from clarion.ports import IncidentStore, WorkflowStore


class TaskDecider(Protocol):
    def succeed(self, token: str, output: dict[str, object]) -> None: ...

    def fail(self, token: str, error: str, cause: str) -> None: ...


class TaskGone(Exception):
    """Step Functions no longer waits for this token (timed out, or the execution ended)."""


class Loaded(NamedTuple):
    approver: int
    request: ApprovalRequest
    incident: Incident
    draft: Draft


@dataclass(frozen=True)
class ApprovalView:
    """Everything the approval page shows; the web package renders it (the domain holds no HTML)."""

    runbook: Runbook
    incident: Incident
    draft: Draft
    request: ApprovalRequest
    approver: int
    params: dict[str, str]  # the link's signed parameters, carried as hidden fields
    csrf: str
    timeline: list[TimelineEntry]
    problem: str = ""
    texts: dict[str, str] | None = None  # message key -> the text the approver typed (after a refusal)
    subjects: dict[str, str] | None = None  # message key -> the subject the approver typed
    one_sided: list[str] = field(default_factory=list)  # edit_group()s edited in some languages only


@dataclass(frozen=True)
class Page:
    """An answer: a short result (heading and text) or the approval form (``view``)."""

    status: int
    heading: str = ""
    text: str = ""
    view: ApprovalView | None = None


_LINK_PAGES = {
    LinkProblem.MALFORMED: (
        400,
        "This link is incomplete",
        "Open the link from the approval email exactly as it was sent.",
    ),
    LinkProblem.FORGED: (
        403,
        "This link is not valid",
        "The link was changed or was not issued by Clarion. Nothing was decided.",
    ),
    LinkProblem.EXPIRED: (
        410,
        "This link has expired",
        "The time to answer has passed; the workflow applied its timeout policy. Nothing was decided with this link.",
    ),
}
_STATUS_PAGES = {
    ApprovalStatus.APPROVED: (409, "Already approved", "Someone already approved these messages."),
    ApprovalStatus.REJECTED: (409, "Already rejected", "Someone already rejected these messages."),
    ApprovalStatus.SUPERSEDED: (
        410,
        "This request was replaced",
        "The request was escalated or redrafted; use the newest email.",
    ),
    ApprovalStatus.TIMED_OUT: (
        410,
        "Too late",
        "No answer came in time; the workflow applied its timeout policy.",
    ),
}


@dataclass
class ApprovalDesk:
    runbook: Runbook
    store: IncidentStore
    wstore: WorkflowStore
    decider: TaskDecider
    key: Callable[[], bytes]
    clock: Callable[[], datetime]
    sleep: Callable[[float], None] = time.sleep
    attempts: int = 4

    def _retrying(self, call: Callable[[], object]) -> None:
        """Run ``call`` (idempotent) up to ``attempts`` times with a short backoff; TaskGone is final."""
        delay = 0.2
        for attempt in range(1, self.attempts + 1):
            try:
                call()
                return
            except TaskGone:
                raise
            except Exception:
                if attempt == self.attempts:
                    raise
                self.sleep(delay)
                delay *= 2

    def _result(self, status: int, heading: str, text: str) -> Page:
        return Page(status, heading, text)

    def _load(self, approval_id: str, params: dict[str, str]) -> tuple[Page | None, Loaded | None]:
        approver, problem = verify_link(self.key(), approval_id, params, self.clock())
        if problem is not None:
            return self._result(*_LINK_PAGES[problem]), None
        assert approver is not None
        request = self.wstore.get_approval(approval_id)
        if request is None or approver >= len(request.approvers):
            return self._result(404, "No such approval request", "This request does not exist."), None
        if request.status is not ApprovalStatus.PENDING:
            return self._result(*_STATUS_PAGES[request.status]), None
        if request.expires_at <= self.clock():
            return self._result(*_LINK_PAGES[LinkProblem.EXPIRED]), None
        incident = self.store.get_incident(request.incident_id)
        draft = self.wstore.get_draft(request.incident_id, request.draft_id)
        if incident is None or draft is None:
            return self._result(404, "No such incident", "The incident of this request is gone."), None
        later = superseded_by(self.store, self.wstore, draft)
        if later is not None:
            return self._result(
                410,
                "A later update was already sent",
                f"Customers have already received the {later.phase.value} update, so these earlier "
                f"{draft.phase.value} messages will not be sent. Nothing was decided with this link.",
            ), None
        return None, Loaded(approver, request, incident, draft)

    def view(self, approval_id: str, params: dict[str, str], action: str) -> Page:
        refusal, loaded = self._load(approval_id, params)
        if refusal is not None:
            return refusal
        assert loaded is not None
        return self._page(200, loaded, params)

    def _page(
        self,
        status: int,
        loaded: Loaded,
        params: dict[str, str],
        problem: str = "",
        texts: dict[str, str] | None = None,
        subjects: dict[str, str] | None = None,
        one_sided: list[str] | None = None,
    ) -> Page:
        approver, request, incident, draft = loaded
        view = ApprovalView(
            runbook=self.runbook,
            incident=incident,
            draft=draft,
            request=request,
            approver=approver,
            params=_link_params(params),
            csrf=csrf_token(self.key(), request.id, approver),
            timeline=self.store.timeline(incident.id),
            problem=problem,
            texts=texts,
            subjects=subjects,
            one_sided=one_sided or [],
        )
        return Page(status, view=view)

    def decide(self, approval_id: str, form: dict[str, str], action: str) -> Page:
        refusal, loaded = self._load(approval_id, form)
        if refusal is not None:
            return refusal
        assert loaded is not None
        approver, request, incident, draft = loaded
        if not verify_csrf(self.key(), approval_id, approver, form.get("csrf", "")):
            return self._result(
                403,
                "Please use the approval page",
                "Decisions are taken only from the page the link opens. Nothing was decided.",
            )
        decision = form.get("decision", "")
        if decision not in ("approve", "reject"):
            return self._result(400, "No decision", "Choose Approve or Reject on the approval page.")
        texts = {k.removeprefix("msg:"): v for k, v in form.items() if k.startswith("msg:")}
        subjects = {k.removeprefix("subject:"): v for k, v in form.items() if k.startswith("subject:")}
        reason = form.get("reason", "").strip()[:2000]
        try:
            edited = apply_edits(
                draft,
                texts,
                self.runbook.settings.sms.max_segments,
                subjects=subjects,
                social_limit=social_limit(self.runbook.settings.deliveries),
            )
        except EditProblem as exc:
            return self._page(422, loaded, form, problem=f"Not saved: {exc}", texts=texts, subjects=subjects)
        one_sided = one_sided_edits(draft, edited)
        if decision == "approve" and one_sided and form.get("confirm_languages") != "yes":
            return self._page(
                409, loaded, form, texts=texts, subjects=subjects, one_sided=one_sided
            )  # nothing decided: the approver confirms, or edits the other languages too
        person = request.approvers[approver]
        now = self.clock()
        status = ApprovalStatus.APPROVED if decision == "approve" else ApprovalStatus.REJECTED
        decided = request.model_copy(
            update={"status": status, "decided_by": person.email, "decided_at": now, "reason": reason}
        )
        if not self.wstore.transition_approval(decided):  # single use: someone else was first
            current = self.wstore.get_approval(approval_id)
            return self._result(
                *_STATUS_PAGES.get(
                    current.status if current else ApprovalStatus.SUPERSEDED,
                    _STATUS_PAGES[ApprovalStatus.SUPERSEDED],
                )
            )
        # The decision is stored (single use, above). What follows is retried, and if Step Functions
        # stays unreachable the approver still gets a clear answer: the workflow reads the stored
        # decision when it next looks (at the latest when the approval window closes).
        draft_status = "approved" if status is ApprovalStatus.APPROVED else "rejected"
        edited = edited.model_copy(
            update={
                "status": draft_status,
                "approved_by": person.email if status is ApprovalStatus.APPROVED else None,
            }
        )
        entry = TimelineEntry(
            at=now,
            kind=f"approval_{status.value}",
            actor=person.email,
            summary=f"{person.name} {status.value} the {draft.phase.value} messages"
            + (f" with {len(edited.edits) - len(draft.edits)} edit(s)" if edited.edits != draft.edits else "")
            + (f": {reason}" if reason else ""),
            data={
                "approval_id": approval_id,
                "draft_id": draft.id,
                "edits": {k: v for k, v in edited.edits.items() if draft.edits.get(k) != v},
                "reason": reason,
                "level": request.level,
            },
        )

        def tell() -> None:
            if status is ApprovalStatus.APPROVED:
                self.decider.succeed(request.task_token, {"decision": "approve", "approved_by": person.email})
            else:
                self.decider.fail(request.task_token, "Clarion.Rejected", reason or f"rejected by {person.email}")

        try:
            self._retrying(lambda: self.wstore.save_draft(edited))
            self._retrying(lambda: self.store.commit(Change(timeline=[(incident.id, entry)])))
            self._retrying(tell)
        except TaskGone:
            self.store.commit(
                Change(
                    timeline=[
                        (
                            incident.id,
                            TimelineEntry(
                                at=now,
                                kind="approval_too_late",
                                actor=person.email,
                                summary="The decision came after the workflow stopped waiting; it was not applied",
                            ),
                        )
                    ]
                )
            )
            return self._result(
                410,
                "Too late",
                "The workflow stopped waiting before your answer arrived; it applied its timeout policy.",
            )
        except Exception:
            verb = "approval" if status is ApprovalStatus.APPROVED else "rejection"
            return self._result(
                202,
                "Decision recorded",
                f"Your {verb} is recorded and cannot be lost or changed. Clarion could not reach the workflow "
                "just now; it acts on your decision as soon as it can, at the latest when the approval window "
                "closes. There is nothing more to do.",
            )
        if status is ApprovalStatus.APPROVED:
            return self._result(200, "Approved", "Thank you. The messages are being published now.")
        return self._result(200, "Rejected", "Thank you. Nothing was published; the incident team has been told.")


def edit_group(m: DraftMessage) -> str:
    """The languages of one message: ``audience/channel``, with ``opening/`` before it for the opening
    that routes never told receive."""
    return ("opening/" if m.opening else "") + f"{m.audience.value}/{m.channel.value}"


def one_sided_edits(before: Draft, after: Draft) -> list[str]:
    """The :func:`edit_group` groups whose text was edited in some languages but not in others:
    customers reading those would read different things."""
    edited_now = {m.key: m for m in after.messages}
    changed: dict[str, set[bool]] = {}
    for old in before.messages:
        new = edited_now.get(old.key)
        edited = new is not None and (new.body != old.body or new.subject != old.subject)
        changed.setdefault(edit_group(old), set()).add(edited)
    return [g for g, seen in changed.items() if seen == {True, False}]


def _link_params(params: dict[str, str]) -> dict[str, str]:
    return {k: params.get(k, "") for k in ("a", "e", "s")}
