"""Deliveries behind the workflow's ports (docs/design.md, decision 8): each takes an injected client,
maps throttling and 5xx to retryable ``ChannelError``s and everything else to permanent ones."""

from __future__ import annotations

import contextlib
import json
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from markupsafe import escape

from clarion.adapters.s3_page_publisher import PublishReport
from clarion.domain.approvals.desk import TaskGone
from clarion.domain.enums import Audience, Channel, Phase
from clarion.domain.errors import ChannelError
from clarion.domain.incident import Incident, TimelineEntry
from clarion.domain.messaging import escaping
from clarion.domain.messaging.drafts import Draft
from clarion.domain.page_index import PageSource
from clarion.domain.status_page import POSTMORTEM, AffectedComponent, PageUpdate
from clarion.ports import PageStore, WorkflowStore

TRANSIENT = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "ThrottledException",
    "RequestLimitExceeded",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "KMSThrottlingException",
}


def channel_error(exc: Exception, what: str) -> ChannelError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        return ChannelError(f"{what}: {code}", transient=code in TRANSIENT or status >= 500)
    return ChannelError(f"{what}: {type(exc).__name__}: {exc}", transient=True)  # connection problems


def ascii_subject(text: str, limit: int = 99) -> str:
    """SNS subjects must be printable ASCII under 100 characters."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    plain = " ".join(plain.split())
    return plain[:limit] or "Status update"


class SnsDelivery:
    """``sns:<audience>``: one ``PublishBatch`` to the audience's topic, an entry per language. Each
    entry carries the email text for email subscribers and the SMS text for SMS subscribers
    (MessageStructure=json) and the attributes subscribers filter on. Entries are recorded in the
    send ledger one by one: after a partial failure a retry sends only the entries that failed."""

    def __init__(
        self,
        topics: dict[str, str],
        client: Any,
        ledger: WorkflowStore | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.topics = topics
        self.client = client
        self.ledger = ledger
        self.clock = clock or (lambda: datetime.now().astimezone())

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        audience = route.split(":")[1]
        topic = self.topics.get(audience)
        if topic is None:
            raise ChannelError(f"no SNS topic for audience {audience!r}", transient=False)
        aud = Audience(audience)
        languages = sorted(
            {m.language for m in draft.messages if m.audience is aud and m.channel in (Channel.EMAIL, Channel.SMS)}
        )
        entries, keys = [], {}
        wanted = {lang: f"{incident.id}|{draft.id}|{route}|{lang}" for lang in languages}
        claimed = self.ledger.claim_sends(list(wanted.values()), self.clock()) if self.ledger is not None else {}
        for lang in languages:
            key = wanted[lang]
            if self.ledger is not None and not claimed.get(key):
                continue
            email, sms = draft.message(aud, Channel.EMAIL, lang), draft.message(aud, Channel.SMS, lang)
            long = email or sms
            assert long is not None
            text = escaping.plain(long.body)
            structure = {"default": text, "email": text, "sms": escaping.plain((sms or long).body)}
            entries.append(
                {
                    "Id": lang.replace("-", "_"),
                    "Message": json.dumps(structure, ensure_ascii=False),
                    "MessageStructure": "json",
                    "Subject": ascii_subject(long.subject or incident.title.get(lang, incident.id)),
                    "MessageAttributes": message_attributes(incident, draft, lang),
                }
            )
            keys[entries[-1]["Id"]] = key
        if not entries:
            return "already sent"
        try:
            resp = self.client.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        except (ClientError, BotoCoreError) as exc:
            self._release(list(keys.values()), str(exc))
            raise channel_error(exc, f"SNS publish to {audience}") from exc
        for ok in resp.get("Successful", []):
            if self.ledger is not None:
                self.ledger.finish_send(keys[ok["Id"]], ok=True, detail=ok["MessageId"])
        failed = resp.get("Failed", [])
        for bad in failed:
            if self.ledger is not None:
                self.ledger.finish_send(keys[bad["Id"]], ok=False, detail=bad.get("Code", ""))
        if failed:
            raise ChannelError(
                f"SNS publish to {audience}: {len(failed)} of {len(entries)} failed "
                f"({', '.join(b.get('Code', '?') for b in failed)})",
                transient=not all(b.get("SenderFault") for b in failed),
            )
        return ",".join(ok["MessageId"] for ok in resp.get("Successful", []))

    def _release(self, keys: list[str], detail: str) -> None:
        for key in keys:
            if self.ledger is not None:
                self.ledger.finish_send(key, ok=False, detail=detail)


def message_attributes(incident: Incident, draft: Draft, lang: str) -> dict[str, Any]:
    """What subscribers filter on (SNS filter policies), like Statuspage's component subscriptions."""
    return {
        "components": {"DataType": "String.Array", "StringValue": json.dumps(sorted(incident.components))},
        "severity": {"DataType": "String", "StringValue": incident.severity.value},
        "phase": {"DataType": "String", "StringValue": draft.phase.value},
        "language": {"DataType": "String", "StringValue": lang},
        "drill": {"DataType": "String", "StringValue": "true" if incident.drill else "false"},
    }


