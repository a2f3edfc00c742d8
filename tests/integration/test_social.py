"""Mastodon and Bluesky deliveries against loopback servers that follow each API's documented shapes:
what is posted, idempotency across retries and lost answers, limits, errors, routes, drills."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from clarion.adapters.social import Bluesky, Mastodon, SocialDelivery, link_facets, record_key
from clarion.domain.enums import ComponentStatus, Phase, Severity
from clarion.domain.errors import ChannelError
from clarion.domain.incident import Incident
from clarion.domain.messaging.drafts import EditProblem, apply_edits, build_draft
from clarion.domain.messaging.social import graphemes, social_limit
from clarion.domain.runbooks.lint import lint
from clarion.domain.runbooks.model import BlueskyDelivery, Deliveries, MastodonDelivery, Runbook, Settings
from clarion.domain.workflow.manual import declare_incident, update_incident
from clarion.domain.workflow.service import route_reaches_customers
from clarion.local.social import SocialServer

from tests.fakes.pipeline import FakePipeline

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def incident(**kw: Any) -> Incident:
    return Incident(
        id="payments-1",
        group="payments",
        title={"en": "Checkout", "es": "Pago"},
        severity=Severity.SEV1,
        components={"checkout-api": ComponentStatus.MAJOR_OUTAGE},
        started_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        version=1,
        **kw,
    )


@pytest.fixture
def server() -> Iterator[SocialServer]:
    fake = SocialServer().start()
    yield fake
    fake.stop()


def with_social(runbook: Runbook, server: SocialServer, **extra: Any) -> Runbook:
    deliveries = Deliveries(
        mastodon=MastodonDelivery(instance_url=server.url, token_secret="clarion/mastodon", **extra),
        bluesky=BlueskyDelivery(service_url=server.url, handle=server.handle, app_password_secret="clarion/bluesky"),
    )
    settings = runbook.settings.model_copy(update={"deliveries": deliveries})
    return runbook.model_copy(update={"settings": settings})


def secrets(server: SocialServer) -> Any:
    return lambda name: {"clarion/mastodon": server.token, "clarion/bluesky": server.app_password}[name]


def delivery(rb: Runbook, server: SocialServer) -> SocialDelivery:
    d = rb.settings.deliveries
    assert d.mastodon and d.bluesky
    return SocialDelivery(Mastodon(d.mastodon, secrets(server)), Bluesky(d.bluesky, secrets(server), lambda: NOW))


def test_draft_routes_one_post_per_network_and_language(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server, languages=["en", "es"])
    draft = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW)
    assert [r for r in draft.routes if r.startswith("social:")] == [
        "social:mastodon:en",
        "social:mastodon:es",
        "social:bluesky:en",  # default: the default language only
    ]
    assert all(route_reaches_customers(r) for r in draft.routes if r.startswith("social:"))


def test_mastodon_posts_the_social_text_once(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    draft = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW)
    social = delivery(rb, server)
    url = social.deliver("social:mastodon:en", draft, incident())
    (status,) = server.statuses
    assert url == status["url"] and re.fullmatch(rf"{server.url}/@ledgerly/\d+", url)
    expected = next(m.body for m in draft.messages if m.channel.value == "social" and m.language == "en")
    assert status["text"] == expected and status["visibility"] == "public" and status["language"] == "en"
    # The same route again (a retry after a timeout): the Idempotency-Key returns the first post.
    assert social.deliver("social:mastodon:en", draft, incident()) == url
    assert len(server.statuses) == 1


def test_mastodon_lost_answer_is_retried_without_a_second_post(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    draft = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW)
    social = delivery(rb, server)
    server.lose_answer_once = True
    with pytest.raises(ChannelError) as lost:
        social.deliver("social:mastodon:en", draft, incident())
    assert lost.value.transient  # the workflow retries with backoff
    social.deliver("social:mastodon:en", draft, incident())
    assert len(server.statuses) == 1


@pytest.mark.parametrize(("status", "transient"), [(429, True), (503, True), (401, False), (422, False)])
def test_errors_are_transient_or_permanent(
    runbook: Runbook, server: SocialServer, status: int, transient: bool
) -> None:
    rb = with_social(runbook, server)
    draft = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW)
    server.fail_next = [status, status]
    for route in ("social:mastodon:en", "social:bluesky:en"):
        with pytest.raises(ChannelError) as failed:
            delivery(rb, server).deliver(route, draft, incident())
        assert failed.value.transient is transient and f"HTTP {status}" in str(failed.value)


def test_wrong_credentials_are_permanent_and_say_so(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    draft = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW)
    d = rb.settings.deliveries
    assert d.mastodon and d.bluesky
    wrong = SocialDelivery(Mastodon(d.mastodon, lambda _: "nope"), Bluesky(d.bluesky, lambda _: "nope", lambda: NOW))
    with pytest.raises(ChannelError, match=r"HTTP 401 \(The access token is invalid\)") as m:
        wrong.deliver("social:mastodon:en", draft, incident())
    with pytest.raises(ChannelError, match=r"HTTP 401 \(Invalid identifier or password\)") as b:
        wrong.deliver("social:bluesky:en", draft, incident())
    assert not m.value.transient and not b.value.transient
    assert server.statuses == [] and server.records == {}


def test_bluesky_creates_a_session_then_a_post_with_link_facets(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    draft = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW)
    uri = delivery(rb, server).deliver("social:bluesky:en", draft, incident())
    ((rkey, rec),) = server.records.items()
    assert uri == f"at://{server.did}/app.bsky.feed.post/{rkey}" == rec["uri"]
    record = rec["record"]
    expected = next(m.body for m in draft.messages if m.channel.value == "social" and m.language == "en")
    assert record["text"] == expected and record["langs"] == ["en"] and record["createdAt"] == "2026-11-23T14:00:00Z"
    assert "https://status.ledgerly.example/incidents/payments-1.html" in [
        f["features"][0]["uri"] for f in record.get("facets", [])
    ]
    did = server.did.replace(":", "%3A")
    assert [p for _, p in server.requests] == [
        "/xrpc/com.atproto.server.createSession",
        f"/xrpc/com.atproto.repo.getRecord?repo={did}&collection=app.bsky.feed.post&rkey={rkey}",
        "/xrpc/com.atproto.repo.createRecord",
    ]


def test_bluesky_lost_answer_returns_the_first_post(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    draft = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW)
    social = delivery(rb, server)
    server.lose_answer_once = True
    with pytest.raises(ChannelError) as lost:
        social.deliver("social:bluesky:en", draft, incident())
    assert lost.value.transient
    uri = social.deliver("social:bluesky:en", draft, incident())
    assert len(server.records) == 1 and uri == next(iter(server.records.values()))["uri"]
    # Another draft of the same incident is another post.
    other = build_draft(rb, incident(), Phase.UPDATE, "update-1", NOW)
    social.deliver("social:bluesky:en", other, incident())
    assert len(server.records) == 2


def test_posts_over_the_limit_are_refused_before_any_call(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    draft = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW)
    long = "🇪🇸" * 301  # 301 flags: 602 code points, 301 graphemes
    assert graphemes(long) == 301
    edited = draft.model_copy(
        update={
            "messages": [
                m.model_copy(update={"body": long}) if m.channel.value == "social" else m for m in draft.messages
            ]
        }
    )
    with pytest.raises(ChannelError, match="301 characters, over bluesky's limit of 300") as too_long:
        delivery(rb, server).deliver("social:bluesky:en", edited, incident())
    assert not too_long.value.transient
    assert delivery(rb, server).deliver("social:mastodon:en", edited, incident())  # 301 <= 500
    assert server.records == {}


def test_approver_edits_and_the_lint_respect_the_strictest_network(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    assert social_limit(rb.settings.deliveries) == 300
    assert social_limit(Deliveries(mastodon=rb.settings.deliveries.mastodon)) == 500
    assert social_limit(Deliveries()) is None
    draft = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW)
    with pytest.raises(EditProblem, match="at most 300"):
        apply_edits(draft, {"customers/social/en": "x" * 301}, 2, social_limit=social_limit(rb.settings.deliveries))
    assert apply_edits(draft, {"customers/social/en": "é" * 300}, 2, social_limit=300).edits
    # The shipped templates fit Bluesky; a long one is reported with its file and the network.
    assert not [p for p in lint(rb) if "characters, over" in p.message]
    templates = {**rb.templates}
    es = {**templates["es"]}
    phase = es[Phase.UPDATE]
    long = phase["customers"]["social"].model_copy(update={"body": "Seguimos trabajando. " * 20})  # type: ignore[index]
    es[Phase.UPDATE] = {**phase, "customers": {**phase["customers"], "social": long}}  # type: ignore[index]
    templates["es"] = es
    found = [p for p in lint(rb.model_copy(update={"templates": templates})) if "characters, over" in p.message]
    assert [(p.section, p.loc) for p in found] == [("templates/es/update", ("customers", "social", "body"))]
    assert "over bluesky's limit of 300" in found[0].message


def test_link_facets_count_utf8_bytes() -> None:
    text = "Pago en línea: más información en https://status.example/x.html."
    (facet,) = link_facets(text)
    raw = text.encode()
    assert raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode() == "https://status.example/x.html"


def test_record_keys_are_valid_tids_and_stable() -> None:
    key = record_key("a" * 64)
    assert re.fullmatch(r"[234567abcdefghij][234567a-z]{12}", key) and key == record_key("a" * 64)
    assert record_key("b" * 64) != key


def test_social_config_is_validated(runbook: Runbook) -> None:
    with pytest.raises(ValueError, match="instance_url"):
        MastodonDelivery(instance_url="http://mastodon.example", token_secret="t")
    MastodonDelivery(instance_url="http://127.0.0.1:8080", token_secret="t")
    with pytest.raises(ValueError, match="not in languages"):
        bluesky = {"handle": "x.example", "app_password_secret": "s", "languages": ["fr"]}
        Settings.model_validate(runbook.settings.model_dump() | {"deliveries": {"bluesky": bluesky}})


def _service(rb: Runbook, server: SocialServer, drill: bool) -> Any:
    from clarion.domain.incident import Change, IncidentWrite
    from clarion.domain.workflow.service import WorkflowService, WorkflowSettings

    from tests.fakes.channels import RecordingMailer, RecordingNotifier
    from tests.fakes.store import InMemoryIncidentStore
    from tests.fakes.workflow import RecordingWorkflow
    from tests.fakes.workflow_store import InMemoryWorkflowStore

    store = InMemoryIncidentStore()
    store.commit(Change(incidents=[IncidentWrite(incident=incident(drill=drill), expected_version=0)]))
    return WorkflowService(
        runbook=rb,
        store=store,
        wstore=InMemoryWorkflowStore(),
        notifier=RecordingNotifier(),
        mailer=RecordingMailer(),
        deliveries={"social": delivery(rb, server)},
        workflow=RecordingWorkflow(),  # type: ignore[arg-type]
        key=lambda: b"k" * 48,
        settings=WorkflowSettings(approval_base_url="https://a.example"),
        clock=lambda: NOW,
        sleep=lambda _: None,
    )


def _approve(service: Any, draft_id: str) -> None:
    draft = service.wstore.get_draft("payments-1", draft_id)
    service.wstore.save_draft(draft.model_copy(update={"status": "approved", "approved_by": "amara@example"}))


def test_workflow_posts_each_social_route_once_and_never_a_drill(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    service = _service(rb, server, drill=False)
    draft = service.draft("payments-1", "investigating", "d1")
    social = [r for r in draft["routes"] if r.startswith("social:")]
    assert social == ["social:mastodon:en", "social:bluesky:en"]
    assert service.publish_route("payments-1", "d1", social[0])["status"] == "refused"  # nobody approved it yet
    _approve(service, "d1")
    for route in social:
        assert service.publish_route("payments-1", "d1", route)["status"] == "sent"
        assert service.publish_route("payments-1", "d1", route)["status"] == "already_sent"
    assert len(server.statuses) == 1 and len(server.records) == 1
    sent = [e for e in service.store.timeline("payments-1") if e.kind == "message_sent"]
    # The outbox shows what was posted: the English social text on each network.
    assert sorted((e.data["route"], [m["language"] for m in e.data["messages"]]) for e in sent) == [
        ("social:bluesky:en", ["en"]),
        ("social:mastodon:en", ["en"]),
    ]

    drill = _service(rb, server, drill=True)
    drill.draft("payments-1", "investigating", "d1")
    _approve(drill, "d1")
    for route in social:
        assert drill.publish_route("payments-1", "d1", route)["status"] == "drill_suppressed"
    assert len(server.statuses) == 1 and len(server.records) == 1


# -- the audience ledger: social routes hear only what the rule lets them hear -----------------------


def _declare(p: FakePipeline, severity: Severity, *, drill: bool = False) -> str:
    inc = declare_incident(
        p.runbook,
        p.store,
        p.workflow,
        title={"en": "Card payments failing", "es": "Fallan los pagos con tarjeta"},
        components=["checkout-api"],
        status=ComponentStatus.PARTIAL_OUTAGE,
        severity=severity,
        actor="cli:test",
        now=p.clock(),
        drill=drill,
    )
    p.service.open(inc.id)
    return inc.id


def _posted(p: FakePipeline, server: SocialServer) -> FakePipeline:
    """The pipeline's social route through the real delivery, posting to the loopback networks."""
    p.service.deliveries["social"] = delivery(p.runbook, server)
    return p


