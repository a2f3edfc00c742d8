"""Self-service subscriptions: SNS email double opt-in, SMS codes, filter policies, rate limits,
answers that never reveal an existing subscription; the status page's form."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from clarion.domain.runbooks.model import Runbook
from clarion.domain.subscriptions import CODE_TRIES, RATE_LIMIT, SubscriptionDesk, filter_policy
from clarion.status_page.render import SiteRenderer
from clarion.web.subscribe import render_answer
from moto import mock_aws

from tests.fakes.subscription_store import InMemorySubscriptionStore

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


class Desk:
    def __init__(self, runbook: Runbook) -> None:
        self.sns = boto3.client("sns", region_name="us-east-1")
        self.topic = self.sns.create_topic(Name="clarion-customers")["TopicArn"]
        self.texts: list[tuple[str, str]] = []
        self.now = NOW
        self.desk = SubscriptionDesk(
            runbook=runbook,
            topic_arn=self.topic,
            sns=self.sns,
            store=InMemorySubscriptionStore(),
            send_sms=lambda p, t: self.texts.append((p, t)),
            key=lambda: b"k" * 48,
            clock=lambda: self.now,
        )

    def subscriptions(self) -> list[dict[str, Any]]:
        subs = self.sns.list_subscriptions_by_topic(TopicArn=self.topic)["Subscriptions"]
        return [
            {
                **s,
                "policy": json.loads(
                    self.sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"].get(
                        "FilterPolicy", "{}"
                    )
                ),
            }
            for s in subs
        ]


@pytest.fixture
def d(runbook: Runbook) -> Iterator[Desk]:
    with mock_aws():
        yield Desk(runbook)


def test_email_subscription_with_a_filter_policy(d: Desk) -> None:
    answer = d.desk.subscribe(
        {
            "protocol": "email",
            "endpoint": "ana@customer.example",
            "components": ["checkout-api", "card-payments"],
            "language": "es",
        },
        "198.51.100.7",
    )
    assert answer.status == 200 and "confirmation link" in render_answer(answer)
    (sub,) = d.subscriptions()
    assert sub["Protocol"] == "email" and sub["Endpoint"] == "ana@customer.example"
    assert sub["policy"] == {"components": ["card-payments", "checkout-api"], "language": ["es"], "drill": ["false"]}


def test_answers_never_reveal_an_existing_subscription(d: Desk) -> None:
    form = {"protocol": "email", "endpoint": "ana@customer.example", "language": "en"}
    first = d.desk.subscribe(form, "198.51.100.7")
    second = d.desk.subscribe(form, "198.51.100.8")
    assert (first.status, render_answer(first)) == (second.status, render_answer(second))


def test_sms_needs_the_code(d: Desk) -> None:
    answer = d.desk.subscribe({"protocol": "sms", "endpoint": "+447700900123", "language": "en"}, "198.51.100.7")
    assert answer.status == 200 and 'name="code"' in render_answer(answer) and d.subscriptions() == []
    ((phone, text),) = d.texts
    code = re.search(r"\d{6}", text).group(0)  # type: ignore[union-attr]
    assert phone == "+447700900123" and "Ledgerly Status" in text
    wrong = "000000" if code != "000000" else "111111"
    assert d.desk.confirm({"phone": phone, "code": wrong}, "198.51.100.7").status == 400
    ok = d.desk.confirm({"phone": phone, "code": code}, "198.51.100.7")
    assert ok.status == 200 and "STOP" in render_answer(ok)
    (sub,) = d.subscriptions()
    assert sub["Protocol"] == "sms" and sub["policy"] == filter_policy([], "en")
    assert d.desk.confirm({"phone": phone, "code": code}, "198.51.100.7").status == 400  # single use


def test_sms_code_expires_and_tries_are_limited(d: Desk) -> None:
    d.desk.subscribe({"protocol": "sms", "endpoint": "+447700900123"}, "a")
    code = re.search(r"\d{6}", d.texts[0][1]).group(0)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(CODE_TRIES):
        d.desk.confirm({"phone": "+447700900123", "code": wrong}, f"src-{_}")
    assert d.desk.confirm({"phone": "+447700900123", "code": code}, "b").status == 400  # burnt
    d.desk.subscribe({"protocol": "sms", "endpoint": "+447700900124"}, "c")
    code = re.search(r"\d{6}", d.texts[1][1]).group(0)  # type: ignore[union-attr]
    d.now = NOW + timedelta(minutes=11)
    assert d.desk.confirm({"phone": "+447700900124", "code": code}, "d").status == 400
    assert d.subscriptions() == []


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"protocol": "email", "endpoint": "not-an-address"}, "not an email address"),
        ({"protocol": "sms", "endpoint": "07700 900123"}, "international form"),
        ({"protocol": "fax", "endpoint": "x"}, "email or SMS"),
        ({"protocol": "email", "endpoint": "a@b.example", "language": "fr"}, "Choose a language"),
        ({"protocol": "email", "endpoint": "a@b.example", "components": ["<script>"]}, "Choose components"),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_subscribed(d: Desk, form: dict[str, Any], says: str) -> None:
    answer = d.desk.subscribe(form, "198.51.100.7")
    assert answer.status == 400 and says in render_answer(answer) and "<script>" not in render_answer(answer)
    assert d.subscriptions() == [] and d.texts == []


def test_rate_limited_per_source(d: Desk) -> None:
    form = {"protocol": "email", "endpoint": "ana@customer.example"}
    for _ in range(RATE_LIMIT):
        assert d.desk.subscribe(form, "203.0.113.9").status == 200
    assert d.desk.subscribe(form, "203.0.113.9").status == 429
    assert d.desk.subscribe(form, "203.0.113.10").status == 200  # another source is not affected
    d.now = NOW + timedelta(hours=1)
    assert d.desk.subscribe(form, "203.0.113.9").status == 200  # the next window


def test_status_page_offers_the_form_without_javascript(runbook: Runbook) -> None:
    page = runbook.settings.page.model_copy(update={"subscribe_url": "https://subscribe.ledgerly.example"})
    rb = runbook.model_copy(update={"settings": runbook.settings.model_copy(update={"page": page})})
    files = {f.path: f.body.decode() for f in SiteRenderer(rb).render([], NOW).files}
    form = files["subscribe.html"]
    assert '<form method="post" action="https://subscribe.ledgerly.example/subscribe">' in form
    assert form.count('type="checkbox" ') == len(rb.components.components)
    assert "<script" not in form.split("</main>")[0]
    assert 'href="subscribe.html"' in files["index.html"] and "es/subscribe.html" in files
    assert "subscribe.html" not in {f.path for f in SiteRenderer(runbook).render([], NOW).files}


def test_sms_is_refused_where_the_deployment_sends_none(d: Desk) -> None:
    d.desk.send_sms = None  # no origination identity configured
    answer = d.desk.subscribe({"protocol": "sms", "endpoint": "+447700900123", "language": "en"}, "198.51.100.7")
    assert answer.status == 400 and "subscribe by email" in render_answer(answer)
    assert d.subscriptions() == [] and d.texts == []