class ChatDelivery:
    """``chat:technical``: the technical chat text to the chat topic (Amazon Q Developer in chat
    applications, or a webhook relay, subscribes to it)."""

    def __init__(self, topic_arn: str, client: Any) -> None:
        self.topic_arn = topic_arn
        self.client = client

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        texts = [m.body for m in draft.messages if m.channel is Channel.CHAT]
        if not texts:
            raise ChannelError(f"{route}: the draft has no chat text", transient=False)
        try:
            resp = self.client.publish(TopicArn=self.topic_arn, Message=escaping.chat(texts[0]))
        except (ClientError, BotoCoreError) as exc:
            raise channel_error(exc, "chat topic") from exc
        return str(resp["MessageId"])


class SnsNotifier:
    """The internal channel: everything the team should know at once."""

    def __init__(self, topic_arn: str, client: Any) -> None:
        self.topic_arn = topic_arn
        self.client = client

    def notify(self, incident: Incident, text: str) -> None:
        self.client.publish(
            TopicArn=self.topic_arn,
            Message=escaping.chat(text),
            MessageAttributes={
                "incident": {"DataType": "String", "StringValue": incident.id},
                "severity": {"DataType": "String", "StringValue": incident.severity.value},
                "drill": {"DataType": "String", "StringValue": "true" if incident.drill else "false"},
            },
        )


