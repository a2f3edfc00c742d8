"""Text that acts, made inert per channel: Slack mentions and hidden links, Teams markdown links,
email header injection, bidi overrides, and the adapters that apply them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clarion.adapters.channels import SesMailer
from clarion.adapters.messaging import ChatWebhooks
from clarion.domain.enums import Audience, Channel
from clarion.domain.messaging import escaping
from clarion.domain.runbooks.model import Webhook

from tests.unit.test_workflow_service import Rig

EVIL = "Done <!channel> <@U123> see <https://evil.example|our status page> & [click](javascript:alert(1)) \u202eexe.txt"


def test_slack_text_cannot_mention_or_hide_a_link() -> None:
    out = escaping.slack(EVIL)
    assert "<" not in out and ">" not in out
    assert "&lt;!channel&gt;" in out and "&lt;@U123&gt;" in out and "&amp;" in out
    assert "\u202e" not in out


def test_teams_text_cannot_form_a_markdown_link() -> None:
    out = escaping.teams(EVIL)
    assert "](" not in out and "]\u200b(" in out  # the text stays readable, the link never forms
    assert "https://evil.example" in out  # a bare URL stays visible as itself
    assert "\u202e" not in out


@pytest.mark.parametrize("subject", ["Outage\r\nBcc: victim@example.com", "Outage\nX-Injected: 1", "A\u202eB\x00C"])
def test_an_email_header_is_one_clean_line(subject: str) -> None:
    out = escaping.header(subject)
    assert "\r" not in out and "\n" not in out and "\x00" not in out and "\u202e" not in out
    assert out.startswith(subject[0])


def test_plain_text_keeps_line_breaks_and_right_to_left_marks_but_no_overrides() -> None:
    text = "שלום\u200f world\r\nline two\t\u2066isolated\u2069 \u202eevil\x07"
    out = escaping.plain(text)
    assert out == "שלום\u200f world\nline two\tisolated evil"


def test_the_chat_relay_text_cannot_mention() -> None:
    out = escaping.chat("Alarm <!here> by <@U1> at <https://x|y>, 3 < 4")
    assert "<!" not in out and "<@" not in out and "<https" not in out and "3 < 4" in out


class RecordingSes:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def send_email(self, **kwargs: Any) -> dict[str, str]:
        self.calls.append(kwargs)
        return {"MessageId": "m"}


def test_the_approval_mail_subject_carries_no_crlf_from_an_alarm_title() -> None:
    ses = RecordingSes()
    SesMailer("clarion@example.com", ses).send(["a@example.com"], "[SEV2] Approve: x\r\nBcc: all@example.com", "t", "h")
    subject = ses.calls[0]["Content"]["Simple"]["Subject"]["Data"]
    assert subject == "[SEV2] Approve: x Bcc: all@example.com"


@pytest.mark.parametrize("kind", ["slack", "teams"])
def test_chat_webhook_payloads_are_escaped_for_their_service(rig: Rig, kind: str) -> None:
    draft = rig.service.draft("payments-1", "investigating", "d1")
    stored = rig.wstore.get_draft("payments-1", draft["draft_id"])
    assert stored is not None
    chat = next(m for m in stored.messages if m.audience is Audience.TECHNICAL and m.channel is Channel.CHAT)
    evil = stored.model_copy(update={"messages": [chat.model_copy(update={"body": EVIL})]})
    hook = Webhook(name="ops", kind=kind, audience="technical", url="https://hooks.example/x")
    payload = json.dumps(ChatWebhooks([hook], lambda _n: "").payload(hook, evil, rig.store.get_incident("payments-1")))  # type: ignore[arg-type]
    assert "\\u202e" not in payload and "exe.txt" in payload
    if kind == "slack":  # Slack's links and mentions are <...>; markdown links mean nothing there
        assert "<" not in payload and "&lt;!channel&gt;" in payload
    else:  # Teams' links are markdown
        assert "](javascript" not in payload


@pytest.fixture
def rig(runbook: Any) -> Rig:
    return Rig(runbook)
