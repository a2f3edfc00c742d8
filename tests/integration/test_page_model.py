"""The status page model in DynamoDB (moto): kept up to date per update, read in O(1) items, the same
page as a render of every incident in memory, every incident reachable from stable history pages."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import clarion.domain.page_index as page_index
import pytest
from clarion.adapters.channels import StatusPageDelivery
from clarion.adapters.dynamodb_page_store import DynamoDBPageStore
from clarion.adapters.s3_page_publisher import S3Target, StatusPagePublisher
from clarion.domain.enums import ComponentStatus, IncidentKind, IncidentStatus, MaintenanceStatus, Severity
from clarion.domain.errors import ChannelError
from clarion.domain.incident import Incident, TimelineEntry
from clarion.domain.messaging.drafts import Draft
from clarion.domain.page_index import MemoryPage, page_of
from clarion.domain.runbooks.model import Runbook
from clarion.domain.status_page import PageIncident, PageUpdate
from clarion.status_page.render import SiteRenderer

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


class Requests:
    def __init__(self) -> None:
        self.by_op: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.by_op[model.name] += 1

    @property
    def total(self) -> int:
        return sum(self.by_op.values())


PAGE_SIZE = 5


@pytest.fixture(autouse=True)
def small_history_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five rows a page: the same paths as 25, with fewer incidents to store on the emulator."""
    monkeypatch.setattr(page_index, "HISTORY_PAGE_SIZE", PAGE_SIZE)


@pytest.fixture
def counted(ddb: Any) -> Requests:
    counter = Requests()
    ddb.meta.events.register("before-call.dynamodb.*", counter)
    return counter


@pytest.fixture
def pages(ddb: Any) -> DynamoDBPageStore:
    return DynamoDBPageStore("incidents", ddb, sleep=lambda _s: None)


def make_incident(runbook: Runbook, k: int, started: datetime, *, resolved: bool = True, **kw: Any) -> Incident:
    comp = runbook.components.components[k % len(runbook.components.components)]
    base: dict[str, Any] = dict(
        id=f"{comp.group}-{k:05d}",
        group=comp.group,
        title={"en": f"Errors {k}", "es": f"Errores {k}"},
        status=IncidentStatus.RESOLVED if resolved else IncidentStatus.INVESTIGATING,
        severity=Severity.SEV3,
        components={comp.id: ComponentStatus.PARTIAL_OUTAGE},
        started_at=started,
        created_at=started,
        updated_at=started + timedelta(minutes=40),
        resolved_at=started + timedelta(minutes=40) if resolved else None,
        version=1,
    )
    base.update(kw)
    return Incident.model_validate(base)


def publish_update(pages: DynamoDBPageStore, inc: Incident, at: datetime, status: str, n: int = 0) -> PageIncident:
    update = PageUpdate(id=f"{inc.id}-u{n}", status=status, body={"en": f"Note {n}", "es": f"Nota {n}"}, created_at=at)
    entry = TimelineEntry(at=at, kind="page_update", actor="workflow", summary=f"Status page: {status}")
    return pages.record(inc, update, entry, at).summary


def seed(runbook: Runbook, pages: DynamoDBPageStore, n: int) -> list[Incident]:
    out = []
    for k in range(n):
        started = NOW - timedelta(days=2 * (n - k))
        inc = make_incident(runbook, k, started)
        publish_update(pages, inc, started + timedelta(minutes=40), "resolved")
        out.append(inc)
    return out


def test_slots_follow_first_publication_and_rows_land_on_their_page(runbook: Runbook, pages: Any) -> None:
    seeded = seed(runbook, pages, PAGE_SIZE * 2 + 3)
    source = pages.load()
    index = source.index()
    assert index.slots == len(seeded) and index.pages == 3
    rows = source.history_rows([1, 2, 3])
    assert [r.id for r in rows[1]] == [i.id for i in seeded[:PAGE_SIZE]]
    assert [r.id for r in rows[3]] == [i.id for i in seeded[2 * PAGE_SIZE :]]
    # Every incident ever published is on exactly one history page.
    listed = [r.id for p in (1, 2, 3) for r in rows[p]]
    assert sorted(listed) == sorted(i.id for i in seeded)


