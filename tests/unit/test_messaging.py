"""Channel adapters with botocore's Stubber (the real service models validate every call): End User
Messaging SMS, voice, push and WhatsApp, SES customer email; webhooks against a loopback server."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from clarion.adapters.messaging import ChatWebhooks, CustomerEmail, MobilePush, SmsDirect, VoiceDirect, WhatsApp
from clarion.domain.enums import ComponentStatus, Phase, Severity
from clarion.domain.errors import ChannelError
from clarion.domain.incident import Incident
from clarion.domain.messaging.drafts import build_draft
from clarion.domain.runbooks.model import (
    Deliveries,
    EmailDelivery,
    PushDelivery,
    Runbook,
    SmsDelivery,
    VoiceDelivery,
    Webhook,
    WhatsAppDelivery,
)
from clarion.domain.workflow.service import route_reaches_customers
from pytest_socket import enable_socket

from tests.fakes.workflow_store import InMemoryWorkflowStore

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
PHONES = ["+12025550101", "+12025550102", "+12025550103"]


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
def draft(runbook: Runbook) -> Any:
    return build_draft(runbook, incident(), Phase.INVESTIGATING, "d1", NOW)


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")


def test_sms_budget_is_enforced_before_sending(draft: Any) -> None:
    sms = client("pinpoint-sms-voice-v2")
    with Stubber(sms):  # no response queued: any call would fail the test
        delivery = SmsDirect(
            SmsDelivery(origination_identity="+12025550100", recipients=PHONES),
            sms,
            1,
            InMemoryWorkflowStore(),
            lambda: NOW,
        )
        long_draft = draft.model_copy(
            update={
                "messages": [
                    m.model_copy(update={"body": m.body * 5}) if m.channel.value == "sms" else m for m in draft.messages
                ]
            }
        )
        with pytest.raises(ChannelError, match="over the budget of 1") as info:
            delivery.deliver("sms:en", long_draft, incident())
        assert not info.value.transient


def test_sms_partial_failure_resends_only_what_was_not_sent(draft: Any) -> None:
    sms = client("pinpoint-sms-voice-v2")
    ledger = InMemoryWorkflowStore()
    config = SmsDelivery(origination_identity="+12025550100", recipients=PHONES, configuration_set="clarion")
    body = draft.message(*_customers_sms("en")).body
    with Stubber(sms) as stub:
        for phone in PHONES[:1]:
            stub.add_response(
                "send_text_message",
                {"MessageId": f"m-{phone}"},
                {
                    "DestinationPhoneNumber": phone,
                    "OriginationIdentity": "+12025550100",
                    "MessageBody": body,
                    "MessageType": "TRANSACTIONAL",
                    "ConfigurationSetName": "clarion",
                },
            )
        stub.add_client_error("send_text_message", "ThrottlingException", http_status_code=429)
        stub.add_response("send_text_message", {"MessageId": "m-3"})
        delivery = SmsDirect(config, sms, 2, ledger, lambda: NOW)
        with pytest.raises(ChannelError) as info:
            delivery.deliver("sms:en", draft, incident())
        assert info.value.transient and "1 of 3 failed" in str(info.value)
        stub.add_response(
            "send_text_message",
            {"MessageId": "m-2"},
            {
                "DestinationPhoneNumber": PHONES[1],
                "OriginationIdentity": ANY,
                "MessageBody": ANY,
                "MessageType": ANY,
                "ConfigurationSetName": ANY,
            },
        )
        assert delivery.deliver("sms:en", draft, incident()) == "1 sent"  # only the throttled one again
        stub.assert_no_pending_responses()


def _customers_sms(lang: str) -> Any:
    from clarion.domain.enums import Audience, Channel

    return Audience.CUSTOMERS, Channel.SMS, lang


def test_voice_call(draft: Any) -> None:
    voice = client("pinpoint-sms-voice-v2")
    with Stubber(voice) as stub:
        stub.add_response(
            "send_voice_message",
            {"MessageId": "v-1"},
            {
                "DestinationPhoneNumber": "+12025550101",
                "OriginationIdentity": "+12025550100",
                "MessageBody": ANY,
                "MessageBodyTextType": "TEXT",
                "VoiceId": "JOANNA",
            },
        )
        delivery = VoiceDirect(
            VoiceDelivery(origination_identity="+12025550100", recipients=["+12025550101"]),
            voice,
            InMemoryWorkflowStore(),
            lambda: NOW,
        )
        assert delivery.deliver("voice:en", draft, incident()) == "1 sent"


def test_push_reports_throttled_addresses_as_retryable(draft: Any) -> None:
    pinpoint = client("pinpoint")
    with Stubber(pinpoint) as stub:
        stub.add_response(
            "send_messages",
            {
                "MessageResponse": {
                    "ApplicationId": "app",
                    "Result": {"tok-1": {"DeliveryStatus": "THROTTLED", "StatusCode": 429}},
                }
            },
            {
                "ApplicationId": "app",
                "MessageRequest": {"Addresses": {"tok-1": {"ChannelType": "APNS"}}, "MessageConfiguration": ANY},
            },
        )
        stub.add_response(
            "send_messages",
            {
                "MessageResponse": {
                    "ApplicationId": "app",
                    "Result": {"tok-1": {"DeliveryStatus": "SUCCESSFUL", "StatusCode": 200, "MessageId": "p-1"}},
                }
            },
        )
        delivery = MobilePush(
            PushDelivery(application_id="app", addresses={"tok-1": "APNS"}),
            pinpoint,
            InMemoryWorkflowStore(),
            lambda: NOW,
        )
        with pytest.raises(ChannelError) as info:
            delivery.deliver("push:en", draft, incident())
        assert info.value.transient
        assert delivery.deliver("push:en", draft, incident()) == "1 sent"


def test_whatsapp_template_carries_the_text(draft: Any) -> None:
    social = client("socialmessaging")
    sent: dict[str, Any] = {}
    with Stubber(social) as stub:
        stub.add_response(
            "send_whatsapp_message",
            {"messageId": "w-1"},
            {"originationPhoneNumberId": "phone-number-id-1", "message": ANY, "metaApiVersion": "v20.0"},
        )
        social.meta.events.register(
            "before-parameter-build.socialmessaging.SendWhatsAppMessage", lambda params, **_: sent.update(params)
        )
        delivery = WhatsApp(
            WhatsAppDelivery(
                phone_number_id="phone-number-id-1", template="incident_update", recipients=["+34600000001"]
            ),
            social,
            InMemoryWorkflowStore(),
            lambda: NOW,
        )
        assert delivery.deliver("whatsapp:es", draft, incident()) == "1 sent"
    message = json.loads(sent["message"])
    assert message["template"]["name"] == "incident_update" and message["template"]["language"] == {"code": "es"}
    assert message["template"]["components"][0]["parameters"][0]["text"].startswith(
        "Ledgerly: investigamos un problema que afecta a"
    )


def test_customer_email_has_list_unsubscribe(draft: Any) -> None:
    ses = client("sesv2")
    sent: dict[str, Any] = {}
    with Stubber(ses) as stub:
        stub.add_response("send_email", {"MessageId": "e-1"})
        ses.meta.events.register("before-parameter-build.sesv2.SendEmail", lambda params, **_: sent.update(params))
        delivery = CustomerEmail(
            EmailDelivery(
                recipients=["ops@customer.example"],
                contact_list="status",
                unsubscribe_url="https://status.example/unsubscribe",
                configuration_set="clarion",
            ),
            ses,
            "status@ledgerly.example",
            InMemoryWorkflowStore(),
            lambda: NOW,
        )
        assert delivery.deliver("email-customers:en", draft, incident()) == "1 sent"
    headers = {h["Name"]: h["Value"] for h in sent["Content"]["Simple"]["Headers"]}
    assert headers == {
        "List-Unsubscribe": "<https://status.example/unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert sent["ListManagementOptions"] == {"ContactListName": "status"} and sent["ConfigurationSetName"] == "clarion"
    assert "<p>" in sent["Content"]["Simple"]["Body"]["Html"]["Data"]


@pytest.fixture
def hook_server() -> Iterator[tuple[str, list[dict[str, Any]], list[int]]]:
    enable_socket()  # a loopback server, the one network this test uses
    seen: list[dict[str, Any]] = []
    statuses: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen, statuses
    server.shutdown()


def test_webhooks_slack_teams_and_signed_generic(draft: Any, hook_server: Any) -> None:
    base, seen, statuses = hook_server
    hooks = [
        Webhook(name="ops-slack", kind="slack", audience="technical", url=f"{base}/slack"),
        Webhook(name="teams", kind="teams", audience="technical", url=f"{base}/teams"),
        Webhook(
            name="partner", kind="generic", audience="customers", url=f"{base}/generic", signing_secret="partner-key"
        ),
    ]
    delivery = ChatWebhooks(hooks, secret=lambda name: {"partner-key": "s3cret"}[name])
    inc = incident()
    for route in ("webhook:technical:ops-slack", "webhook:technical:teams", "webhook:customers:partner"):
        delivery.deliver(route, draft, inc)
    slack, teams, generic = seen
    assert json.loads(slack["body"])["text"].startswith(":rotating_light: [SEV1]")
    assert json.loads(teams["body"])["attachments"][0]["content"]["type"] == "AdaptiveCard"
    stamp = generic["headers"]["X-Clarion-Timestamp"]
    expected = hmac.new(b"s3cret", stamp.encode() + b"." + generic["body"], hashlib.sha256).hexdigest()
    assert generic["headers"]["X-Clarion-Signature"] == f"sha256={expected}"
    assert json.loads(generic["body"])["incident_id"] == "payments-1"
    statuses.extend([503, 404])
    with pytest.raises(ChannelError) as busy:
        delivery.deliver("webhook:technical:ops-slack", draft, inc)
    assert busy.value.transient
    with pytest.raises(ChannelError) as gone:
        delivery.deliver("webhook:technical:ops-slack", draft, inc)
    assert not gone.value.transient


def test_configured_deliveries_add_routes_and_drills_never_take_customer_ones(runbook: Runbook) -> None:
    deliveries = Deliveries(
        sms=SmsDelivery(origination_identity="+12025550100", recipients=PHONES),
        whatsapp=WhatsAppDelivery(phone_number_id="p", template="t", recipients=PHONES[:1]),
        webhooks=[Webhook(name="ops", kind="slack", audience="technical", url="https://hooks.example/x")],
    )
    rb = runbook.model_copy(update={"settings": runbook.settings.model_copy(update={"deliveries": deliveries})})
    routes = build_draft(rb, incident(), Phase.INVESTIGATING, "d1", NOW).routes
    assert {"sms:en", "sms:es", "whatsapp:en", "whatsapp:es", "webhook:technical:ops"} <= set(routes)
    customer_facing = {r for r in routes if route_reaches_customers(r)}
    assert customer_facing == set(routes) - {
        "sns:technical",
        "chat:technical",
        "webhook:technical:ops",
    }


def test_webhook_config_needs_exactly_one_url() -> None:
    with pytest.raises(ValueError, match="exactly one of url and url_secret"):
        Webhook(name="x", kind="slack", audience="technical")
    with pytest.raises(ValueError, match="signing_secret"):
        Webhook(name="x", kind="generic", audience="customers", url="https://x.example")
