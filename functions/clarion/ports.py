"""The interfaces the domain needs from the outside world. Adapters implement them with boto3;
``tests/fakes`` implement them in memory (and are type-checked against these Protocols)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from clarion.domain.incident import AlarmRecord, Change, Incident, Signal, TimelineEntry


class IncidentStore(Protocol):
    def get_alarm(self, alarm_arn: str) -> AlarmRecord | None: ...

    def get_open_incident_id(self, group: str) -> str | None: ...

    def get_incident(self, incident_id: str) -> Incident | None: ...

    def commit(self, change: Change) -> None:
        """Write all of ``change`` or nothing; raise ``ConcurrentUpdate`` when a condition fails."""
        ...

    def timeline(self, incident_id: str) -> list[TimelineEntry]: ...

    def list_incidents(self, *, open_only: bool = False, limit: int = 100) -> list[Incident]: ...

    def maintenance_active(self, at: datetime) -> list[Incident]: ...


class Workflow(Protocol):
    def start(self, incident: Incident, signal: Signal) -> str:
        """Start the workflow for ``signal``; idempotent: the same incident and signal start one
        execution however often this is called. Returns the execution's name."""
        ...


class Clock(Protocol):
    def __call__(self) -> datetime: ...
