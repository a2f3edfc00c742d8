"""The interfaces the domain needs from the outside world. Adapters implement them with boto3;
``tests/fakes`` implement them in memory (and are type-checked against these Protocols)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from clarion.domain.enums import IncidentKind
from clarion.domain.incident import AlarmReads, AlarmRecord, Change, Incident, Signal, TimelineEntry
from clarion.domain.messaging.ledger import AudienceLedger

if TYPE_CHECKING:  # annotations only: drafts pull in Jinja, which the intake never needs
    from clarion.domain.approvals.links import ApprovalRequest
    from clarion.domain.feedback.model import Feedback
    from clarion.domain.messaging.drafts import Draft
    from clarion.domain.page_index import Folded, PageSource
    from clarion.domain.status_page import PageUpdate


class IncidentStore(Protocol):
    def get_alarm(self, alarm_arn: str) -> AlarmRecord | None: ...

    def get_open_incident_id(self, group: str) -> str | None: ...

    def get_incident(self, incident_id: str) -> Incident | None: ...

    def get_incidents(self, incident_ids: list[str]) -> dict[str, Incident]:
        """The incidents of ``incident_ids`` that exist, read together."""
        ...

    def read_for_alarm(self, alarm_arn: str, groups: list[str], maintenance_at: datetime | None) -> AlarmReads:
        """Everything one alarm decision needs, in as few round trips as the store allows: the
        alarm's record, the open incident of each of ``groups``, and (with ``maintenance_at``) the
        maintenance windows in progress then."""
        ...

    def commit(self, change: Change) -> None:
        """Write all of ``change`` or nothing; raise ``ConcurrentUpdate`` when a condition fails."""
        ...

    def timeline(self, incident_id: str) -> list[TimelineEntry]: ...

    def ledger(self, incident_id: str) -> AudienceLedger:
        """Who was told about the incident (``Change.told`` entries), oldest first."""
        ...

    def incident_and_ledger(self, incident_id: str) -> tuple[Incident | None, AudienceLedger]:
        """``get_incident`` and ``ledger`` read at once (one round trip where the store allows)."""
        ...

    def list_incidents(
        self, *, open_only: bool = False, limit: int = 100, kind: IncidentKind = IncidentKind.INCIDENT
    ) -> list[Incident]:
        """Newest first. A record that cannot be read is left out and named in ``unreadable``."""
        ...

    @property
    def unreadable(self) -> list[str]:
        """The records the last listing left out, each with what is wrong with it."""
        ...

    def maintenance_active(self, at: datetime) -> list[Incident]: ...


class PageStore(Protocol):
    """The status page's model, kept up to date one published update at a time."""

    def record(
        self,
        incident: Incident,
        update: PageUpdate,
        entry: TimelineEntry,
        now: datetime,
        next_update_at: datetime | None = None,
    ) -> Folded:
        """Put ``update`` on the incident's page summary and into the page index, with ``entry`` on
        its timeline, atomically (a retried update replaces itself, with no second entry); retried
        on lost races."""
        ...

    def refresh(self, incident: Incident, now: datetime) -> bool:
        """Bring the incident's page summary in line with the incident without a new update (e.g.
        cancelled maintenance); False if the page never showed it."""
        ...

    def load(self) -> PageSource:
        """A fresh, consistent read of what the page shows. A summary that cannot be read is left out
        and named in ``unreadable``: one bad record never stops the page showing the others."""
        ...

    @property
    def unreadable(self) -> list[str]:
        """The records the last read left out, each with what is wrong with it."""
        ...


class Workflow(Protocol):
    def start(
        self, incident: Incident, signal: Signal, suffix: str = "", extra: dict[str, object] | None = None
    ) -> str:
        """Start the workflow for ``signal``; idempotent: the same incident, signal and suffix start
        one execution however often this is called. Returns the execution's name."""
        ...

    def stop(self, name: str, cause: str) -> None:
        """Stop the execution of that name, if it still runs."""
        ...


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class WorkflowStore(Protocol):
    """What the workflow keeps beside incidents: drafts, approval requests, send claims, documents."""

    def create_draft(self, draft: Draft, entry: TimelineEntry) -> Draft:
        """Store a new draft and ``entry`` on its incident's timeline in one write. If a draft of
        that id exists already (a retried step), keep it, write nothing, and return it."""
        ...

    def claim_sends(self, keys: list[str], now: datetime, lease_seconds: int = 300) -> dict[str, bool]:
        """``claim_send`` for each key, at once."""
        ...

    def save_draft(self, draft: Draft, *, create: bool = False) -> Draft:
        """Store ``draft``. With ``create``, keep an existing draft of that id and return it instead
        (a retried step finds its own earlier draft)."""
        ...

    def get_draft(self, incident_id: str, draft_id: str) -> Draft | None: ...

    def save_approval(self, request: ApprovalRequest) -> None: ...

    def get_approval(self, approval_id: str) -> ApprovalRequest | None: ...

    def transition_approval(self, updated: ApprovalRequest) -> bool:
        """Write ``updated`` only if the stored request is still pending; False if it was not."""
        ...

    def claim_send(self, key: str, now: datetime, lease_seconds: int = 300) -> bool:
        """Claim a send: False if it was sent already or another attempt holds a live lease."""
        ...

    def finish_send(self, key: str, *, ok: bool, detail: str) -> None: ...

    def save_document(self, incident_id: str, name: str, text: str) -> None: ...

    def get_document(self, incident_id: str, name: str) -> str | None: ...


class Notifier(Protocol):
    """The internal channel: the incident team hears everything at once, approved or not."""

    def notify(self, incident: Incident, text: str) -> None: ...


class Mailer(Protocol):
    def send(self, to: list[str], subject: str, text: str, html: str) -> str: ...


class DeskStore(Protocol):
    """Rate limits and single-use values of the desk's sign-in."""

    def hit(self, source: str, window: str, limit: int, expires: datetime) -> bool:
        """Count a request; False once ``limit`` requests came from ``source`` in ``window``."""
        ...

    def claim_once(self, key: str, expires: datetime) -> bool:
        """True the first time ``key`` is claimed, False ever after (a conditional write)."""
        ...


class FeedbackStore(Protocol):
    """Readers' answers to updates, and the per-source counters that rate-limit the endpoint."""

    def hit(self, source: str, window: str, limit: int, expires: datetime) -> bool:
        """Count a request; False once ``limit`` requests came from ``source`` in ``window``."""
        ...

    def record(self, feedback: Feedback) -> bool:
        """Store an answer once per reader and update; False (and nothing written) if that reader
        already answered that update."""
        ...

    def feedback(self, incident_id: str) -> list[Feedback]: ...
