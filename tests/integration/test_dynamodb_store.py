"""The DynamoDB store on moto: the same conditional semantics as the in-memory fake, so the
property test also runs here (the fake cannot drift unnoticed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clarion.adapters.dynamodb_store import DynamoDBIncidentStore
from clarion.domain.enums import AlarmState, ComponentStatus, IncidentKind, Phase, Severity
from clarion.domain.errors import ConcurrentUpdate
from clarion.domain.incident import AlarmRecord, Change, Incident, IncidentWrite, TimelineEntry
from clarion.domain.messaging.ledger import Told
from hypothesis import HealthCheck, given, settings

from tests.unit.test_intake_properties import check_history, histories, sample_runbook

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def incident(id_: str = "core-1", version: int = 1, **kw: object) -> Incident:
    base: dict[str, object] = dict(
        id=id_,
        group="core",
        title={"en": "Login down"},
        severity=Severity.SEV2,
        components={"login": ComponentStatus.MAJOR_OUTAGE},
        started_at=T0,
        created_at=T0,
        updated_at=T0,
        version=version,
    )
    base.update(kw)
    return Incident.model_validate(base)


def test_incident_round_trip_and_version_guard(store: DynamoDBIncidentStore) -> None:
    inc = incident()
    store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)], open_groups=[("core", inc.id)]))
    assert store.get_incident("core-1") == inc
    assert store.get_open_incident_id("core") == "core-1"
    with pytest.raises(ConcurrentUpdate):  # creating it again
        store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)]))
    v2 = inc.model_copy(update={"version": 2, "severity": Severity.SEV1})
    store.commit(Change(incidents=[IncidentWrite(incident=v2, expected_version=1)]))
    with pytest.raises(ConcurrentUpdate):  # a writer that read version 1
        store.commit(Change(incidents=[IncidentWrite(incident=v2, expected_version=1)]))
    got = store.get_incident("core-1")
    assert got is not None and got.severity is Severity.SEV1


def test_one_open_incident_per_group(store: DynamoDBIncidentStore) -> None:
    a, b = incident("core-a"), incident("core-b")
    store.commit(Change(incidents=[IncidentWrite(incident=a, expected_version=0)], open_groups=[("core", "core-a")]))
    with pytest.raises(ConcurrentUpdate):
        store.commit(
            Change(incidents=[IncidentWrite(incident=b, expected_version=0)], open_groups=[("core", "core-b")])
        )
    assert store.get_incident("core-b") is None  # nothing half-written
    with pytest.raises(ConcurrentUpdate):  # closing with the wrong id
        store.commit(Change(close_groups=[("core", "core-b")]))
    store.commit(Change(close_groups=[("core", "core-a")]))
    assert store.get_open_incident_id("core") is None


def test_alarm_record_guard(store: DynamoDBIncidentStore) -> None:
    arn = "arn:aws:cloudwatch:us-east-1:1:alarm:x"
    rec = AlarmRecord(alarm_arn=arn, alarm_name="x", state=AlarmState.ALARM, state_timestamp=T0)
    store.commit(Change(alarm=rec))
    with pytest.raises(ConcurrentUpdate):
        store.commit(Change(alarm=rec))  # expected absent
    later = rec.model_copy(update={"state": AlarmState.OK, "state_timestamp": T0 + timedelta(minutes=1)})
    with pytest.raises(ConcurrentUpdate):
        store.commit(Change(alarm=later, alarm_expected_timestamp=T0 - timedelta(seconds=1)))
    store.commit(Change(alarm=later, alarm_expected_timestamp=T0))
    assert store.get_alarm(arn) == later


def test_timeline_is_ordered_and_paginates(store: DynamoDBIncidentStore) -> None:
    entries = [
        TimelineEntry(
            at=T0 + timedelta(seconds=i),
            kind="note",
            actor="test",
            summary=f"entry {i}",
            data={"pad": "x" * 3000},
        )
        for i in range(450)  # > 1 MB in all: the query must page
    ]
    for start in range(0, len(entries), 90):
        store.commit(Change(timeline=[("core-1", e) for e in entries[start : start + 90]]))
    assert store.timeline("core-1") == entries


def test_list_and_maintenance_queries(store: DynamoDBIncidentStore) -> None:
    old = incident("core-old", started_at=T0 - timedelta(days=1))
    new = incident("core-new", resolved_at=T0 + timedelta(hours=1))
    maint = incident(
        "maint-1", kind=IncidentKind.MAINTENANCE, scheduled_for=T0, scheduled_until=T0 + timedelta(hours=2)
    )
    store.commit(Change(incidents=[IncidentWrite(incident=i, expected_version=0) for i in (old, new, maint)]))
    assert [i.id for i in store.list_incidents()] == ["core-new", "core-old"]
    assert [i.id for i in store.list_incidents(open_only=True)] == ["core-old"]
    assert [m.id for m in store.maintenance_active(T0 + timedelta(minutes=30))] == ["maint-1"]
    assert store.maintenance_active(T0 + timedelta(hours=3)) == []


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=histories())
def test_intake_property_holds_on_dynamodb(ddb: object, history: list[tuple[str, AlarmState, int]]) -> None:
    import uuid

    from clarion.adapters.dynamodb_store import table_definition

    name = f"incidents-{uuid.uuid4().hex[:8]}"
    ddb.create_table(**table_definition(name))  # type: ignore[attr-defined]
    check_history(sample_runbook(), DynamoDBIncidentStore(name, ddb), history)  # type: ignore[arg-type]


def test_one_alarm_decision_reads_in_two_batches(store: DynamoDBIncidentStore, ddb: Any) -> None:
    inc = incident()
    store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)], open_groups=[("core", inc.id)]))
    record = AlarmRecord(alarm_arn="arn:a", alarm_name="a", state=AlarmState.ALARM, state_timestamp=T0)
    store.commit(Change(alarm=record))
    calls: list[str] = []
    ddb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    reads = store.read_for_alarm("arn:a", ["core", "payments"], T0)
    assert reads.record == record and reads.open_incidents == {"core": inc} and reads.maintenance == []
    # The alarm and both pointers in one batch, the maintenance query beside it, then the incident.
    assert sorted(calls) == ["BatchGetItem", "BatchGetItem", "Query"]
    calls.clear()
    assert store.read_for_alarm("arn:new", ["payments"], None).open_incidents == {}
    assert calls == ["BatchGetItem"]


def test_a_new_draft_and_its_timeline_entry_are_one_write(ddb: Any) -> None:
    from clarion.adapters.dynamodb_store import DynamoDBWorkflowStore
    from clarion.domain.messaging.drafts import Draft

    wstore = DynamoDBWorkflowStore("incidents", ddb)
    store = DynamoDBIncidentStore("incidents", ddb)
    draft = Draft(
        id="d1",
        incident_id="core-1",
        phase="investigating",
        created_at=T0,
        messages=[],
        routes=[],
        approval_required=False,
    )
    entry = TimelineEntry(at=T0, kind="drafted", actor="workflow", summary="Drafted 0 message(s)")
    assert wstore.create_draft(draft, entry) == draft
    retried = draft.model_copy(update={"routes": ["status_page"]})
    later = entry.model_copy(update={"at": T0 + timedelta(seconds=5)})
    assert wstore.create_draft(retried, later) == draft  # the first one stays; no second entry
    assert [e.kind for e in store.timeline("core-1")] == ["drafted"]


def test_incident_and_ledger_read_together_match_the_separate_reads(store: DynamoDBIncidentStore) -> None:
    inc = incident()
    told = Told(route="sns:customers", draft_id="investigating", phase=Phase.INVESTIGATING, at=T0, approved_by="policy")
    store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)], told=[(inc.id, told)]))
    got, ledger = store.incident_and_ledger(inc.id)
    assert got == inc and ledger == store.ledger(inc.id) and ledger.told("sns:customers")
    missing, empty = store.incident_and_ledger("core-404")
    assert missing is None and not empty.entries
