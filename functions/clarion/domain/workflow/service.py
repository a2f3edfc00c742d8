"""The workflow's steps. The state machine (infra/statemachine/incident.asl.json) decides the
order; each Task calls one method here through ``clarion.handlers.workflow_steps``.

Every step is safe to run twice: drafts are created once per id, each route is sent once per draft
(a claim in the store), approvals change state only from pending (conditional writes).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from clarion.domain.approvals.links import ApprovalRequest, ApprovalStatus, Approver, link_url, new_approval_id
from clarion.domain.enums import (
    Audience,
    Channel,
    IncidentStatus,
    MaintenanceStatus,
    Phase,
    TimeoutAction,
)
from clarion.domain.errors import ChannelError, ClarionError, ConcurrentUpdate, NotFound, TransientError
from clarion.domain.feedback import tokens as feedback_tokens
from clarion.domain.incident import Change, Incident, IncidentWrite, TimelineEntry
from clarion.domain.messaging.drafts import Draft, build_draft
from clarion.domain.messaging.i18n import format_utc
from clarion.domain.messaging.ledger import OPENINGS, Told
from clarion.domain.runbooks.model import Runbook
from clarion.domain.workflow.after_incident import report_document
from clarion.domain.workflow.history import HISTORY_LIMIT, cycles_per_execution
from clarion.domain.workflow.postmortem import postmortem_markdown
from clarion.domain.workflow.supersession import superseded_by
from clarion.ports import FeedbackStore, IncidentStore, Mailer, Notifier, Workflow, WorkflowStore

FEEDBACK_QUESTION = {
    "en": ("Was this update helpful?", "Yes", "No"),
    "es": ("¿Le resultó útil esta actualización?", "Sí", "No"),
}


class ChannelFailed(ClarionError):
    """A route could not be delivered after retries: the state machine catches ``Clarion.ChannelFailed``."""


class DeliveredUnrecorded(ClarionError):
    """The route *was* delivered, but the send ledger could not be told. ``route_failed`` records
    it as sent (never as failed, never for a redrive), so nobody sends it a second time."""


class Delivery(Protocol):
    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        """Send one route of a draft; return what identifies the delivery (message ids)."""
        ...


@dataclass
class WorkflowSettings:
    approval_base_url: str
    time_scale: float = 1.0  # < 1 in the local mode and tests: waits and timeouts shrink
    continue_as_new_after: int | None = None  # cycles per execution; None: from the history budget
    history_limit: int = HISTORY_LIMIT
    min_approval_seconds: int = 1  # floor for scaled approval timeouts: a person needs a moment
    retry_attempts: int = 4
    retry_base_seconds: float = 0.5
    feedback_url: str | None = None  # customer emails ask "Was this update helpful?" through it
    checkin_wait_max: int | None = None  # seconds; the demo shortens the policy's check-in wait


@dataclass
class WorkflowService:
    runbook: Runbook
    store: IncidentStore
    wstore: WorkflowStore
    notifier: Notifier
    mailer: Mailer
    deliveries: dict[str, Delivery]  # route prefix ("status_page", "sns", "chat", "email") -> delivery
    workflow: Workflow
    key: Callable[[], bytes]
    settings: WorkflowSettings
    clock: Callable[[], datetime]
    sleep: Callable[[float], None] = time.sleep
    dead_letters: Callable[[dict[str, Any]], None] | None = None  # failed routes, kept for a redrive
    # The approval email's HTML part, rendered by the web package (the domain holds no HTML); without
    # it the email is plain text only.
    email_html: Callable[[ApprovalEmail], str] | None = None
    feedback: FeedbackStore | None = None  # readers' answers, counted in the post-mortem draft

    # --- helpers -----------------------------------------------------------------------------

    def incident(self, incident_id: str) -> Incident:
        found = self.store.get_incident(incident_id)
        if found is None:
            raise NotFound(f"no incident {incident_id!r}")
        return found

    def _scaled(self, delta: timedelta | None, minimum: int = 0) -> int:
        seconds = (delta or timedelta(0)).total_seconds() * self.settings.time_scale
        return max(minimum, round(seconds))

    def record(self, incident_id: str, kind: str, actor: str, summary: str, **data: Any) -> None:
        entry = TimelineEntry(at=self.clock(), kind=kind, actor=actor, summary=summary, data=data)
        self.store.commit(Change(timeline=[(incident_id, entry)]))

    def _update_incident(self, incident_id: str, **changes: Any) -> Incident:
        for _ in range(8):
            current = self.incident(incident_id)
            updated = current.model_copy(update={**changes, "version": current.version + 1, "updated_at": self.clock()})
            try:
                self.store.commit(Change(incidents=[IncidentWrite(incident=updated, expected_version=current.version)]))
                return updated
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate(f"could not update incident {incident_id}")

    def _say(self, incident: Incident, text: str) -> None:
        if incident.drill and not text.startswith("[DRILL]"):
            text = f"[DRILL] {text}"  # every internal message of a drill says so
        self.notifier.notify(incident, text)
        self.record(incident.id, "internal_notice", "workflow", text)

    def _tell(self, incident: Incident, text: str) -> None:
        """An internal notice that must not undo the step it reports on: when the internal channel
        fails (after its retries), the step still succeeds and the timeline says the notice failed."""
        try:
            self._say(incident, text)
        except Exception as exc:
            # If the store is failing too, the step's own result still stands.
            with contextlib.suppress(Exception):
                self.record(
                    incident.id,
                    "internal_notice_failed",
                    "workflow",
                    f"Internal notice not delivered ({type(exc).__name__})",
                    text=text,
                )

    # --- steps -------------------------------------------------------------------------------

    def open(self, incident_id: str) -> dict[str, Any]:
        inc = self.incident(incident_id)
        comps = ", ".join(inc.components)
        page = self.runbook.settings.page.url.rstrip("/")
        title = inc.title.get(self.runbook.settings.default_language, inc.id)
        drill = "[DRILL] " if inc.drill else ""
        self._say(
            inc,
            f"{drill}[{inc.severity.value}] Incident opened: {title}. Components: {comps}. "
            f"Started {format_utc(inc.started_at)}. Timeline: {page}/incidents/{inc.id}.html",
        )
        return {"severity": inc.severity.value}

    def draft(self, incident_id: str, phase: str, draft_id: str) -> dict[str, Any]:
        found, ledger = self.store.incident_and_ledger(incident_id)  # who was told, read beside the incident
        if found is None:
            raise NotFound(f"no incident {incident_id!r}")
        inc = found
        policy = self.runbook.policy(inc.severity)
        if inc.cancelled_at is not None and phase != Phase.MAINTENANCE_CANCELLED.value:
            phase_text = phase.replace("_", " ")
            self.record(incident_id, "maintenance", "workflow", f"Cancelled: no {phase_text} message")
            empty = Draft(
                id=draft_id,
                incident_id=incident_id,
                phase=Phase(phase),
                created_at=self.clock(),
                messages=[],
                routes=[],
                approval_required=False,
            )
            stored = self.wstore.save_draft(empty, create=True)
            return {"draft_id": draft_id, "approval_required": False, "timeout_seconds": 1, "routes": stored.routes}
        fresh = build_draft(
            self.runbook,
            inc,
            Phase(phase),
            draft_id,
            self.clock(),
            next_update_in=policy.update_every,
            ledger=ledger,
        )
        if fresh.phase is Phase.POSTMORTEM:
            fresh = self._with_report(fresh)
        fresh = self._with_feedback_links(fresh)
        entry = TimelineEntry(
            at=self.clock(),
            kind="drafted",
            actor="workflow",
            summary=f"Drafted {len(fresh.messages)} {phase} message(s)",
            data={
                "draft_id": draft_id,
                "routes": fresh.routes,
                "opening_routes": fresh.opening_routes,
                "left_out": fresh.left_out,
            },
        )
        stored = self.wstore.create_draft(fresh, entry)  # one write: the draft and its timeline entry
        if stored is fresh:
            self._explain_routes(inc, fresh)
        return {
            "draft_id": stored.id,
            "approval_required": stored.approval_required,
            "timeout_seconds": self._scaled(policy.approval.timeout, minimum=self.settings.min_approval_seconds),
            "routes": stored.routes,
        }

    def _explain_routes(self, inc: Incident, draft: Draft) -> None:
        """Tell the team when the ledger narrows or changes where a draft goes."""
        phase = draft.phase.value
        if draft.left_out and not draft.routes:
            self._say(
                inc,
                f"Nobody outside the team was told of this incident, so the {phase} message stays on this "
                f"channel (not sent to {', '.join(draft.left_out)}).",
            )
        elif draft.left_out:
            self._say(
                inc,
                f"The {phase} message goes only where the opening went: {', '.join(draft.routes)}; "
                f"never told, so not told now: {', '.join(draft.left_out)}.",
            )
        if draft.opening_routes:
            first = draft.opening_phase.value if draft.opening_phase else Phase.INVESTIGATING.value
            they = "it gets" if len(draft.opening_routes) == 1 else "they get"
            self._say(
                inc,
                f"{', '.join(draft.opening_routes)} never heard of this incident: {they} an opening "
                f"message ({first}) instead of the {phase} text.",
            )

    def _with_report(self, draft: Draft) -> Draft:
        """The report's page text is the report a person wrote (where it goes is the ledger's, as for
        every phase)."""
        texts = {
            lang: self.wstore.get_document(draft.incident_id, report_document(lang))
            for lang in self.runbook.settings.languages
        }
        messages = [
            m.model_copy(update={"body": texts[m.language] or m.body})
            if m.channel is Channel.STATUS_PAGE and not m.opening
            else m
            for m in draft.messages
        ]
        return draft.model_copy(update={"messages": messages})

    def _with_feedback_links(self, draft: Draft) -> Draft:
        """Customer emails ask "Was this update helpful?": two links to a page that asks the reader to
        confirm with a POST (mail scanners follow links; a GET never counts)."""
        base = self.settings.feedback_url
        if not base or draft.phase is Phase.CHECKIN:
            return draft
        key = self.key()
        messages = []
        for m in draft.messages:
            if m.audience is Audience.CUSTOMERS and m.channel is Channel.EMAIL:
                fields = feedback_tokens.issue(
                    key, draft.incident_id, draft.id, draft.phase, m.language, draft.created_at
                )
                question, yes, no = FEEDBACK_QUESTION.get(m.language, FEEDBACK_QUESTION["en"])
                footer = (
                    f"\n\n{question}\n{yes}: {feedback_tokens.link(base, fields, 'yes')}"
                    f"\n{no}: {feedback_tokens.link(base, fields, 'no')}"
                )
                m = m.model_copy(update={"body": m.body + footer})
            messages.append(m)
        return draft.model_copy(update={"messages": messages})

    def request_approval(self, incident_id: str, draft_id: str, token: str, level: int = 0) -> None:
        inc = self.incident(incident_id)
        draft = self.wstore.get_draft(incident_id, draft_id)
        if draft is None:
            raise NotFound(f"no draft {draft_id!r}")
        policy = self.runbook.policy(inc.severity).approval
        roles = policy.approvers if level == 0 else policy.escalation
        people = self.runbook.people_in(roles)
        now = self.clock()
        timeout = timedelta(seconds=self._scaled(policy.timeout, minimum=self.settings.min_approval_seconds))
        pending = self._pending_for(draft)
        # A retry of this step (same task token, same level) reuses its request: the links already
        # emailed keep working, and the emails sent again carry the very same links.
        again = next((a for a in pending if a.task_token == token and a.level == level), None)
        request = again or ApprovalRequest(
            id=new_approval_id(),
            incident_id=incident_id,
            draft_id=draft_id,
            task_token=token,
            approvers=[Approver(name=p.name, email=p.email) for p in people],
            level=level,
            created_at=now,
            expires_at=now + timeout,
        )
        if again is None:
            # An escalation kills the earlier link: one pending request per draft.
            for earlier in pending:
                self.wstore.transition_approval(earlier.model_copy(update={"status": ApprovalStatus.SUPERSEDED}))
            self.wstore.save_approval(request)
            self.wstore.save_draft(draft.model_copy(update={"approval_ids": [*draft.approval_ids, request.id]}))
        key = self.key()
        timeline = self.store.timeline(incident_id)[-15:]
        for index, person in enumerate(request.approvers):
            url = link_url(self.settings.approval_base_url, key, request.id, index, request.expires_at)
            mail = ApprovalEmail(self.runbook, inc, draft, url, request, person, timeline)
            subject, text = approval_email(mail)
            html = self.email_html(mail) if self.email_html else ""
            self.mailer.send([person.email], subject, text, html)
        who = ", ".join(p.email for p in request.approvers)
        self.record(
            incident_id,
            "approval_requested",
            "workflow",
            f"Approval requested from {who}" + (" (escalated)" if level else ""),
            approval_id=request.id,
            draft_id=draft_id,
            level=level,
            expires_at=request.expires_at.isoformat(),
        )
        self._tell(
            inc,
            f"Approval requested from {who} for the {draft.phase.value} messages; "
            f"answer by {format_utc(request.expires_at)}.",
        )

    def _pending_for(self, draft: Draft) -> list[ApprovalRequest]:
        found = [self.wstore.get_approval(i) for i in draft.approval_ids]
        return [a for a in found if a is not None and a.status is ApprovalStatus.PENDING]

    def approval_timeout(self, incident_id: str, draft_id: str, level: int = 0) -> dict[str, Any]:
        inc = self.incident(incident_id)
        draft = self.wstore.get_draft(incident_id, draft_id)
        if draft is None:
            raise NotFound(f"no draft {draft_id!r}")
        # A decision taken on the page whose delivery to Step Functions failed is not lost: the
        # approval record holds it, and it is honoured here instead of the timeout policy.
        decided = [a for a in (self.wstore.get_approval(i) for i in draft.approval_ids) if a is not None]
        later = superseded_by(self.store, self.wstore, draft)
        if later is not None:
            for pending in self._pending_for(draft):
                self.wstore.transition_approval(pending.model_copy(update={"status": ApprovalStatus.SUPERSEDED}))
            self.record(
                incident_id,
                "superseded",
                "workflow",
                f"The {draft.phase.value} messages were superseded by {later.phase.value}: nothing to send",
                draft_id=draft_id,
                by=later.id,
            )
            return {"action": "superseded", "level": level + 1}
        for status, action in ((ApprovalStatus.APPROVED, "approved"), (ApprovalStatus.REJECTED, "rejected")):
            if any(a.status is status for a in decided):
                self.record(
                    incident_id,
                    "decision_recovered",
                    "workflow",
                    f"The approver's decision ({action}) reached the workflow late; acting on it now",
                    draft_id=draft_id,
                )
                return {"action": action, "level": level + 1}
        for pending in self._pending_for(draft):
            self.wstore.transition_approval(pending.model_copy(update={"status": ApprovalStatus.TIMED_OUT}))
        policy = self.runbook.policy(inc.severity).approval
        action = policy.on_timeout
        if action is TimeoutAction.ESCALATE and level > 0:
            action = TimeoutAction.HOLD  # the escalation list did not answer either
        if action is TimeoutAction.PUBLISH_HOLDING_STATEMENT:
            self.wstore.save_draft(
                draft.model_copy(
                    update={"status": "approved", "holding_statement": True, "approved_by": "policy:timeout"}
                )
            )
            text = "No approval in time: publishing the pre-approved holding statement."
        elif action is TimeoutAction.ESCALATE:
            text = "No approval in time: escalating to " + ", ".join(policy.escalation) + "."
        else:
            self.wstore.save_draft(draft.model_copy(update={"status": "held"}))
            desk = f"{self.settings.approval_base_url.rstrip('/')}/desk/incidents/{incident_id}"
            text = (
                "No approval in time: holding. Customers have NOT been told. To tell them, post an update "
                f"(it goes for approval again): `clarion incident update {incident_id}`, or the desk: {desk}"
            )
        self.record(incident_id, "approval_timed_out", "workflow", text, draft_id=draft_id, action=action.value)
        self._tell(inc, text)
        return {"action": action.value, "level": level + 1}

    def rejected(self, incident_id: str, draft_id: str) -> dict[str, Any]:
        inc = self.incident(incident_id)
        self._tell(
            inc,
            f"The draft {draft_id} was rejected: nothing was published. The next update is drafted "
            "on the regular cadence, or post one with `clarion incident update`.",
        )
        return {"rejected": True}

    def publish_route(self, incident_id: str, draft_id: str, route: str) -> dict[str, Any]:
        inc = self.incident(incident_id)
        draft = self.wstore.get_draft(incident_id, draft_id)
        if draft is None:
            raise NotFound(f"no draft {draft_id!r}")
        if inc.drill and route_reaches_customers(route):
            self.record(
                incident_id,
                "drill_suppressed",
                "workflow",
                f"Drill: {route} not sent (customers never hear of drills)",
                draft_id=draft_id,
                route=route,
            )
            return {"route": route, "status": "drill_suppressed"}
        later = superseded_by(self.store, self.wstore, draft)
        if later is not None:
            # A newer phase already went out: this one would arrive out of order. Never send it.
            self.record(
                incident_id,
                "superseded",
                "workflow",
                f"{route} not sent: the {draft.phase.value} messages were superseded by {later.phase.value}",
                draft_id=draft_id,
                route=route,
                by=later.id,
            )
            return {"route": route, "status": "superseded"}
        refusal = self._refusal(inc, draft, route)
        if refusal is not None:
            self.record(incident_id, "send_refused", "workflow", f"{route} not sent: {refusal}", draft_id=draft_id)
            return {"route": route, "status": "refused", "reason": refusal}
        view = draft.for_route(route)
        key = f"{incident_id}|{draft_id}|{route}"
        if not self.wstore.claim_send(key, self.clock()):
            return {"route": route, "status": "already_sent"}
        prefix = route.split(":", 1)[0]
        delivery = self.deliveries.get(prefix)
        if delivery is None:
            self.wstore.finish_send(key, ok=False, detail="no delivery configured")
            raise ChannelFailed(f"{route}: no delivery is configured for {prefix!r}")
        delay = self.settings.retry_base_seconds
        for attempt in range(1, self.settings.retry_attempts + 1):
            try:
                detail = delivery.deliver(route, view, inc)
                break
            except ChannelError as exc:
                if not exc.transient or attempt == self.settings.retry_attempts:
                    self.wstore.finish_send(key, ok=False, detail=str(exc))
                    if exc.transient:
                        # Still failing after the step's own tries: the state machine's Retry tries
                        # the step again later (the ledger skips what went out meanwhile).
                        raise TransientError(f"{route}: {exc} (after {attempt} attempt(s))") from exc
                    raise ChannelFailed(f"{route}: {exc} (after {attempt} attempt(s))") from exc
                self.sleep(delay * self.settings.time_scale)
                delay *= 2
            except Exception as exc:
                # Not sent: release the claim so the step's retry may send it (the ledger decides).
                self.wstore.finish_send(key, ok=False, detail=f"{type(exc).__name__}: {exc}"[:500])
                raise
        self._settle(incident_id, draft, view, route, key, detail, attempt)
        return {"route": route, "status": "sent", "attempts": attempt}

    def _settle(
        self, incident_id: str, draft: Draft, view: Draft, route: str, key: str, detail: str, attempts: int
    ) -> None:
        """Record a delivery that happened: the timeline's ``message_sent`` and the audience ledger's
        entry, in one write. The writes are idempotent and retried here; if the store still fails,
        :class:`DeliveredUnrecorded` tells ``route_failed`` that the route *was* sent."""
        prefix = route.split(":", 1)[0]
        now = self.clock()
        sent = TimelineEntry(
            at=now,
            kind="message_sent",
            actor=f"channel:{prefix}",
            summary=f"Sent {route} ({view.phase.value})",
            data={
                "draft_id": draft.id,
                "route": route,
                "phase": view.phase.value,
                "detail": detail,
                "attempts": attempts,
                "messages": [m.model_dump(mode="json") for m in view.messages],
            },
        )
        told = Told(
            route=route,
            draft_id=draft.id,
            phase=view.phase,
            at=now,
            approved_by=draft.approved_by or "policy",
            messages=[m.key for m in view.messages],
        )
        delay = self.settings.retry_base_seconds
        for attempt in range(1, self.settings.retry_attempts + 1):
            try:
                self.wstore.finish_send(key, ok=True, detail=detail)
                self.store.commit(Change(timeline=[(incident_id, sent)], told=[(incident_id, told)]))
                return
            except Exception as exc:
                if attempt == self.settings.retry_attempts:
                    raise DeliveredUnrecorded(f"{route} was sent ({detail}); recording it failed: {exc}") from exc
                self.sleep(delay * self.settings.time_scale)
                delay *= 2

    def _refusal(self, inc: Incident, draft: Draft, route: str) -> str | None:
        """The ledger's rule, checked again at the moment of sending (steps may run late, twice or
        out of order): only approved drafts, only their routes, only routes told or being opened."""
        if inc.cancelled_at is not None and draft.phase is not Phase.MAINTENANCE_CANCELLED:
            return "the maintenance was cancelled"
        if not draft.publishable:
            return f"the draft is {draft.status}, not approved"
        if route not in draft.routes:
            return "not a route of this draft"
        if draft.phase in OPENINGS or route in draft.opening_routes:
            return None
        if not self.store.ledger(inc.id).told(route):
            return "this route was never told of the incident"
        return None

    def route_failed(self, incident_id: str, draft_id: str, route: str, error: dict[str, Any]) -> dict[str, Any]:
        inc = self.incident(incident_id)
        cause = str(error.get("Cause") or error.get("Error") or "unknown")[:500]
        if str(error.get("Error", "")) == "DeliveredUnrecorded":
            # Sent, not failed: mark the claim sent so a redrive or a retry never sends it again.
            key = f"{incident_id}|{draft_id}|{route}"
            self.wstore.finish_send(key, ok=True, detail=cause)
            self.record(
                incident_id,
                "message_sent",
                f"channel:{route.split(':', 1)[0]}",
                f"Sent {route} (recorded late)",
                draft_id=draft_id,
                route=route,
                detail=cause,
            )
            return {"route": route, "status": "sent"}
        self.record(
            incident_id,
            "message_failed",
            "workflow",
            f"{route} failed",
            draft_id=draft_id,
            route=route,
            error=cause,
        )
        if self.dead_letters is not None:
            # Everything a redrive needs: `publish_route` with these three sends it (the claim allows a retry).
            self.dead_letters(
                {
                    "incident_id": incident_id,
                    "draft_id": draft_id,
                    "route": route,
                    "error": cause,
                    "failed_at": self.clock().isoformat(),
                }
            )
        self._tell(inc, f"Delivery failed on {route}: {cause}. The other channels went out.")
        return {"route": route, "status": "failed"}

    def step_failed(
        self, incident_id: str, failed_step: str, error: dict[str, Any], *, continues: bool
    ) -> dict[str, Any]:
        """A step failed after every retry: tell the internal channel and the dead-letter queue.
        Each of the three is attempted on its own; this step itself never fails."""
        cause = str(error.get("Cause") or error.get("Error") or "unknown")[:500]
        kind = str(error.get("Error") or "error")[:100]
        then = "the workflow continues" if continues else "the workflow stopped; act by hand (runbooks/README.md)"
        text = f"Step {failed_step} failed after retries ({kind}): {cause}. {then}."
        told: dict[str, bool] = {}
        if self.dead_letters is not None:
            try:
                self.dead_letters(
                    {
                        "incident_id": incident_id,
                        "step": failed_step,
                        "error": kind,
                        "cause": cause,
                        "continues": continues,
                        "failed_at": self.clock().isoformat(),
                    }
                )
                told["dead_letters"] = True
            except Exception:
                told["dead_letters"] = False
        told["timeline"] = False
        delay = self.settings.retry_base_seconds
        for attempt in range(1, self.settings.retry_attempts + 1):  # a throttled store must not lose it
            try:
                self.record(incident_id, "step_failed", "workflow", text, step=failed_step, error=kind)
                told["timeline"] = True
                break
            except Exception:
                if attempt < self.settings.retry_attempts:
                    self.sleep(delay * self.settings.time_scale)
                    delay *= 2
        try:
            inc = self.store.get_incident(incident_id)
            if inc is not None:
                self.notifier.notify(inc, text)
                told["internal"] = True
        except Exception:
            told["internal"] = False
        return {"step": failed_step, "continues": continues, "told": told}

    def published(self, incident_id: str, draft_id: str) -> dict[str, Any]:
        draft = self.wstore.get_draft(incident_id, draft_id)
        if draft is not None and draft.status not in ("published", "superseded"):
            sent = any(
                e.kind == "message_sent" and e.data.get("draft_id") == draft_id
                for e in self.store.timeline(incident_id)
            )
            status = "superseded" if not sent and superseded_by(self.store, self.wstore, draft) else "published"
            self.wstore.save_draft(draft.model_copy(update={"status": status}))
        return {"published": draft_id}

    def check(self, incident_id: str, iteration: int, start: int = 0) -> dict[str, Any]:
        """``iteration``: regular updates posted so far (across executions); ``start``: how many
        there were when this execution began. After ``continue_as_new_after`` updates in one
        execution, monitoring continues in a fresh one, so no history grows without bound."""
        inc = self.incident(incident_id)
        cadence = self.runbook.policy(inc.severity).update_every
        still_open = inc.resolved_at is None and inc.resolution_requested_at is None
        return {
            "open": still_open and cadence is not None,
            "wait_seconds": self._scaled(cadence),
            "iteration": iteration + 1,
            "continue_as_new": iteration - start >= self._cycles_per_execution(incident_id, iteration),
            "draft_id": f"update-{iteration + 1}",
            "severity": inc.severity.value,
        }

    def _cycles_per_execution(self, incident_id: str, iteration: int) -> int:
        """From the history budget and the routes the last regular update went to (the next one
        goes to the same routes unless the severity changed, which the budget's reserve absorbs)."""
        if self.settings.continue_as_new_after is not None:
            return self.settings.continue_as_new_after
        last = self.wstore.get_draft(incident_id, f"update-{iteration}") if iteration else None
        routes = len(last.routes) if last else 0
        return cycles_per_execution(routes, self.settings.history_limit)

    def continue_as_new(self, incident_id: str, iteration: int) -> dict[str, Any]:
        inc = self.incident(incident_id)
        name = self.workflow.start(inc, "monitor", suffix=str(iteration), extra={"iteration": iteration})
        self.record(
            incident_id,
            "workflow_continued",
            "workflow",
            f"Monitoring continues in {name}",
            iteration=iteration,
        )
        return {"continued_in": name}

    def resolve(self, incident_id: str) -> dict[str, Any]:
        inc = self.incident(incident_id)
        if inc.resolved_at is None:
            inc = self._update_incident(incident_id, status=IncidentStatus.RESOLVED, resolved_at=self.clock())
            self.record(incident_id, "resolved", "workflow", "Incident resolved")
        return {"resolved_at": inc.resolved_at.isoformat() if inc.resolved_at else None}

    def postmortem(self, incident_id: str) -> dict[str, Any]:
        inc = self.incident(incident_id)
        answers = self.feedback.feedback(incident_id) if self.feedback is not None else []
        text = postmortem_markdown(self.runbook, inc, self.store.timeline(incident_id), answers)
        self.wstore.save_document(incident_id, "postmortem.md", text)
        self.record(incident_id, "postmortem_drafted", "workflow", "Post-mortem draft stored", chars=len(text))
        ledger = self.store.ledger(incident_id)
        self._tell(
            inc,
            f"Resolved. Please write the post-mortem within 5 working days; a draft built from the "
            f"timeline is stored with incident {incident_id} as postmortem.md ({len(text)} characters). "
            + (
                f"Publish the customer report with `clarion incident report {incident_id} --file en=report.md ...`."
                if ledger.told("status_page") and not inc.drill
                else "A drill gets no public report."
                if inc.drill
                else "Customers were never told of it on the status page, so it gets no public report."
            ),
        )
        # The check-in asks those who were told (the ledger's routes besides the page, which it never
        # updates); a drill or an incident nobody outside the team heard of gets none.
        checkin = self.runbook.policy(inc.severity).checkin_after
        wanted = checkin is not None and not inc.drill and bool(ledger.routes - {"status_page"})
        seconds = self._scaled(checkin, minimum=1) if wanted else 0
        if seconds and self.settings.checkin_wait_max:
            seconds = min(seconds, self.settings.checkin_wait_max)
        return {"postmortem_chars": len(text), "checkin_seconds": seconds}

    def maintenance_phase(self, incident_id: str, phase: str) -> dict[str, Any]:
        inc = self.incident(incident_id)
        if inc.cancelled_at is not None:  # called off meanwhile: the window's later steps say nothing
            return {"phase": phase, "until_start": 0, "until_end": 0, "cancelled": True}
        status = {
            Phase.MAINTENANCE_SCHEDULED.value: MaintenanceStatus.SCHEDULED,
            Phase.MAINTENANCE_IN_PROGRESS.value: MaintenanceStatus.IN_PROGRESS,
            Phase.MAINTENANCE_COMPLETED.value: MaintenanceStatus.COMPLETED,
        }[phase]
        changes: dict[str, Any] = {"maintenance_status": status}
        if status is MaintenanceStatus.COMPLETED:
            changes["resolved_at"] = self.clock()
        self._update_incident(incident_id, **changes)
        self.record(incident_id, "maintenance", "workflow", f"Maintenance {status.value}")
        now = self.clock()
        start = inc.scheduled_for or now
        end = inc.scheduled_until or start
        waits = {
            "until_start": self._scaled(max(start - now, timedelta(0))),
            "until_end": self._scaled(max(end - max(now, start), timedelta(0))),
        }
        return {"phase": phase, **waits}


CUSTOMER_ROUTES = (
    "email:",
    "email-customers:",
    "sms:",
    "voice:",
    "push:",
    "whatsapp:",
    "webhook:customers:",
    "social:",
)


def route_reaches_customers(route: str) -> bool:
    """Routes a drill must never take: everything customers (or support, answering them) receive."""
    return route in ("status_page", "sns:customers") or route.startswith(CUSTOMER_ROUTES)


@dataclass(frozen=True)
class ApprovalEmail:
    """What an approval request email says, to one approver."""

    runbook: Runbook
    incident: Incident
    draft: Draft
    url: str
    request: ApprovalRequest
    person: Approver
    timeline: list[TimelineEntry]


def approval_email(mail: ApprovalEmail) -> tuple[str, str]:
    """Subject and plain text of an approval request."""
    runbook, incident, draft, request, person = mail.runbook, mail.incident, mail.draft, mail.request, mail.person
    lang = runbook.settings.default_language
    title = incident.title.get(lang, incident.id)
    drill = "[DRILL] " if incident.drill else ""
    subject = f"{drill}[{incident.severity.value}] Approve {draft.phase.value} messages: {title}"
    lines = [
        f"{person.name}, Clarion needs your approval before customers are told about this incident.",
        "",
        f"Incident: {title} ({incident.severity.value})",
        f"Components: {', '.join(incident.components)}",
        f"Started: {format_utc(incident.started_at)}",
        f"Answer by: {format_utc(request.expires_at)}",
        "",
        f"Review, edit and approve or reject here: {mail.url}",
        "",
        "Timeline so far (UTC):",
        *(f"  {e.at.strftime('%H:%M:%S')}  {e.summary}" for e in mail.timeline),
        "",
        "Drafts:",
    ]
    for m in draft.messages:
        opening = " / opening for routes never told" if m.opening else ""
        lines += ["", f"--- {m.audience.value} / {m.channel.value} / {m.language}{opening}"]
        if m.subject:
            lines.append(f"Subject: {m.subject}")
        lines.append(m.body)
    return subject, "\n".join(lines)