class SesMailer:
    def __init__(self, sender: str, client: Any, configuration_set: str | None = None) -> None:
        self.sender = sender
        self.client = client
        self.configuration_set = configuration_set

    def send(self, to: list[str], subject: str, text: str, html: str) -> str:
        kwargs: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": to},
            "Content": {
                "Simple": {
                    "Subject": {"Data": escaping.header(subject), "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": escaping.plain(text), "Charset": "UTF-8"},
                        **({"Html": {"Data": html, "Charset": "UTF-8"}} if html else {}),
                    },
                }
            },
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            resp = self.client.send_email(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise channel_error(exc, "SES send_email") from exc
        return str(resp["MessageId"])


class SupportCopyDelivery:
    """``email:support``: the customer email, in the default language, to the support manager role."""

    def __init__(self, mailer: SesMailer, recipients: list[str], language: str) -> None:
        self.mailer = mailer
        self.recipients = recipients
        self.language = language

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        msg = draft.message(Audience.CUSTOMERS, Channel.EMAIL, self.language)
        if msg is None:
            raise ChannelError(f"{route}: no customer email in {self.language}", transient=False)
        text = f"Sent to customers ({draft.phase.value}):\n\n{msg.body}"
        return self.mailer.send(
            self.recipients,
            f"[customer copy] {msg.subject or ''}",
            text,
            f"<pre>{escape(text)}</pre>",
        )


class StatusPageDelivery:
    """``status_page``: put the update on the page model (one transaction, with the timeline entry),
    then publish the page to every target from a fresh read of that model."""

    def __init__(
        self,
        pages: PageStore,
        publish: Callable[[Callable[[], PageSource]], PublishReport],
        clock: Callable[[], datetime],
        component_names: dict[str, str],
        tell: Callable[[Incident, str], None] | None = None,
    ) -> None:
        self.pages = pages
        self.publish = publish
        self.clock = clock
        self.component_names = component_names
        self.tell = tell  # the internal channel, told of records the page had to leave out

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        if incident.drill:  # the workflow never routes a drill here; the page never shows one
            raise ChannelError(f"{route}: drills never reach the status page", transient=False)
        bodies = {m.language: m.body for m in draft.messages if m.channel is Channel.STATUS_PAGE}
        status = (
            POSTMORTEM
            if draft.phase is Phase.POSTMORTEM
            else incident.maintenance_status.value
            if incident.maintenance_status
            else "resolved"
            if incident.resolved_at
            else incident.status.value
        )
        affected = [
            AffectedComponent(code=c, name=self.component_names.get(c, c), old_status=s, new_status=s)
            for c, s in incident.components.items()
        ]
        now = self.clock()
        update = PageUpdate(
            id=f"{incident.id}-{draft.id}",
            status=status,
            body=bodies,
            created_at=now,
            affected_components=affected,
            draft_id=draft.id,
            phase=draft.phase.value,
        )
        entry = TimelineEntry(
            at=now,
            kind="page_update",
            actor="workflow",
            summary=f"Status page: {status}",
            data={
                "id": update.id,
                "status": status,
                "body": bodies,
                "affected": [a.model_dump(mode="json") for a in affected],
                "draft_id": draft.id,
                "next_update_at": draft.next_update_at.isoformat() if draft.next_update_at else None,
                "phase": draft.phase.value,
            },
        )
        # A retried route replaces its own update on the page and writes no second timeline entry.
        self.pages.record(incident, update, entry, now, next_update_at=draft.next_update_at)
        report = self.publish(self.pages.load)
        left_out = list(self.pages.unreadable)
        failed = report.failed
        if failed and len(failed) == len(report.targets):
            raise ChannelError("status page: " + "; ".join(f"{t.target}: {t.error}" for t in failed), transient=True)
        written = sum(len(t.written) for t in report.targets)
        if left_out and self.tell is not None:
            with contextlib.suppress(Exception):  # the page is published; telling is best effort
                self.tell(
                    incident,
                    "The status page left out records it cannot read (everything else is published): "
                    + "; ".join(sorted(set(left_out))),
                )
        return (
            f"{written} file(s) written"
            + (f"; failed targets: {[t.target for t in failed]}" if failed else "")
            + (f"; left off the page, unreadable: {'; '.join(sorted(set(left_out)))}" if left_out else "")
        )


class SfnTaskDecider:
    def __init__(self, client: Any) -> None:
        self.client = client

    def _call(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in (
                "TaskTimedOut",
                "TaskDoesNotExist",
                "InvalidToken",
            ):
                raise TaskGone(exc.response["Error"]["Code"]) from exc
            raise

    def succeed(self, token: str, output: dict[str, object]) -> None:
        self._call(lambda: self.client.send_task_success(taskToken=token, output=json.dumps(output)))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._call(lambda: self.client.send_task_failure(taskToken=token, error=error, cause=cause[:32768]))


def secret_key(secret_id: str, client: Any | None = None) -> Callable[[], bytes]:
    """The HMAC key from Secrets Manager, fetched once and cached by Powertools for five minutes."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    provider = SecretsProvider(boto3_client=client)

    def get() -> bytes:
        value = provider.get(secret_id, max_age=300)
        if not isinstance(value, str) or len(value) < 32:
            raise RuntimeError(f"secret {secret_id} must hold a string of at least 32 characters")
        return value.encode()

    return get
