"""Wiring: the workflow service and the approval desk built from names and clients. The deployed
functions read the names from their environment; the local mode passes the emulator's."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import BaseModel, ConfigDict, Field

from clarion.adapters.aws_errors import with_retries
from clarion.adapters.channels import (
    ChatDelivery,
    SesMailer,
    SfnTaskDecider,
    SnsDelivery,
    SnsNotifier,
    StatusPageDelivery,
    SupportCopyDelivery,
    secret_key,
)
from clarion.adapters.dynamodb_page_store import DynamoDBPageStore
from clarion.adapters.dynamodb_store import DynamoDBFeedbackStore, DynamoDBIncidentStore, DynamoDBWorkflowStore
from clarion.adapters.s3_page_publisher import S3Target, StatusPagePublisher
from clarion.adapters.stepfunctions_workflow import StepFunctionsWorkflow
from clarion.domain.approvals.desk import ApprovalDesk
from clarion.domain.runbooks.model import Runbook, localized
from clarion.domain.workflow.service import WorkflowService, WorkflowSettings
from clarion.handlers.settings import load_settings
from clarion.runbook_loader import load_runbook
from clarion.status_page.render import FeedbackForms, SiteRenderer
from clarion.web.approvals import approval_email_html

if TYPE_CHECKING:
    from clarion.web.desk import Desk


class PageTarget(BaseModel):
    name: str
    bucket: str
    prefix: str = ""
    region: str | None = None


@dataclass
class Wiring:
    table: str
    state_machine_arn: str
    approval_base_url: str
    sender: str
    topics: dict[str, str]  # customers, technical, chat, internal -> topic ARN
    page_targets: list[PageTarget]
    time_scale: float = 1.0
    configuration_set: str | None = None
    dead_letter_queue_url: str | None = None
    feedback_url: str | None = None  # the feedback endpoint; default: the runbook's page.feedback_url
    extra: dict[str, Any] = field(default_factory=dict)


def build(
    runbook: Runbook,
    wiring: Wiring,
    client: Callable[..., Any],
    key: Callable[[], bytes],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[WorkflowService, ApprovalDesk]:
    """``client(service, region=None)`` returns a boto3 client."""
    ddb = client("dynamodb")
    sns = client("sns")
    store = DynamoDBIncidentStore(wiring.table, ddb)
    wstore = DynamoDBWorkflowStore(wiring.table, ddb)
    mailer = SesMailer(wiring.sender, client("sesv2"), wiring.configuration_set)
    feedback_url = wiring.feedback_url or runbook.settings.page.feedback_url
    renderer = SiteRenderer(runbook, FeedbackForms(feedback_url, key) if feedback_url else None)
    targets = [S3Target(t.name, t.bucket, client("s3", t.region), t.prefix) for t in wiring.page_targets]
    publisher = StatusPagePublisher(renderer, targets)
    default = runbook.settings.default_language
    names = {c.id: localized(c.name, default, default) for c in runbook.components.components}
    support = [p.email for p in runbook.people_in(["support_manager"])]
    notifier = SnsNotifier(wiring.topics["internal"], sns)
    deliveries = {
        "status_page": StatusPageDelivery(
            DynamoDBPageStore(wiring.table, ddb, sleep=sleep),
            lambda load: publisher.publish(load, clock),
            clock,
            names,
            tell=notifier.notify,
        ),
        "sns": SnsDelivery(
            {k: v for k, v in wiring.topics.items() if k in ("customers", "technical")}, sns, wstore, clock
        ),
        "chat": ChatDelivery(wiring.topics["chat"], sns),
        "email": SupportCopyDelivery(mailer, support, default),
    }
    deliveries.update(_configured_deliveries(runbook, client, wstore, mailer.sender, clock))
    sfn = client("stepfunctions")
    service = WorkflowService(
        runbook=runbook,
        store=store,
        wstore=wstore,
        notifier=notifier,
        mailer=mailer,
        deliveries=deliveries,  # type: ignore[arg-type]
        workflow=StepFunctionsWorkflow(wiring.state_machine_arn, sfn),
        key=key,
        settings=WorkflowSettings(
            approval_base_url=wiring.approval_base_url, time_scale=wiring.time_scale, feedback_url=feedback_url
        ),
        clock=clock,
        sleep=sleep,
        email_html=approval_email_html,
    )
    service.feedback = DynamoDBFeedbackStore(wiring.table, ddb)
    if wiring.dead_letter_queue_url:
        sqs, url = client("sqs"), wiring.dead_letter_queue_url
        service.dead_letters = lambda body: sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    desk = ApprovalDesk(runbook=runbook, store=store, wstore=wstore, decider=SfnTaskDecider(sfn), key=key, clock=clock)
    return service, desk


def _configured_deliveries(
    runbook: Runbook,
    client: Callable[..., Any],
    ledger: DynamoDBWorkflowStore,
    sender: str,
    clock: Callable[[], datetime],
) -> dict[str, Any]:
    """The optional channels ``clarion.yaml`` configures under ``deliveries``."""
    from clarion.adapters.messaging import (
        ChatWebhooks,
        CustomerEmail,
        MobilePush,
        SmsDirect,
        VoiceDirect,
        WhatsApp,
    )

    d = runbook.settings.deliveries
    out: dict[str, Any] = {}
    if d.sms:
        out["sms"] = SmsDirect(d.sms, client("pinpoint-sms-voice-v2"), runbook.settings.sms.max_segments, ledger, clock)
    if d.voice:
        out["voice"] = VoiceDirect(d.voice, client("pinpoint-sms-voice-v2"), ledger, clock)
    if d.push:
        out["push"] = MobilePush(d.push, client("pinpoint"), ledger, clock)
    if d.whatsapp:
        out["whatsapp"] = WhatsApp(d.whatsapp, client("socialmessaging"), ledger, clock)
    if d.email:
        out["email-customers"] = CustomerEmail(d.email, client("sesv2"), sender, ledger, clock)
    if d.webhooks or d.mastodon or d.bluesky:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        secrets = SecretsProvider(boto3_client=client("secretsmanager"))

        def secret(name: str) -> str:
            return str(secrets.get(name, max_age=300))

        if d.webhooks:
            out["webhook"] = ChatWebhooks(d.webhooks, secret)
        if d.mastodon or d.bluesky:
            from clarion.adapters.social import Bluesky, Mastodon, SocialDelivery

            out["social"] = SocialDelivery(
                Mastodon(d.mastodon, secret) if d.mastodon else None,
                Bluesky(d.bluesky, secret, clock) if d.bluesky else None,
            )
    return out


class WorkflowEnv(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", pattern=r"^arn:aws[a-z-]*:states:")
    runbook_path: Path = Field(alias="RUNBOOK_PATH")
    hmac_secret_id: str = Field(alias="HMAC_SECRET_ID", min_length=1)
    approval_base_url: str = Field(alias="APPROVAL_BASE_URL", pattern=r"^https?://")
    sender_email: str = Field(alias="SENDER_EMAIL", min_length=3)
    topic_customers: str = Field(alias="TOPIC_CUSTOMERS")
    topic_technical: str = Field(alias="TOPIC_TECHNICAL")
    topic_chat: str = Field(alias="TOPIC_CHAT")
    topic_internal: str = Field(alias="TOPIC_INTERNAL")
    page_targets: str = Field(alias="PAGE_TARGETS", description="JSON list of {name, bucket, prefix, region}")
    ses_configuration_set: str | None = Field(default=None, alias="SES_CONFIGURATION_SET")
    dead_letter_queue_url: str | None = Field(default=None, alias="DEAD_LETTER_QUEUE_URL")
    feedback_url: str | None = Field(default=None, alias="FEEDBACK_URL", pattern=r"^https?://")


@lru_cache(maxsize=1)  # once per container: runbook, clients, key provider
def _deployed() -> tuple[WorkflowService, ApprovalDesk]:  # pragma: no cover - exercised in AWS
    env = load_settings(WorkflowEnv)
    wiring = Wiring(
        table=env.table_name,
        state_machine_arn=env.state_machine_arn,
        approval_base_url=env.approval_base_url,
        sender=env.sender_email,
        topics={
            "customers": env.topic_customers,
            "technical": env.topic_technical,
            "chat": env.topic_chat,
            "internal": env.topic_internal,
        },
        page_targets=[PageTarget.model_validate(t) for t in json.loads(env.page_targets)],
        configuration_set=env.ses_configuration_set,
        dead_letter_queue_url=env.dead_letter_queue_url,
        feedback_url=env.feedback_url,
    )
    return build(
        load_runbook(env.runbook_path, lint=False),  # linted at synth
        wiring,
        lambda service, region=None: boto3.client(service, **with_retries(service, region_name=region)),
        secret_key(env.hmac_secret_id),
    )


def deployed_workflow_service() -> WorkflowService:  # pragma: no cover
    return _deployed()[0]


class DeskEnv(BaseModel):
    """What the approval function is given: the desk needs no topics, sender or page targets."""

    model_config = ConfigDict(frozen=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    runbook_path: Path = Field(alias="RUNBOOK_PATH")
    hmac_secret_id: str = Field(alias="HMAC_SECRET_ID", min_length=1)


@lru_cache(maxsize=1)  # once per container
def _deployed_desk() -> ApprovalDesk:
    env = load_settings(DeskEnv)
    ddb = boto3.client("dynamodb", **with_retries("dynamodb"))
    return ApprovalDesk(
        runbook=load_runbook(env.runbook_path, lint=False),  # linted at synth
        store=DynamoDBIncidentStore(env.table_name, ddb),
        wstore=DynamoDBWorkflowStore(env.table_name, ddb),
        decider=SfnTaskDecider(boto3.client("stepfunctions", **with_retries("stepfunctions"))),
        key=secret_key(env.hmac_secret_id),
        clock=lambda: datetime.now(UTC),
    )


def deployed_approval_desk() -> ApprovalDesk:
    return _deployed_desk()


def build_desk(runbook: Runbook, wiring: Wiring, client: Callable[..., Any], key: Callable[[], bytes]) -> Desk:
    """The web desk on the same table, workflow and mailer as the workflow service."""
    from clarion.adapters.dynamodb_store import DynamoDBDeskStore
    from clarion.web.desk import Desk

    ddb = client("dynamodb")
    return Desk(
        runbook=runbook,
        store=DynamoDBIncidentStore(wiring.table, ddb),
        wstore=DynamoDBWorkflowStore(wiring.table, ddb),
        workflow=StepFunctionsWorkflow(wiring.state_machine_arn, client("stepfunctions")),
        mailer=SesMailer(wiring.sender, client("sesv2"), wiring.configuration_set),
        limits=DynamoDBDeskStore(wiring.table, ddb),
        key=key,
        base_url=wiring.approval_base_url,
        pages=DynamoDBPageStore(wiring.table, ddb),
    )


class WebDeskEnv(DeskEnv):
    """What the web desk (``/desk`` on the approval function) needs besides the approval desk's."""

    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", pattern=r"^arn:aws[a-z-]*:states:")
    sender_email: str = Field(alias="SENDER_EMAIL", min_length=3)


@lru_cache(maxsize=1)
def deployed_desk() -> Desk:  # pragma: no cover - exercised in AWS
    env = load_settings(WebDeskEnv)
    wiring = Wiring(
        table=env.table_name,
        state_machine_arn=env.state_machine_arn,
        approval_base_url="",  # links point where the request came: the function URL
        sender=env.sender_email,
        topics={},
        page_targets=[],
    )
    return build_desk(
        load_runbook(env.runbook_path, lint=False),
        wiring,
        lambda service, region=None: boto3.client(service, **with_retries(service, region_name=region)),
        secret_key(env.hmac_secret_id),
    )
