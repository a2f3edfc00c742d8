"""Rendering: the Statuspage v2 JSON shape, feeds a real parser reads, escaping, incremental work."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import feedparser
import pytest
from clarion.domain.enums import ComponentStatus, IncidentKind
from clarion.domain.page_index import HISTORY_PAGE_SIZE
from clarion.domain.runbooks.model import Runbook
from clarion.domain.status_page import PageIncident, PageUpdate
from clarion.runbook_loader import load_runbook
from clarion.status_page.render import RenderResult, RenderState, SiteRenderer
from clarion.status_page.sample import sample_history

from tests.conftest import RUNBOOKS

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)

PAGE_FIELDS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_FIELDS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
INCIDENT_FIELDS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
}
UPDATE_FIELDS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
}
INCIDENT_STATUS = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINT_STATUS = {"scheduled", "in_progress", "verifying", "completed"}
COMPONENT_STATUS = {s.value for s in ComponentStatus}


@lru_cache(maxsize=1)
def rb() -> Runbook:
    return load_runbook(RUNBOOKS)


@lru_cache(maxsize=1)
def site() -> RenderResult:
    return SiteRenderer(rb()).render(sample_history(rb(), NOW), NOW)


def file(result: RenderResult, path: str) -> bytes:
    (found,) = [f.body for f in result.files if f.path == path]
    return found


def api(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(file(site(), f"api/v2/{path}"))
    return data


def test_every_endpoint_exists_with_page_block() -> None:
    for path in (
        "summary.json",
        "status.json",
        "components.json",
        "incidents.json",
        "incidents/unresolved.json",
        "scheduled-maintenances.json",
        "scheduled-maintenances/upcoming.json",
        "scheduled-maintenances/active.json",
    ):
        doc = api(path)
        assert set(doc["page"]) == PAGE_FIELDS, path


def test_status_indicator_enum() -> None:
    status = api("status.json")["status"]
    assert status["indicator"] in {"none", "minor", "major", "critical"}
    assert status["description"]


def test_components_and_groups_fields() -> None:
    comps = api("components.json")["components"]
    groups = [c for c in comps if c["group"]]
    members = [c for c in comps if not c["group"]]
    assert len(groups) == 3 and len(members) == 9
    for c in comps:
        assert set(c) >= COMPONENT_FIELDS, c["id"]
        assert c["status"] in COMPONENT_STATUS
    for g in groups:
        assert set(g["components"]) == {m["id"] for m in members if m["group_id"] == g["id"]}
    assert [c["position"] for c in comps] == sorted(c["position"] for c in comps)


def test_incident_and_update_fields() -> None:
    incidents = api("incidents.json")["incidents"]
    assert incidents and len(incidents) <= 50
    for inc in incidents:
        assert set(inc) >= INCIDENT_FIELDS
        assert inc["status"] in INCIDENT_STATUS and inc["impact"] in {"none", "minor", "major", "critical"}
        for c in inc["components"]:
            assert set(c) >= COMPONENT_FIELDS
        for u in inc["incident_updates"]:
            assert set(u) >= UPDATE_FIELDS and u["incident_id"] == inc["id"] and u["status"] in INCIDENT_STATUS
            for a in u["affected_components"] or []:
                assert set(a) == {"code", "name", "old_status", "new_status"}
    unresolved = api("incidents/unresolved.json")["incidents"]
    assert {i["id"] for i in unresolved} == {i["id"] for i in incidents if i["status"] != "resolved"}
    assert len(unresolved) == 2
    summary = api("summary.json")
    assert {"page", "components", "incidents", "scheduled_maintenances", "status"} <= set(summary)


def test_maintenance_endpoints() -> None:
    upcoming = api("scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    assert len(upcoming) == 1
    m = upcoming[0]
    assert INCIDENT_FIELDS | {"scheduled_for", "scheduled_until"} <= set(m)
    assert m["status"] in MAINT_STATUS and m["impact"] == "maintenance"
    assert api("scheduled-maintenances/active.json")["scheduled_maintenances"] == []


@pytest.mark.parametrize("lang", ["en", "es"])
def test_feeds_parse_with_a_real_feed_parser(lang: str) -> None:
    prefix = "" if lang == "en" else "es/"
    for ext in ("atom", "rss"):
        parsed = feedparser.parse(file(site(), f"{prefix}history.{ext}"))
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.feed.title == "Ledgerly Status"
        assert len(parsed.entries) == 43
        entry = parsed.entries[0]
        assert entry.link.startswith("https://status.ledgerly.example/")
        assert "<p><strong>" in entry.summary  # HTML content, escaped once in the XML


def test_pages_per_language_with_switch() -> None:
    en = file(site(), "index.html").decode()
    es = file(site(), "es/index.html").decode()
    assert '<html lang="en">' in en and '<html lang="es">' in es
    assert 'href="es/index.html"' in en and 'href="../index.html"' in es
    assert "Componentes" in es and "Components" in en
    assert "Last updated" in en and "Última actualización" in es
    assert "Next update by" in en


def test_headings_in_order_and_landmarks() -> None:
    html = file(site(), "index.html").decode()
    levels = [int(m) for m in re.findall(r"<h([1-6])", html)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    for landmark in ("<header", "<main", "<nav", "<footer"):
        assert landmark in html
    assert "https://" not in re.sub(r'href="https://status\.ledgerly\.example[^"]*"', "", html)  # no third party


def test_status_shown_with_text_and_icon_and_uptime_text() -> None:
    html = file(site(), "index.html").decode()
    assert '<b class="major_outage">Major outage</b>' in html
    css = next(f.body.decode() for f in site().files if f.path.startswith("assets/"))
    assert 'b.major_outage::before{content:"✖ " / ""}' in css  # icon, hidden from screen readers
    day = r"(1 day|[02-9]\d* days|1\d+ days) with (major outage|partial outage|degraded performance)"
    labels = re.findall(r'role="img" aria-label="([^"]+)"', html)
    assert labels and all(re.fullmatch(rf"\d+(\.\d\d?)?% uptime(; {day})*", label) for label in labels), labels
    assert any("; " in label for label in labels)  # the sample has bad days, each counted in words
    assert re.search(r"<small class=\"muted\">\d+(\.\d\d?)?% uptime", html)  # the percentage is visible too
    assert "Uptime over the last 90 days" in html and "Bar colors" in html
    es = file(site(), "es/index.html").decode()
    assert re.search(r"\d+(,\d\d?)? % de disponibilidad", es) and "1 días" not in es
    assert re.search(r"\b1 día con|\b\d+ días con", es)


def test_index_size_is_small() -> None:
    assert len(file(site(), "index.html")) < 60_000


NASTY = "<script>alert(1)</script> \"quoted\" 'single' {{ 7*7 }} {% if %} &amp;"


def test_everything_written_by_people_or_alarms_is_escaped() -> None:
    base = sample_history(rb(), NOW, past=3, active=1, maintenance=1, realistic=False)
    nasty = [
        i.model_copy(
            update={
                "name": {"en": NASTY, "es": NASTY},
                "updates": [u.model_copy(update={"body": {"en": NASTY, "es": NASTY}}) for u in i.updates],
            }
        )
        for i in base
    ]
    result = SiteRenderer(rb()).render(nasty, NOW)
    carrying = []
    for f in result.files:
        text = f.body.decode()
        assert "<script>alert" not in text, f.path  # HTML, XML and JSON alike
        if "7*7" in text:
            assert text.count("{{ 7*7 }}") == text.count("7*7"), f.path  # text, never evaluated
            carrying.append(f.path)
    assert {
        "index.html",
        "es/index.html",
        "history.atom",
        "history.rss",
        "api/v2/summary.json",
        "api/v2/incidents.json",
        "history/index.html",
    } <= set(carrying)
    assert sum(p.startswith(("incidents/", "es/incidents/")) for p in carrying) == 10
    summary = json.loads(file(result, "api/v2/incidents.json"))
    assert summary["incidents"][0]["name"] == NASTY  # JSON clients get the exact string back
    index = file(result, "index.html").decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; &#39;single&#39;" in index
    for ext in ("atom", "rss"):
        parsed = feedparser.parse(file(result, f"history.{ext}"))
        assert not parsed.bozo
        assert all("<script>" not in e.summary for e in parsed.entries)
        assert parsed.entries[0].title == NASTY  # a title is text: the reader gets it back exactly


def test_incremental_render_touches_only_what_changed() -> None:
    renderer = SiteRenderer(rb())
    history = sample_history(rb(), NOW, past=80, active=1, maintenance=0, realistic=False)
    first = renderer.render(history, NOW)
    assert first.rendered_incident_pages == 81
    later = NOW + timedelta(minutes=10)
    active = next(i for i in history if i.unresolved)
    changed = active.model_copy(
        update={
            "updated_at": later,
            "updates": [
                *active.updates,
                PageUpdate(id="new", status="identified", body={"en": "x", "es": "y"}, created_at=later),
            ],
        }
    )
    second = renderer.render([changed if i.id == active.id else i for i in history], later, first.state)
    assert second.rendered_incident_pages == 1
    # Its history row (name, status, start) did not change: no history page is rendered again.
    assert second.rendered_history_pages == 0
    paths = {f.path for f in second.files}
    assert f"incidents/{active.id}.html" in paths and f"es/incidents/{active.id}.html" in paths
    # Its status changes: exactly the page holding its row (the newest one) is rendered again.
    monitoring = changed.model_copy(update={"status": "monitoring", "updated_at": later + timedelta(minutes=1)})
    third = renderer.render(
        [monitoring if i.id == active.id else i for i in history], later + timedelta(minutes=1), second.state
    )
    assert third.rendered_history_pages == 1
    assert {f.path for f in third.files if "history/" in f.path} == {
        "history/4.html",
        "history/index.html",
        "es/history/4.html",
        "es/history/index.html",
    }
    paths = {f.path for f in third.files}
    assert not any(p.startswith("history/1.") for p in paths)


def test_history_pages_are_stable_and_linked() -> None:
    renderer = SiteRenderer(rb())
    history = sample_history(rb(), NOW, past=HISTORY_PAGE_SIZE * 2 + 3, active=0, maintenance=0, realistic=False)
    result = renderer.render(history, NOW)
    paths = {f.path for f in result.files}
    assert {"history/1.html", "history/2.html", "history/3.html", "history/index.html"} <= paths
    newest = file(result, "history/index.html").decode()
    rows = re.findall(r'incidents/([^"]+)\.html', newest)
    assert len(rows) == 3 and rows == re.findall(r'incidents/([^"]+)\.html', file(result, "history/3.html").decode())
    assert 'href="../history/2.html"' in newest
    page1 = file(result, "history/1.html").decode()
    assert 'href="../history/2.html"' in page1 and "Older incidents" not in page1
    # A new incident changes the newest page only.
    later = NOW + timedelta(hours=1)
    extra = history[-1].model_copy(
        update={"id": "core-new", "started_at": later, "created_at": later, "updated_at": later}
    )
    again = renderer.render([*history, extra], later, result.state)
    assert again.rendered_history_pages == 1  # page 3 (in both languages)


def test_chrome_change_renders_everything_again() -> None:
    history = sample_history(rb(), NOW, past=10, active=0, maintenance=0, realistic=False)
    first = SiteRenderer(rb()).render(history, NOW)
    settings = rb().settings.model_copy(update={"page": rb().settings.page.model_copy(update={"name": "Other"})})
    again = SiteRenderer(rb().model_copy(update={"settings": settings})).render(history, NOW, first.state)
    assert again.rendered_incident_pages == 10
    assert RenderState.from_json(first.state.to_json()) == first.state


def test_provider_may_be_named_on_the_status_page() -> None:
    # The card-payments component's provider appears in status-page text rendered from templates.
    assert rb().component("card-payments").provider == "Paybridge"
    page = PageIncident(
        id="p1",
        name={"en": "Card payments", "es": "Pagos"},
        status="identified",
        impact="major",
        components={"card-payments": ComponentStatus.MAJOR_OUTAGE},
        created_at=NOW,
        updated_at=NOW,
        started_at=NOW,
        updates=[
            PageUpdate(
                id="u",
                status="identified",
                body={"en": "Paybridge is failing", "es": "Paybridge falla"},
                created_at=NOW,
            )
        ],
    )
    html = file(SiteRenderer(rb()).render([page], NOW), "incidents/p1.html").decode()
    assert "Paybridge is failing" in html


def _visible(html: str) -> str:
    html = re.sub(r"<svg.*?</svg>|<[^>]+>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize(("lang", "zone"), [("en", "EST"), ("es", "(hora de Colombia)")])
def test_every_time_in_the_languages_zone_with_its_name(lang: str, zone: str) -> None:
    prefix = "" if lang == "en" else "es/"
    pages = [f for f in site().files if f.path.endswith(".html") and f.path.startswith(prefix + "incidents/")][:5]
    for f in [*pages, next(f for f in site().files if f.path == prefix + "index.html")]:
        text = _visible(f.body.decode())
        assert not re.search(r"\d{4}-\d\d-\d\d|\d\d:\d\d UTC", text), f.path  # no machine timestamps
        assert zone in text and "data-local" not in f.body.decode() and "<script" not in f.body.decode()
    footer = _visible(file(site(), prefix + "index.html").decode())
    assert ("Time zone: Eastern Time" if lang == "en" else "Zona horaria: hora de Colombia") in footer


def test_incident_page_is_headed_by_its_title() -> None:
    page = next(f for f in site().files if f.path.startswith("incidents/"))
    html = page.body.decode()
    title = re.search(r"<title>(.*?) · ", html)
    assert title and re.search(rf"<h2[^>]*>{re.escape(title.group(1))}</h2>", html)
    assert re.search(r"<p>Status: <strong>(Resolved|Investigating|Identified|Monitoring)</strong></p>", html)


def test_live_incident_shows_when_the_next_update_comes() -> None:
    runbook = rb()
    start = NOW - timedelta(minutes=20)
    live = PageIncident(
        id="core-live",
        name={"en": "Slow sign-in", "es": "Inicio de sesión lento"},
        status="investigating",
        impact="major",
        components={"login": ComponentStatus.PARTIAL_OUTAGE},
        created_at=start,
        updated_at=start,
        started_at=start,
        next_update_at=NOW + timedelta(minutes=40),
        updates=[
            PageUpdate(id="u1", status="investigating", body={"en": "Looking.", "es": "Revisando."}, created_at=start)
        ],
    )
    result = SiteRenderer(runbook).render([live], NOW)
    en = _visible(file(result, "incidents/core-live.html").decode())
    es = _visible(file(result, "es/incidents/core-live.html").decode())
    assert "Next update by Nov 23, 2026, 9:45 AM EST" in en
    assert "Próxima actualización antes del 23 de noviembre de 2026, 9:45 a. m. (hora de Colombia)" in es


def _window(status: str, *, cancelled: bool = False, ran: bool = False) -> PageIncident:
    start, end = NOW + timedelta(days=1), NOW + timedelta(days=1, hours=2)
    updates = [PageUpdate(id="s", status="scheduled", body={"en": "Planned.", "es": "Programado."}, created_at=NOW)]
    if ran:
        updates.append(PageUpdate(id="p", status="in_progress", body={"en": "On.", "es": "En curso."}, created_at=NOW))
    if status == "completed":
        updates.append(PageUpdate(id="c", status="completed", body={"en": "Off.", "es": "Fin."}, created_at=NOW))
    return PageIncident(
        id="maint-login",
        kind=IncidentKind.MAINTENANCE,
        name={"en": "Login upgrade", "es": "Actualización del inicio de sesión"},
        status=status,
        impact="maintenance",
        components={"login": ComponentStatus.UNDER_MAINTENANCE},
        created_at=NOW,
        updated_at=NOW,
        started_at=start,
        resolved_at=NOW if status == "completed" else None,
        scheduled_for=start,
        scheduled_until=end,
        cancelled=cancelled,
        updates=updates,
    )


@pytest.mark.parametrize(
    ("window", "started"),
    [
        (_window("scheduled"), False),  # upcoming: it has not started
        (_window("completed", cancelled=True), False),  # called off before its start: it never did
        (_window("completed", cancelled=True, ran=True), True),  # called off while it ran
        (_window("completed", ran=True), True),
    ],
)
def test_a_window_says_started_only_once_it_has(window: PageIncident, started: bool) -> None:
    result = SiteRenderer(rb()).render([window], NOW)
    en = _visible(file(result, "incidents/maint-login.html").decode())
    es = _visible(file(result, "es/incidents/maint-login.html").decode())
    assert ("Started:" in en) is started and ("Inicio:" in es) is started
    assert "Scheduled: Nov 24, 2026, 9:05 AM EST to Nov 24, 2026, 11:05 AM EST" in en  # the window, always