def test_a_page_version_moves_exactly_when_one_of_its_rows_changes(runbook: Runbook, pages: Any) -> None:
    seeded = seed(runbook, pages, PAGE_SIZE + 5)
    before = list(pages.load().index().history_versions)
    oldest = seeded[0]
    # A postmortem note on the oldest incident: its row (name, status, start) is unchanged.
    publish_update(pages, oldest, NOW, "resolved", n=1)
    assert pages.load().index().history_versions == before
    # Renamed: page 1 changes, page 2 does not.
    publish_update(
        pages, oldest.model_copy(update={"title": {"en": "Renamed", "es": "Renombrado"}}), NOW, "resolved", 2
    )
    after = pages.load().index().history_versions
    assert after[0] == before[0] + 1 and after[1] == before[1]
    assert pages.load().history_rows([1])[1][0].name["en"] == "Renamed"


def test_one_update_costs_the_same_requests_whatever_the_history(
    runbook: Runbook, pages: Any, counted: Requests
) -> None:
    active = make_incident(runbook, 99_999, NOW - timedelta(hours=1), resolved=False)
    costs = []
    seeded = 0
    for size in (6, 40):
        for k in range(seeded, size):
            started = NOW - timedelta(days=400) + timedelta(hours=k)
            publish_update(pages, make_incident(runbook, k, started), started + timedelta(minutes=40), "resolved")
        seeded = size
        counted.by_op.clear()
        publish_update(pages, active, NOW + timedelta(minutes=size), "investigating", n=size)
        source = pages.load()
        source.history_rows([page_of(source.shown()[active.id].slot or 1)])
        costs.append(dict(counted.by_op))
    assert costs[0] == costs[1]
    assert costs[0] == {"BatchGetItem": 3, "TransactWriteItems": 1}


def test_the_store_renders_the_same_page_as_every_incident_in_memory(runbook: Runbook, pages: Any) -> None:
    incidents = seed(runbook, pages, 16)
    active = make_incident(runbook, 500, NOW - timedelta(hours=2), resolved=False)
    summary = publish_update(pages, active, NOW - timedelta(hours=1), "investigating")
    maint = make_incident(
        runbook,
        600,
        NOW + timedelta(days=2),
        resolved=False,
        kind=IncidentKind.MAINTENANCE,
        maintenance_status=MaintenanceStatus.SCHEDULED,
        scheduled_for=NOW + timedelta(days=2),
        scheduled_until=NOW + timedelta(days=2, hours=2),
    )
    publish_update(pages, maint, NOW - timedelta(minutes=30), "scheduled")
    stored = pages.load()
    everything = stored.changed_since(None)
    assert len(everything) == len(incidents) + 2 and summary.slot == len(incidents) + 1
    renderer = SiteRenderer(runbook)
    from_store = {f.path: f.body for f in renderer.render(stored, NOW).files}
    in_memory = {f.path: f.body for f in renderer.render(MemoryPage(everything, NOW), NOW).files}
    assert from_store.keys() == in_memory.keys()
    assert {p for p in from_store if from_store[p] != in_memory[p]} == set()


