"""An in-memory IncidentStore with the same conditional semantics as the DynamoDB adapter."""

from __future__ import annotations

from datetime import datetime

from clarion.domain.enums import IncidentKind
from clarion.domain.errors import ConcurrentUpdate
from clarion.domain.incident import AlarmReads, AlarmRecord, Change, Incident, TimelineEntry
from clarion.domain.messaging.ledger import AudienceLedger, Told
from clarion.ports import IncidentStore


class InMemoryIncidentStore:
    def __init__(self) -> None:
        self.alarms: dict[str, AlarmRecord] = {}
        self.incidents: dict[str, Incident] = {}
        self.groups: dict[str, str] = {}
        self.entries: dict[str, dict[str, TimelineEntry]] = {}
        self.told: dict[str, dict[tuple[str, str], Told]] = {}
        self.commits = 0
        self.reads = 0
        self.fail_next_commits = 0  # inject lost races

    def get_alarm(self, alarm_arn: str) -> AlarmRecord | None:
        return self.alarms.get(alarm_arn)

    def get_open_incident_id(self, group: str) -> str | None:
        return self.groups.get(group)

    def get_incident(self, incident_id: str) -> Incident | None:
        return self.incidents.get(incident_id)

    def get_incidents(self, incident_ids: list[str]) -> dict[str, Incident]:
        return {i: self.incidents[i] for i in incident_ids if i in self.incidents}

    def read_for_alarm(self, alarm_arn: str, groups: list[str], maintenance_at: datetime | None) -> AlarmReads:
        self.reads += 1
        pointers = {g: self.groups[g] for g in groups if g in self.groups}
        return AlarmReads(
            record=self.alarms.get(alarm_arn),
            open_incidents={g: self.incidents[i] for g, i in pointers.items() if i in self.incidents},
            maintenance=self.maintenance_active(maintenance_at) if maintenance_at is not None else [],
        )

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        return [e for _, e in sorted(self.entries.get(incident_id, {}).items())]

    def ledger(self, incident_id: str) -> AudienceLedger:
        return AudienceLedger(tuple(sorted(self.told.get(incident_id, {}).values(), key=lambda t: (t.at, t.route))))

    def incident_and_ledger(self, incident_id: str) -> tuple[Incident | None, AudienceLedger]:
        return self.get_incident(incident_id), self.ledger(incident_id)

    @property
    def unreadable(self) -> list[str]:
        return []  # the fake holds models, never unreadable records

    def list_incidents(
        self, *, open_only: bool = False, limit: int = 100, kind: IncidentKind = IncidentKind.INCIDENT
    ) -> list[Incident]:
        found = [i for i in self.incidents.values() if i.kind is kind]
        if open_only:
            found = [i for i in found if i.resolved_at is None]
        return sorted(found, key=lambda i: (i.started_at, i.id), reverse=True)[:limit]

    def maintenance_active(self, at: datetime) -> list[Incident]:
        return [m for m in self.incidents.values() if m.in_window(at)]

    def commit(self, change: Change) -> None:
        if self.fail_next_commits:
            self.fail_next_commits -= 1
            raise ConcurrentUpdate("injected")
        # Check every condition first: all or nothing, like TransactWriteItems.
        if change.alarm is not None:
            current = self.alarms.get(change.alarm.alarm_arn)
            if change.alarm_expected_timestamp is None:
                if current is not None:
                    raise ConcurrentUpdate("alarm record exists")
            elif current is None or current.state_timestamp != change.alarm_expected_timestamp:
                raise ConcurrentUpdate("alarm record moved on")
        for w in change.incidents:
            existing = self.incidents.get(w.incident.id)
            if w.expected_version == 0 and existing is not None:
                raise ConcurrentUpdate("incident exists")
            if w.expected_version and (existing is None or existing.version != w.expected_version):
                raise ConcurrentUpdate("incident version moved on")
        for group, _ in change.open_groups:
            if group in self.groups:
                raise ConcurrentUpdate("group already has an open incident")
        for group, incident_id in [*change.close_groups, *change.still_open]:
            if self.groups.get(group) != incident_id:
                raise ConcurrentUpdate("group pointer moved on")
        if change.alarm is not None:
            self.alarms[change.alarm.alarm_arn] = change.alarm
        for w in change.incidents:
            self.incidents[w.incident.id] = w.incident
        for group, incident_id in change.open_groups:
            self.groups[group] = incident_id
        for group, _ in change.close_groups:
            del self.groups[group]
        for incident_id, entry in change.timeline:
            self.entries.setdefault(incident_id, {})[entry.entry_id] = entry
        for incident_id, told in change.told:
            self.told.setdefault(incident_id, {})[(told.route, told.draft_id)] = told
        self.commits += 1


_check: IncidentStore = InMemoryIncidentStore()