def test_social_opening_goes_only_where_the_policy_names_social(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    p = _posted(FakePipeline(rb), server)
    inc = _declare(p, Severity.SEV3)  # SEV3's channels: status page, email, chat
    p.phase(inc, Phase.INVESTIGATING, "investigating", "approve")
    draft = p.wstore.get_draft(inc, "investigating")
    assert draft is not None and not [r for r in draft.routes if r.startswith("social:")]
    p.resolve(inc)
    # The page and email heard of it; the social accounts never did, so they hear nothing of the end.
    resolved = p.wstore.get_draft(inc, "resolved")
    assert resolved is not None and not [r for r in resolved.routes if r.startswith("social:")]
    assert server.statuses == [] and server.records == {}


def test_social_added_by_a_severity_raise_first_posts_an_opening(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    p = _posted(FakePipeline(rb), server)
    inc = _declare(p, Severity.SEV3)
    p.phase(inc, Phase.INVESTIGATING, "investigating", "approve")
    update_incident(p.store, p.workflow, inc, actor="cli:test", now=p.clock(), severity=Severity.SEV1, publish=False)
    info = p.service.draft(inc, "update", "update-1")
    assert info["approval_required"]  # the accounts' first post is an opening: a person approves it
    draft = p.wstore.get_draft(inc, "update-1")
    assert draft is not None
    assert {"social:mastodon:en", "social:bluesky:en"} <= set(draft.opening_routes)
    assert p.phase(inc, Phase.UPDATE, "update-1", "approve") == "approved"
    (status,) = server.statuses
    (record,) = server.records.values()
    opening = draft.for_route("social:mastodon:en")
    assert opening.phase is Phase.INVESTIGATING and all(m.opening for m in opening.messages)
    body = opening.messages[0].body
    assert record["record"]["text"] == body and body.startswith("We're investigating a problem affecting Checkout")
    assert status["content"] == f"<p>{body}</p>"  # Mastodon answers with the post as HTML
    p.resolve(inc)  # pre-approved: it follows the opening the accounts posted
    assert len(server.statuses) == 2 and len(server.records) == 2
    assert "resolved" in server.statuses[-1]["content"].lower()


def test_social_never_hears_of_a_rejected_opening_nor_its_resolution(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    p = _posted(FakePipeline(rb), server)
    inc = _declare(p, Severity.SEV1)
    assert p.phase(inc, Phase.INVESTIGATING, "investigating", "reject") == "rejected"
    p.resolve(inc)
    assert server.statuses == [] and server.records == {}
    # A late or replayed step cannot force a post either.
    for route in ("social:mastodon:en", "social:bluesky:en"):
        assert p.service.publish_route(inc, "resolved", route)["status"] == "refused"
        assert p.service.publish_route(inc, "investigating", route)["status"] == "refused"
    assert server.statuses == [] and server.records == {}


def test_social_approved_opening_then_pre_approved_resolution(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    p = _posted(FakePipeline(rb), server)
    inc = _declare(p, Severity.SEV1)
    assert p.phase(inc, Phase.INVESTIGATING, "investigating", "approve") == "approved"
    assert len(server.statuses) == 1 and len(server.records) == 1
    assert p.resolve(inc) == "pre-approved"
    assert len(server.statuses) == 2 and len(server.records) == 2
    told = {t.route for t in p.store.ledger(inc).entries if t.route.startswith("social:")}
    assert told == {"social:mastodon:en", "social:bluesky:en"}


def test_social_drill_posts_nothing_whatever_is_approved(runbook: Runbook, server: SocialServer) -> None:
    rb = with_social(runbook, server)
    p = _posted(FakePipeline(rb), server)
    inc = _declare(p, Severity.SEV1, drill=True)
    p.phase(inc, Phase.INVESTIGATING, "investigating", "approve")
    p.resolve(inc)
    assert server.statuses == [] and server.records == {}
    kinds = [e.kind for e in p.store.timeline(inc)]
    assert kinds.count("drill_suppressed") >= 2
