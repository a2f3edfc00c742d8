"""Incidents, the alarms that hold them open, and their append-only timeline."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from clarion.domain.enums import (
    AlarmState,
    ComponentStatus,
    IncidentKind,
    IncidentStatus,
    MaintenanceStatus,
    Severity,
)
from clarion.domain.messaging.ledger import Told

Signal = Literal["open", "resolve", "update", "monitor", "maintenance", "cancel", "report"]

ANY_LANGUAGE = "*"


def _per_language(value: Any) -> Any:
    """Text a person typed, per language. A plain string (records written before texts were kept per
    language) stands for every language."""
    if isinstance(value, str):
        return {ANY_LANGUAGE: value} if value.strip() else {}
    return value


PersonText = Annotated[dict[str, str], BeforeValidator(_per_language)]


def text_in(texts: dict[str, str], language: str) -> str:
    """The text written for ``language`` ('' when there is none)."""
    return texts.get(language) or texts.get(ANY_LANGUAGE, "")


def short_hash(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:length]


def incident_id_for(group: str, started: datetime, key: str) -> str:
    """Deterministic, so a retried intake derives the same id and the same execution name.

    ``<group>-<UTC start>-<hash>``: at most 65 characters of ``[a-z0-9_-]``, which leaves room for a
    ``-<signal>`` suffix inside Step Functions' 80-character execution name limit.
    """
    slug = re.sub(r"[^a-z0-9_-]", "-", group.lower())[:40]
    return f"{slug}-{started.strftime('%Y%m%dT%H%M%S')}-{short_hash(group, key)}"


class AlarmLink(BaseModel):
    """An alarm's part in an incident."""

    model_config = ConfigDict(frozen=True)

    alarm_arn: str
    alarm_name: str
    state: AlarmState
    since: AwareDatetime
    rule_id: str
    severity: Severity
    components: dict[str, ComponentStatus]


class TimelineEntry(BaseModel):
    """One thing that happened to an incident. Never updated once written."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    kind: str  # alarm_fired, alarm_cleared, opened, joined, severity_raised, resolution_requested, ...
    actor: str  # "intake", "alarm:<name>", an approver's address, "workflow"
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def entry_id(self) -> str:
        """Sortable by time; stable for the same entry, so a replayed write overwrites itself."""
        digest = short_hash(self.actor, self.summary, length=6)
        return f"{self.at.strftime('%Y%m%dT%H%M%S.%f')}#{self.kind}#{digest}"


class Incident(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: IncidentKind = IncidentKind.INCIDENT
    group: str
    title: dict[str, str]  # language -> title
    status: IncidentStatus = IncidentStatus.INVESTIGATING
    severity: Severity
    components: dict[str, ComponentStatus] = Field(description="current status of each affected component")
    alarms: dict[str, AlarmLink] = Field(default_factory=dict)
    started_at: AwareDatetime  # when the first alarm went into ALARM: "since when" for customers
    created_at: AwareDatetime  # when Clarion opened it
    updated_at: AwareDatetime
    resolution_requested_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    pending_signals: list[Signal] = Field(default_factory=list)
    drill: bool = False
    scheduled_for: AwareDatetime | None = None  # maintenance only
    scheduled_until: AwareDatetime | None = None
    maintenance_status: MaintenanceStatus | None = None
    cancelled_at: AwareDatetime | None = None  # maintenance called off (Statuspage shows it as completed)
    cause: PersonText = Field(default_factory=dict)  # language -> text, written by a person once known
    eta: PersonText = Field(default_factory=dict)  # language -> expected resolution, in the person's words
    impact: PersonText = Field(default_factory=dict)  # maintenance: what customers will experience
    version: int = 0

    @property
    def is_open(self) -> bool:
        """Open: not resolved and not yet marked for resolution."""
        return self.resolution_requested_at is None and self.resolved_at is None

    @property
    def active_alarms(self) -> list[AlarmLink]:
        return [a for a in self.alarms.values() if a.state is AlarmState.ALARM]

    def in_window(self, at: datetime) -> bool:
        return (
            self.kind is IncidentKind.MAINTENANCE
            and self.scheduled_for is not None
            and self.scheduled_until is not None
            and self.scheduled_for <= at < self.scheduled_until
            and self.resolved_at is None
        )


class AlarmRecord(BaseModel):
    """The last state change applied for one alarm: the guard against duplicates and reordering."""

    model_config = ConfigDict(frozen=True)

    alarm_arn: str
    alarm_name: str
    state: AlarmState
    state_timestamp: AwareDatetime
    incident_ids: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class AlarmReads:
    """What one alarm decision reads, fetched together (``IncidentStore.read_for_alarm``)."""

    record: AlarmRecord | None  # the alarm's last applied change
    open_incidents: dict[str, Incident]  # group -> its open incident, for the groups asked about
    maintenance: list[Incident]  # maintenance windows in progress (empty unless asked)


class IncidentWrite(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident: Incident  # the new state, its version already bumped
    expected_version: int  # 0: must not exist yet


class Change(BaseModel):
    """Everything one intake decision writes, committed atomically or not at all."""

    model_config = ConfigDict(frozen=True)

    alarm: AlarmRecord | None = None
    alarm_expected_timestamp: AwareDatetime | None = None  # None: the alarm record must not exist yet
    incidents: list[IncidentWrite] = Field(default_factory=list)
    open_groups: list[tuple[str, str]] = Field(default_factory=list)  # (group, incident id) pointer to create
    close_groups: list[tuple[str, str]] = Field(default_factory=list)  # (group, incident id) pointer to remove
    still_open: list[tuple[str, str]] = Field(default_factory=list)  # (group, incident id) pointer that must hold
    timeline: list[tuple[str, TimelineEntry]] = Field(default_factory=list)
    told: list[tuple[str, Told]] = Field(default_factory=list)  # audience ledger entries (incident id, entry)
