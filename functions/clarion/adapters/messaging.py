"""Deliveries through AWS End User Messaging (SMS, voice, push, WhatsApp), SES v2 customer email and
chat webhooks. Each implements ``clarion.domain.workflow.service.Delivery``.

Sends to several recipients are recorded per recipient in the send ledger (the workflow store's
claims), so a retry after a failure partway through resends only what was not sent. SMS bodies are
checked against the segment budget before anything is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from clarion.adapters.channels import channel_error
from clarion.domain.enums import Audience, Channel
from clarion.domain.errors import ChannelError
from clarion.domain.incident import Incident
from clarion.domain.messaging import escaping
from clarion.domain.messaging.drafts import Draft, DraftMessage
from clarion.domain.messaging.sms import count_segments
from clarion.domain.runbooks.model import (
    EmailDelivery,
    PushDelivery,
    SmsDelivery,
    VoiceDelivery,
    Webhook,
    WhatsAppDelivery,
)
from clarion.ports import WorkflowStore


def _message(draft: Draft, channel: Channel, language: str, route: str) -> DraftMessage:
    msg = draft.message(Audience.CUSTOMERS, channel, language)
    if msg is None:
        raise ChannelError(f"{route}: the draft has no customer {channel.value} text in {language}", transient=False)
    return msg


class _PerRecipient:
    """Send to each recipient once, even across retries."""

    def __init__(self, ledger: WorkflowStore, clock: Callable[[], datetime]) -> None:
        self.ledger = ledger
        self.clock = clock

    def each(
        self, route: str, draft: Draft, incident: Incident, recipients: list[str], send: Callable[[str], str]
    ) -> str:
        sent, failures = [], []
        for recipient in recipients:
            key = f"{incident.id}|{draft.id}|{route}|{recipient}"
            if not self.ledger.claim_send(key, self.clock()):
                continue
            try:
                ident = send(recipient)
            except ChannelError as exc:
                self.ledger.finish_send(key, ok=False, detail=str(exc))
                failures.append(exc)
                continue
            self.ledger.finish_send(key, ok=True, detail=ident)
            sent.append(ident)
        if failures:
            raise ChannelError(
                f"{route}: {len(failures)} of {len(recipients)} failed, first: {failures[0]}",
                transient=any(f.transient for f in failures),
            )
        return f"{len(sent)} sent"


class SmsDirect(_PerRecipient):
    def __init__(
        self, config: SmsDelivery, client: Any, max_segments: int, ledger: WorkflowStore, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(ledger, clock)
        self.config, self.client, self.max_segments = config, client, max_segments

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        body = escaping.plain(_message(draft, Channel.SMS, route.split(":")[1], route).body)
        count = count_segments(body)
        if not count.fits(self.max_segments):  # enforced before anything is sent
            raise ChannelError(
                f"{route}: {count.segments} SMS segments, over the budget of {self.max_segments}", transient=False
            )

        def send(phone: str) -> str:
            kwargs: dict[str, Any] = {
                "DestinationPhoneNumber": phone,
                "OriginationIdentity": self.config.origination_identity,
                "MessageBody": body,
                "MessageType": "TRANSACTIONAL",
            }
            if self.config.configuration_set:
                kwargs["ConfigurationSetName"] = self.config.configuration_set
            try:
                return str(self.client.send_text_message(**kwargs)["MessageId"])
            except (ClientError, BotoCoreError) as exc:
                raise channel_error(exc, f"SMS to {phone[:-4]}****") from exc

        return self.each(route, draft, incident, self.config.recipients, send)


class VoiceDirect(_PerRecipient):
    def __init__(
        self, config: VoiceDelivery, client: Any, ledger: WorkflowStore, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(ledger, clock)
        self.config, self.client = config, client

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        body = escaping.plain(_message(draft, Channel.SMS, route.split(":")[1], route).body)

        def send(phone: str) -> str:
            kwargs: dict[str, Any] = {
                "DestinationPhoneNumber": phone,
                "OriginationIdentity": self.config.origination_identity,
                "MessageBody": body,
                "MessageBodyTextType": "TEXT",
                "VoiceId": self.config.voice_id,
            }
            if self.config.configuration_set:
                kwargs["ConfigurationSetName"] = self.config.configuration_set
            try:
                return str(self.client.send_voice_message(**kwargs)["MessageId"])
            except (ClientError, BotoCoreError) as exc:
                raise channel_error(exc, f"voice call to {phone[:-4]}****") from exc

        return self.each(route, draft, incident, self.config.recipients, send)


class MobilePush(_PerRecipient):
    """End User Messaging push (``pinpoint`` SendMessages with an application id and device
    addresses); no Pinpoint endpoints, segments or campaigns (those ended on 2026-10-30)."""

    def __init__(self, config: PushDelivery, client: Any, ledger: WorkflowStore, clock: Callable[[], datetime]) -> None:
        super().__init__(ledger, clock)
        self.config, self.client = config, client

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        lang = route.split(":")[1]
        body = escaping.plain(_message(draft, Channel.SMS, lang, route).body)
        title = escaping.header(incident.title.get(lang) or next(iter(incident.title.values()), "Status update"))

        def send(token: str) -> str:
            request = {
                "Addresses": {token: {"ChannelType": self.config.addresses[token]}},
                "MessageConfiguration": {
                    "DefaultPushNotificationMessage": {"Title": title[:100], "Body": body, "Action": "OPEN_APP"}
                },
            }
            try:
                resp = self.client.send_messages(ApplicationId=self.config.application_id, MessageRequest=request)
            except (ClientError, BotoCoreError) as exc:
                raise channel_error(exc, "push") from exc
            result = resp["MessageResponse"].get("Result", {}).get(token, {})
            status = result.get("DeliveryStatus", "SUCCESSFUL")
            if status != "SUCCESSFUL":
                raise ChannelError(
                    f"push: {status} {result.get('StatusMessage', '')}".strip(),
                    transient=status in ("THROTTLED", "TEMPORARY_FAILURE", "TIMEOUT", "UNKNOWN_FAILURE"),
                )
            return str(result.get("MessageId", "push"))

        return self.each(route, draft, incident, sorted(self.config.addresses), send)


class WhatsApp(_PerRecipient):
    """End User Messaging Social: a pre-approved template with the SMS text as its one parameter."""

    def __init__(
        self, config: WhatsAppDelivery, client: Any, ledger: WorkflowStore, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(ledger, clock)
        self.config, self.client = config, client

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        lang = route.split(":")[1]
        body = escaping.plain(_message(draft, Channel.SMS, lang, route).body)

        def send(phone: str) -> str:
            message = {
                "messaging_product": "whatsapp",
                "to": phone,
                "type": "template",
                "template": {
                    "name": self.config.template,
                    "language": {"code": lang},
                    "components": [{"type": "body", "parameters": [{"type": "text", "text": body}]}],
                },
            }
            try:
                resp = self.client.send_whatsapp_message(
                    originationPhoneNumberId=self.config.phone_number_id,
                    message=json.dumps(message).encode(),
                    metaApiVersion=self.config.meta_api_version,
                )
            except (ClientError, BotoCoreError) as exc:
                raise channel_error(exc, f"WhatsApp to {phone[:-4]}****") from exc
            return str(resp["messageId"])

        return self.each(route, draft, incident, self.config.recipients, send)


class CustomerEmail(_PerRecipient):
    """SES v2 email to customers: HTML and text, List-Unsubscribe (one-click), the configuration set,
    and the contact list's subscription management when one is configured."""

    def __init__(
        self, config: EmailDelivery, client: Any, sender: str, ledger: WorkflowStore, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(ledger, clock)
        self.config, self.client, self.sender = config, client, sender

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        from markupsafe import escape

        msg = _message(draft, Channel.EMAIL, route.split(":")[1], route)
        text = escaping.plain(msg.body)
        subject = escaping.header(msg.subject or "") or "Status update"
        html = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))

        def send(address: str) -> str:
            kwargs: dict[str, Any] = {
                "FromEmailAddress": self.sender,
                "Destination": {"ToAddresses": [address]},
                "Content": {
                    "Simple": {
                        "Subject": {"Data": subject, "Charset": "UTF-8"},
                        "Body": {
                            "Text": {"Data": text, "Charset": "UTF-8"},
                            "Html": {"Data": html, "Charset": "UTF-8"},
                        },
                        "Headers": [
                            {"Name": "List-Unsubscribe", "Value": f"<{self.config.unsubscribe_url}>"},
                            {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
                        ],
                    }
                },
            }
            if self.config.configuration_set:
                kwargs["ConfigurationSetName"] = self.config.configuration_set
            if self.config.reply_to:
                kwargs["ReplyToAddresses"] = [self.config.reply_to]
            if self.config.contact_list:
                kwargs["ListManagementOptions"] = {
                    "ContactListName": self.config.contact_list,
                    **({"TopicName": self.config.contact_topic} if self.config.contact_topic else {}),
                }
            try:
                return str(self.client.send_email(**kwargs)["MessageId"])
            except (ClientError, BotoCoreError) as exc:
                raise channel_error(exc, "SES customer email") from exc

        return self.each(route, draft, incident, self.config.recipients, send)


class ChatWebhooks:
    """Slack and Microsoft Teams incoming webhooks, and a generic JSON webhook signed with
    ``X-Clarion-Signature: sha256=HMAC(key, "<timestamp>.<body>")`` and ``X-Clarion-Timestamp``."""

    def __init__(self, hooks: list[Webhook], secret: Callable[[str], str], timeout: float = 10) -> None:
        self.hooks = {h.name: h for h in hooks}
        self.secret = secret
        self.timeout = timeout

    def payload(self, hook: Webhook, draft: Draft, incident: Incident) -> dict[str, Any]:
        channel = Channel.CHAT if hook.audience is Audience.TECHNICAL else Channel.SOCIAL
        texts = [m for m in draft.messages if m.audience is hook.audience and m.channel is channel]
        if not texts:
            raise ChannelError(
                f"webhook {hook.name}: no {channel.value} text for {hook.audience.value}", transient=False
            )
        text = texts[0].body
        if hook.kind == "slack":
            return {"text": escaping.slack(text)}
        if hook.kind == "teams":
            return {
                "type": "message",
                "attachments": [
                    {
                        "contentType": "application/vnd.microsoft.card.adaptive",
                        "content": {
                            "type": "AdaptiveCard",
                            "version": "1.4",
                            "body": [{"type": "TextBlock", "text": escaping.teams(text), "wrap": True}],
                        },
                    }
                ],
            }
        return {
            "incident_id": incident.id,
            "severity": incident.severity.value,
            "phase": draft.phase.value,
            "components": sorted(incident.components),
            "drill": incident.drill,
            "messages": [{"language": m.language, "text": escaping.plain(m.body)} for m in texts],
        }

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        name = route.split(":")[2]
        hook = self.hooks.get(name)
        if hook is None:
            raise ChannelError(f"no webhook {name!r} configured", transient=False)
        body = json.dumps(self.payload(hook, draft, incident), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Clarion"}
        if hook.kind == "generic":
            assert hook.signing_secret is not None
            stamp = str(int(time.time()))
            mac = hmac.new(self.secret(hook.signing_secret).encode(), stamp.encode() + b"." + body, hashlib.sha256)
            headers |= {"X-Clarion-Timestamp": stamp, "X-Clarion-Signature": f"sha256={mac.hexdigest()}"}
        url = hook.url or self.secret(hook.url_secret or "")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - configured URL
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310
                return f"{hook.name}: HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            raise ChannelError(
                f"webhook {hook.name}: HTTP {exc.code}", transient=exc.code == 429 or exc.code >= 500
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ChannelError(f"webhook {hook.name}: {exc}", transient=True) from exc
