"""Feedback on updates: scanner GETs, replays, forged tokens, floods, comments with HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from clarion.domain.enums import Phase
from clarion.domain.feedback.collect import RATE_LIMIT, FeedbackCollector, Outcome
from clarion.domain.feedback.model import COMMENT_MAX, clean_comment, counts
from clarion.domain.feedback.tokens import TOKEN_TTL, issue, link, reader_tag, verify
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.feedback_store import InMemoryFeedbackStore

KEY = b"k" * 48
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def _fields(update: str = "investigating", reader: str = "") -> dict[str, str]:
    return issue(KEY, "payments-1", update, Phase.INVESTIGATING, "en", NOW, reader=reader)


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
def store() -> InMemoryFeedbackStore:
    return InMemoryFeedbackStore()


@pytest.fixture
def collector(store: InMemoryFeedbackStore, clock: list[datetime]) -> FeedbackCollector:
    return FeedbackCollector(store=store, key=lambda: KEY, clock=lambda: clock[0])


def test_a_post_counts_once_and_shows_in_the_counts(collector: FeedbackCollector, store: InMemoryFeedbackStore) -> None:
    result = collector.submit({**_fields(), "vote": "yes"}, "203.0.113.9", "Firefox")
    assert (result.outcome, result.status) == (Outcome.COUNTED, 200)
    summary = counts(store.feedback("payments-1"))
    assert summary["responses"] == 1 and summary["yes"] == 1
    assert summary["updates"]["investigating"] == {
        "phase": "investigating",
        "responses": 1,
        "yes": 1,
        "no": 0,
        "comments": 0,
        "helpful_percent": 100,
    }


def test_scanner_gets_never_count(collector: FeedbackCollector, store: InMemoryFeedbackStore) -> None:
    params = {**_fields(), "v": "yes"}
    for _ in range(5):
        page = collector.view(params)
        assert page.outcome is Outcome.ASK and page.vote == "yes"
    assert store.answers == {} and store.counts == {}


def test_replay_by_the_same_reader_is_refused_and_the_first_answer_stands(
    collector: FeedbackCollector, store: InMemoryFeedbackStore
) -> None:
    form = {**_fields(), "vote": "yes"}
    assert collector.submit(form, "198.51.100.7", "Safari").outcome is Outcome.COUNTED
    again = collector.submit({**form, "vote": "no"}, "198.51.100.7", "Safari")
    assert (again.outcome, again.status) == (Outcome.ALREADY, 409)
    assert counts(store.feedback("payments-1"))["yes"] == 1
    assert counts(store.feedback("payments-1"))["no"] == 0


def test_each_update_counts_separately_for_one_reader(
    collector: FeedbackCollector, store: InMemoryFeedbackStore
) -> None:
    collector.submit({**_fields("investigating"), "vote": "yes"}, "198.51.100.7", "ua")
    collector.submit({**_fields("update-1"), "vote": "no"}, "198.51.100.7", "ua")
    summary = counts(store.feedback("payments-1"))
    assert summary["responses"] == 2 and set(summary["updates"]) == {"investigating", "update-1"}


def test_a_recipient_tag_is_the_reader_wherever_they_answer_from(
    collector: FeedbackCollector, store: InMemoryFeedbackStore
) -> None:
    tagged = _fields(reader=reader_tag(KEY, "ana@example.com"))
    assert collector.submit({**tagged, "vote": "no"}, "198.51.100.1", "phone").outcome is Outcome.COUNTED
    assert collector.submit({**tagged, "vote": "no"}, "203.0.113.50", "laptop").outcome is Outcome.ALREADY
    assert len(store.answers) == 1


@pytest.mark.parametrize("field", ["i", "u", "p", "l", "r", "e"])
def test_any_changed_field_is_a_forgery(collector: FeedbackCollector, store: InMemoryFeedbackStore, field: str) -> None:
    form = {**_fields(), "vote": "yes"}
    form[field] = {"i": "other-1", "u": "update-9", "p": "resolved", "l": "es", "r": "ab" * 12, "e": "9999999999"}[
        field
    ]
    result = collector.submit(form, "203.0.113.9", "ua")
    assert (result.outcome, result.status) == (Outcome.FORGED, 403)
    assert collector.view(form).outcome is Outcome.FORGED
    assert store.answers == {}


def test_a_token_signed_with_another_key_is_forged() -> None:
    fields = issue(b"x" * 48, "payments-1", "investigating", Phase.INVESTIGATING, "en", NOW)
    assert verify(KEY, fields, NOW).value == "forged"  # type: ignore[union-attr]


def test_an_approval_signature_never_passes_as_feedback() -> None:
    from clarion.domain.approvals.links import sign_link

    approval = sign_link(KEY, "payments-1", 0, NOW + timedelta(days=1))
    assert verify(KEY, {**_fields(), "s": approval["s"]}, NOW).value == "forged"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "change",
    [{"s": "nothex"}, {"i": ""}, {"i": "a" * 200}, {"p": "nonsense"}, {"l": "english"}, {"e": "soon"}, {"r": "ZZ"}],
)
def test_malformed_tokens_get_400(collector: FeedbackCollector, change: dict[str, str]) -> None:
    result = collector.submit({**_fields(), **change, "vote": "yes"}, "203.0.113.9")
    assert (result.outcome, result.status) == (Outcome.MALFORMED, 400)


def test_expired_tokens_get_410(
    collector: FeedbackCollector, clock: list[datetime], store: InMemoryFeedbackStore
) -> None:
    clock[0] = NOW + TOKEN_TTL + timedelta(seconds=1)
    result = collector.submit({**_fields(), "vote": "yes"}, "203.0.113.9")
    assert (result.outcome, result.status) == (Outcome.EXPIRED, 410)
    assert store.answers == {}


def test_a_flood_from_one_source_is_cut_off_before_any_token_check(
    collector: FeedbackCollector, store: InMemoryFeedbackStore, clock: list[datetime]
) -> None:
    outcomes = [
        collector.submit({**_fields(f"update-{n}"), "vote": "yes"}, "192.0.2.66", f"bot-{n}").outcome
        for n in range(RATE_LIMIT + 30)
    ]
    assert outcomes.count(Outcome.COUNTED) == RATE_LIMIT
    assert set(outcomes[RATE_LIMIT:]) == {Outcome.LIMITED}
    forged = collector.submit({**_fields(), "s": "0" * 64, "vote": "yes"}, "192.0.2.66")
    assert (forged.outcome, forged.status) == (Outcome.LIMITED, 429)
    assert len(store.answers) == RATE_LIMIT
    assert collector.submit({**_fields("later"), "vote": "no"}, "192.0.2.67").outcome is Outcome.COUNTED
    clock[0] = NOW + timedelta(hours=1)
    assert collector.submit({**_fields("next-hour"), "vote": "no"}, "192.0.2.66").outcome is Outcome.COUNTED


def test_a_vote_is_required(collector: FeedbackCollector, store: InMemoryFeedbackStore) -> None:
    for vote in ("", "maybe", "YES"):
        result = collector.submit({**_fields(), "vote": vote, "comment": "hm"}, "203.0.113.9")
        assert (result.outcome, result.status) == (Outcome.NO_VOTE, 400)
    assert store.answers == {}


def test_a_long_comment_is_refused_whole_and_kept_for_the_form(
    collector: FeedbackCollector, store: InMemoryFeedbackStore
) -> None:
    text = "é" * (COMMENT_MAX + 1)
    result = collector.submit({**_fields(), "vote": "no", "comment": text}, "203.0.113.9")
    assert (result.outcome, result.status) == (Outcome.TOO_LONG, 413)
    assert result.comment == text and store.answers == {}
    ok = collector.submit({**_fields(), "vote": "no", "comment": "é" * COMMENT_MAX}, "203.0.113.9")
    assert ok.outcome is Outcome.COUNTED


def test_html_in_a_comment_is_stored_as_text(collector: FeedbackCollector, store: InMemoryFeedbackStore) -> None:
    text = '<script>alert("x")</script> {{ 7*7 }} <img src=x onerror=alert(1)>'
    collector.submit({**_fields(), "vote": "no", "comment": text}, "203.0.113.9")
    (answer,) = store.feedback("payments-1")
    assert answer.comment == text  # stored verbatim; every surface escapes it when it shows it
    assert counts([answer])["comments"] == 1


def test_control_characters_leave_comments() -> None:
    assert clean_comment("  a\x00b\u202ec\r\nd\u200b ") == "abc\nd"


def test_email_links_carry_the_vote_and_show_a_confirmation(collector: FeedbackCollector) -> None:
    url = link("https://fb.example/", _fields(), "no")
    assert url.startswith("https://fb.example/feedback?") and "v=no" in url
    from urllib.parse import parse_qsl, urlsplit

    page = collector.view(dict(parse_qsl(urlsplit(url).query)))
    assert page.outcome is Outcome.ASK and page.vote == "no" and page.via == "email"


def test_readers_are_never_stored_in_clear(collector: FeedbackCollector, store: InMemoryFeedbackStore) -> None:
    collector.submit({**_fields(), "vote": "yes"}, "203.0.113.9", "Mozilla/5.0")
    (answer,) = store.feedback("payments-1")
    assert "203.0.113.9" not in answer.model_dump_json() and "Mozilla" not in answer.model_dump_json()


@given(st.dictionaries(st.sampled_from(["i", "u", "p", "l", "r", "e", "s", "vote"]), st.text(max_size=80)))
def test_arbitrary_forms_never_count_without_a_valid_signature(form: dict[str, str]) -> None:
    store = InMemoryFeedbackStore()
    collector = FeedbackCollector(store=store, key=lambda: KEY, clock=lambda: NOW)
    result = collector.submit(form, "203.0.113.9")
    assert result.outcome in (Outcome.MALFORMED, Outcome.FORGED, Outcome.EXPIRED)
    assert store.answers == {}
