"""Who hears what, as a property of the whole pipeline (docs/design.md, decision 10).

Random sequences of: open (any severity, drill or not) / approve / reject / approval timeout (each
policy action: holding statement, escalation answered or not, hold) / regular update / manual update
/ severity raise / resolve / post-incident report / check-in / maintenance schedule, start,
completion / cancel, with steps repeated and replayed out of order. The oracle reads every delivered
message and every public file:

* no route receives anything about an incident it was never told of (the first message on a route
  is an opening);
* nothing a person rejected, and nothing held, is ever delivered;
* every message (incident, draft, route) is sent once;
* no public artifact (each page publish; the whole rendered site, HTML in every language, JSON,
  feeds, history) shows a drill or an incident the page was never told of;
* drills never take a customer route and every message of a drill says so;
* a pre-approved resolution reaches exactly the routes that were told;
* a check-in is planned only where a route besides the page was told, never for a drill, and never
  updates the page; a post-incident report is accepted only where the page was told (never a drill),
  and no feedback form appears on the page of an incident the page was never told of;
* the Mastodon and Bluesky routes (``social:<network>:<language>``) obey all of the above.

Runs on the in-memory fakes here; ``test_who_hears_what_emulator.py`` runs shorter sequences on the
emulator with the real state machine.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from clarion.domain.enums import ComponentStatus, IncidentStatus, Phase, Severity
from clarion.domain.errors import ClarionError
from clarion.domain.runbooks.model import BlueskyDelivery, MastodonDelivery, Runbook
from clarion.domain.workflow.after_incident import submit_report
from clarion.domain.workflow.manual import (
    cancel_maintenance,
    declare_incident,
    resolve_incident,
    schedule_maintenance,
    update_incident,
)
from clarion.domain.workflow.service import route_reaches_customers
from clarion.runbook_loader import load_runbook
from clarion.status_page.render import FeedbackForms, SiteRenderer
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import RUNBOOKS
from tests.fakes.pipeline import Decision, FakePipeline
from tests.property.conftest import FAKE_EXAMPLES, sized


def _with_social(runbook: Runbook) -> Runbook:
    """The sample runbook with Mastodon (English) and Bluesky (both languages) accounts: their routes
    obey the same rule as every other route."""
    deliveries = runbook.settings.deliveries.model_copy(
        update={
            "mastodon": MastodonDelivery(instance_url="https://mastodon.example", token_secret="m"),
            "bluesky": BlueskyDelivery(handle="status.example", app_password_secret="b", languages=["en", "es"]),
        }
    )
    return runbook.model_copy(update={"settings": runbook.settings.model_copy(update={"deliveries": deliveries})})


RUNBOOK: Runbook = _with_social(load_runbook(RUNBOOKS))
GROUPS = {"core": "login", "payments": "checkout-api", "regions": "eu-region"}
OPENING_TEXTS = {Phase.INVESTIGATING, Phase.IDENTIFIED, Phase.MONITORING, Phase.MAINTENANCE_SCHEDULED}
RAN = Counter[str]()  # sequences run, reported at the end of the session

decisions = st.sampled_from(["approve", "reject", "timeout"])
severities = st.sampled_from(list(Severity))
groups = st.sampled_from(sorted(GROUPS))
steps = st.one_of(
    st.tuples(st.just("open"), groups, severities, st.booleans(), decisions, decisions),
    st.tuples(st.just("update"), groups, decisions, st.sampled_from(["regular", "identified", "monitoring"])),
    st.tuples(st.just("raise"), groups, severities, decisions),
    st.tuples(st.just("resolve"), groups, decisions),
    st.tuples(st.just("report"), st.integers(0, 5), decisions),
    st.tuples(st.just("checkin"), st.integers(0, 5), decisions),
    st.tuples(st.just("schedule"), groups, st.integers(0, 2)),
    st.tuples(st.just("cancel"), st.integers(0, 3)),
    st.tuples(st.just("replay"), st.integers(0, 30)),
    st.tuples(st.just("repeat_last"), st.just(0)),
)


@dataclass
class World:
    """The pipeline on fakes, and what the oracle knows independently of it."""

    p: FakePipeline
    titles: dict[str, str] = field(default_factory=dict)  # incident -> its unique title
    refused: set[tuple[str, str]] = field(default_factory=set)  # (incident, draft) a person rejected or held
    maintenance: list[str] = field(default_factory=list)
    drafts: list[tuple[str, str]] = field(default_factory=list)
    resolutions: dict[str, set[str]] = field(default_factory=dict)  # incident -> routes told before it
    checkins: dict[str, int] = field(default_factory=dict)  # incident -> seconds until its check-in (0: none)
    reports: set[str] = field(default_factory=set)  # incidents whose report was accepted
    counter: int = 0
    last: tuple[Any, ...] | None = None

    def open_incident(self, group: str) -> str | None:
        return self.p.store.get_open_incident_id(group)

    def run_phase(self, incident_id: str, phase: Phase, draft_id: str, decision: Decision, esc: Decision) -> str:
        outcome = self.p.phase(incident_id, phase, draft_id, decision, esc)
        self.drafts.append((incident_id, draft_id))
        if outcome in ("rejected", "held"):
            self.refused.add((incident_id, draft_id))
        return outcome

    def told(self, incident_id: str) -> set[str]:
        return {d.route for d in self.p.delivered if d.incident_id == incident_id}

    def step(self, s: tuple[Any, ...]) -> None:
        kind = s[0]
        p = self.p
        try:
            if kind == "open":
                _, group, severity, drill, decision, esc = s
                self.counter += 1
                title = f"Incident token{self.counter:03d}x"
                inc = declare_incident(
                    RUNBOOK,
                    p.store,
                    p.workflow,
                    title={"en": title, "es": title},
                    components=[GROUPS[group]],
                    status=ComponentStatus.PARTIAL_OUTAGE,
                    severity=severity,
                    actor="cli:prop",
                    now=p.clock(),
                    drill=drill,
                )
                self.titles[inc.id] = title
                p.service.open(inc.id)
                self.run_phase(inc.id, Phase.INVESTIGATING, "investigating", decision, esc)
            elif kind in ("update", "raise"):
                group = s[1]
                inc_id = self.open_incident(group)
                if inc_id is None:
                    return
                self.counter += 1
                if kind == "raise":
                    _, _, severity, decision = s
                    _, draft_id = update_incident(
                        p.store, p.workflow, inc_id, actor="cli:prop", now=p.clock(), severity=severity
                    )
                elif s[3] == "regular":
                    decision = s[2]
                    draft_id = f"update-{self.counter}"
                else:
                    decision = s[2]
                    _, draft_id = update_incident(
                        p.store, p.workflow, inc_id, actor="cli:prop", now=p.clock(), status=IncidentStatus(s[3])
                    )
                assert draft_id is not None
                self.run_phase(inc_id, Phase.UPDATE, draft_id, decision, "approve")
            elif kind == "resolve":
                _, group, decision = s
                inc_id = self.open_incident(group)
                if inc_id is None:
                    return
                resolve_incident(p.store, p.workflow, inc_id, actor="cli:prop", now=p.clock())
                self.resolutions.setdefault(inc_id, self.told(inc_id))
                p.service.resolve(inc_id)
                self.run_phase(inc_id, Phase.RESOLVED, "resolved", decision, "approve")
                self.checkins[inc_id] = p.service.postmortem(inc_id)["checkin_seconds"]
            elif kind in ("report", "checkin"):
                # After resolution, whatever happened before: the report a person submits, or the
                # check-in step (run even where the workflow would not plan one, as a late step would).
                incidents = [i for i in self.titles if i not in self.maintenance]
                if not incidents:
                    return
                inc_id, decision = incidents[s[1] % len(incidents)], s[2]
                self.counter += 1
                if kind == "report":
                    texts = {"en": "## What happened\n\nA bad deploy.", "es": "## Qué ocurrió\n\nUn despliegue."}
                    draft_id = submit_report(
                        RUNBOOK, p.store, p.wstore, p.workflow, inc_id, texts, actor="cli:prop", now=p.clock()
                    )
                    self.reports.add(inc_id)
                    self.run_phase(inc_id, Phase.POSTMORTEM, draft_id, decision, "approve")
                else:
                    self.run_phase(inc_id, Phase.CHECKIN, f"checkin-{self.counter}", decision, "approve")
            elif kind == "schedule":
                _, group, advance = s
                now = p.clock()
                self.counter += 1
                title = f"Maintenance token{self.counter:03d}x"
                m = schedule_maintenance(
                    RUNBOOK,
                    p.store,
                    p.workflow,
                    title={"en": title, "es": title},
                    components=[GROUPS[group]],
                    start=now + timedelta(hours=1),
                    end=now + timedelta(hours=2),
                    actor="cli:prop",
                    now=now,
                )
                self.titles[m.id] = title
                self.maintenance.append(m.id)
                for phase, draft_id in [
                    (Phase.MAINTENANCE_SCHEDULED, "maintenance-scheduled"),
                    (Phase.MAINTENANCE_IN_PROGRESS, "maintenance-in-progress"),
                    (Phase.MAINTENANCE_COMPLETED, "maintenance-completed"),
                ][: advance + 1]:
                    p.service.maintenance_phase(m.id, phase.value)
                    self.run_phase(m.id, phase, draft_id, "approve", "approve")
            elif kind == "cancel":
                if not self.maintenance:
                    return
                m_id = self.maintenance[s[1] % len(self.maintenance)]
                with contextlib.suppress(ClarionError):  # a second cancel: the workflow may still run again
                    cancel_maintenance(p.store, p.workflow, m_id, actor="cli:prop", now=p.clock())
                self.run_phase(m_id, Phase.MAINTENANCE_CANCELLED, "maintenance-cancelled", "approve", "approve")
            elif kind == "replay" and self.drafts:
                # A step repeated late, or out of order: every route of an earlier draft, and every
                # route there is, published again.
                inc_id, draft_id = self.drafts[s[1] % len(self.drafts)]
                draft = p.wstore.get_draft(inc_id, draft_id)
                assert draft is not None
                for route in [*draft.routes, "status_page", "sns:customers", "sns:technical", "email:support"]:
                    p.service.publish_route(inc_id, draft_id, route)
            elif kind == "repeat_last" and self.last is not None:
                self.step(self.last)
        except ClarionError:
            pass  # what a person is told is wrong (e.g. resolving twice) is not the oracle's business
        if kind != "repeat_last":
            self.last = s

    # --- the oracle --------------------------------------------------------------------------------

    def check(self) -> None:
        p = self.p
        sends = Counter((d.incident_id, d.draft_id, d.route) for d in p.delivered)
        assert max(sends.values(), default=1) == 1, f"sent more than once: {sends.most_common(1)}"
        first_phase: dict[tuple[str, str], Phase] = {}
        for d in p.delivered:
            first_phase.setdefault((d.incident_id, d.route), d.phase)
            assert (d.incident_id, d.draft_id) not in self.refused, f"{d.draft_id} was rejected or held: {d}"
            incident = p.store.get_incident(d.incident_id)
            assert incident is not None
            if incident.drill:
                assert not route_reaches_customers(d.route), f"a drill reached customers: {d}"
                assert all(b.startswith("[DRILL] ") for b in d.bodies), d
        for (inc_id, route), phase in first_phase.items():
            assert phase in OPENING_TEXTS, f"{route} first heard of {inc_id} through a {phase.value} message"
        public = {d.incident_id for d in p.delivered if d.route == "status_page"}
        for snapshot in p.pages:
            shown = {i.id for i in snapshot}
            assert shown <= public, f"on the page without being told: {shown - public}"
        for inc_id, before in self.resolutions.items():
            resolved = p.wstore.get_draft(inc_id, "resolved")
            if resolved is not None and not resolved.approval_required and (inc_id, "resolved") not in self.refused:
                got = {d.route for d in p.delivered if d.incident_id == inc_id and d.draft_id == "resolved"}
                assert got == before, f"resolution of {inc_id} went to {got}, told were {before}"
        for inc_id, seconds in self.checkins.items():
            incident = p.store.get_incident(inc_id)
            assert incident is not None
            beyond_page = {r for r in self.resolutions[inc_id] if r != "status_page"}
            if incident.drill or not beyond_page:
                assert seconds == 0, f"a check-in planned for {inc_id} (drill or nobody told beyond the page)"
        for d in p.delivered:
            assert not (d.phase is Phase.CHECKIN and d.route == "status_page"), f"a check-in on the page: {d}"
        for inc_id in self.reports:
            incident = p.store.get_incident(inc_id)
            assert incident is not None and not incident.drill, f"a report accepted for the drill {inc_id}"
            assert inc_id in public, f"a report accepted for {inc_id}, which the page was never told of"
        for inc_id, text in p.notifier.notices:
            incident = p.store.get_incident(inc_id)
            assert incident is not None
            if incident.drill:
                assert text.startswith("[DRILL] "), text
        # The whole site, rendered from what the page loads: every file, every language.
        forms = FeedbackForms("https://feedback.example", lambda: b"k" * 48)
        site = SiteRenderer(RUNBOOK, forms).render(p.load_page(), p.now, force=True)
        hidden = {t for i, t in self.titles.items() if i not in public}
        hidden_ids = {i for i in self.titles if i not in public}
        for f in site.files:
            text = f.body.decode("utf-8", "replace")
            for needle in hidden | hidden_ids:
                assert needle not in text, f"{f.path} mentions {needle!r}, which was never public"


@sized(FAKE_EXAMPLES)
@given(st.lists(steps, min_size=1, max_size=14))
def test_who_hears_what_on_the_fakes(sequence: list[tuple[Any, ...]]) -> None:
    world = World(FakePipeline(RUNBOOK))
    for s in sequence:
        world.step(s)
    world.check()
    RAN["fakes"] += 1
    RAN["with a social post"] += any(d.route.startswith("social:") for d in world.p.delivered)


def test_zz_report_sequences_run() -> None:
    """Prints how many sequences ran (``pytest -s`` shows it; the closing note quotes it)."""
    print(f"\nwho-hears-what sequences run: {dict(RAN)}")
    assert RAN["fakes"] >= 1