def test_the_delivery_keeps_drills_and_history_straight(runbook: Runbook, pages: Any, ddb: Any) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="page")
    publisher = StatusPagePublisher(SiteRenderer(runbook), [S3Target("primary", "page", s3)])
    delivery = StatusPageDelivery(pages, lambda load: publisher.publish(load, lambda: NOW), lambda: NOW, {})
    seeded = seed(runbook, pages, PAGE_SIZE * 3 + 1)
    active = make_incident(runbook, 777, NOW - timedelta(hours=1), resolved=False)
    draft = Draft.model_validate(
        {
            "id": "d1",
            "incident_id": active.id,
            "phase": "investigating",
            "created_at": NOW.isoformat(),
            "messages": [
                {"audience": "customers", "channel": "status_page", "language": "en", "body": "Looking into it."},
                {"audience": "customers", "channel": "status_page", "language": "es", "body": "Lo revisamos."},
            ],
            "routes": ["status_page"],
            "approval_required": False,
        }
    )
    with pytest.raises(ChannelError) as drill:
        delivery.deliver("status_page", draft, active.model_copy(update={"drill": True}))
    assert not drill.value.transient
    assert active.id not in pages.load().shown()

    delivery.deliver("status_page", draft, active)
    html = s3.get_object(Bucket="page", Key=f"incidents/{active.id}.html")["Body"].read().decode()
    assert "Looking into it." in html
    assert active.id in s3.get_object(Bucket="page", Key="index.html")["Body"].read().decode()
    # Walk the history from its index by the "older" links: the oldest incident is there.
    key, found = "history/index.html", False
    for _ in range(10):
        page = s3.get_object(Bucket="page", Key=key)["Body"].read().decode()
        if f"incidents/{seeded[0].id}.html" in page:
            found = True
            break
        older = re.findall(r'href="../history/(\d+)\.html"', page)
        key = f"history/{min(int(x) for x in older)}.html"
    assert found


@pytest.fixture
def serialised_moto() -> Iterator[None]:
    """moto's transactions are not atomic across threads (real DynamoDB's are): one lock around its
    DynamoDB handlers, so the test checks our retries and not moto's copy-and-restore."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def locked(self: Any) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = locked  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]


def test_racing_updates_all_land_with_unique_slots(runbook: Runbook, ddb: Any, serialised_moto: None) -> None:
    incidents = [make_incident(runbook, k, NOW - timedelta(days=k)) for k in range(12)]
    errors: list[BaseException] = []

    def work(chunk: list[Incident]) -> None:
        store = DynamoDBPageStore("incidents", ddb, sleep=lambda s: None)
        for inc in chunk:
            try:
                publish_update(store, inc, NOW, "resolved")
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(incidents[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    source = DynamoDBPageStore("incidents", ddb).load()
    everything = source.changed_since(None)
    assert sorted(i.slot or 0 for i in everything) == list(range(1, 13))
    rows = source.history_rows([1, 2, 3])
    assert sorted(r.id for p in rows for r in rows[p]) == sorted(i.id for i in incidents)


def test_cancelled_maintenance_leaves_the_page_without_an_update_and_shows_as_cancelled(
    runbook: Runbook, pages: Any
) -> None:
    maint = make_incident(
        runbook,
        700,
        NOW + timedelta(days=1),
        resolved=False,
        kind=IncidentKind.MAINTENANCE,
        maintenance_status=MaintenanceStatus.SCHEDULED,
        scheduled_for=NOW + timedelta(days=1),
        scheduled_until=NOW + timedelta(days=1, hours=2),
    )
    assert not pages.refresh(maint, NOW)  # never on the page: nothing to do
    publish_update(pages, maint, NOW, "scheduled")
    assert pages.load().index().live == [maint.id]
    cancelled = maint.model_copy(
        update={"maintenance_status": MaintenanceStatus.COMPLETED, "resolved_at": NOW, "cancelled_at": NOW}
    )
    assert pages.refresh(cancelled, NOW + timedelta(minutes=1))
    source = pages.load()
    summary = source.shown()[maint.id]
    assert source.index().live == [] and summary.status == "completed" and summary.cancelled
    site = {f.path: f.body.decode() for f in SiteRenderer(runbook).render(source, NOW).files}
    assert maint.id not in site["api/v2/scheduled-maintenances/upcoming.json"]
    assert "Cancelled" in site[f"incidents/{maint.id}.html"]
    assert "Cancelado" in site[f"es/incidents/{maint.id}.html"]
    # The cancellation's own update keeps it cancelled (Statuspage's "completed" in the JSON).
    update = PageUpdate(id=f"{maint.id}-c", status="completed", body={"en": "Called off."}, created_at=NOW)
    entry = TimelineEntry(at=NOW, kind="page_update", actor="workflow", summary="Status page: completed")
    assert pages.record(cancelled, update, entry, NOW + timedelta(minutes=2)).summary.cancelled
