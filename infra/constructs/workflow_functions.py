"""The workflow's functions and what they publish to: the steps function (every Task state), the
approval endpoint (a Lambda function URL), the HMAC secret for approval links, the SNS topics and
the status-page bucket."""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from clarion.domain.runbooks.model import Deliveries
from constructs import Construct

from infra.checkov import skip
from infra.constructs.incident_store import grant_store
from infra.constructs.lambda_package import ARCHITECTURE, RUNTIME

TOPICS = ("customers", "technical", "chat", "internal")
SYNCHRONOUS = (
    "Invoked synchronously through its function URL: the caller gets the error. A dead-letter queue "
    "applies only to asynchronous invocations."
)


class WorkflowFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: lambda_.Code,
        incidents: dynamodb.ITableV2,
        state_machine_arn: str,
        sender_email: str,
        page_buckets: dict[str, str],
        deliveries: Deliveries,
        retention: logs.RetentionDays,
        memory_mb: int,
        url_concurrency: int | None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.key = kms.Key(self, "TopicsKey", enable_key_rotation=True, description="Clarion message topics")
        self.topics = {
            name: sns.Topic(
                self, f"{name.title()}Topic", master_key=self.key, enforce_ssl=True, display_name=f"Clarion {name}"
            )
            for name in TOPICS
        }
        self.secret = secretsmanager.Secret(
            self,
            "ApprovalKey",
            description="HMAC key signing Clarion approval links",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        skip(
            self.secret,
            "CKV_AWS_149",
            "Encrypted with the AWS managed key of Secrets Manager; only this stack's function roles may read "
            "it (their policies name this secret). A customer managed key would add a key policy to keep in "
            "step without excluding any reader.",
        )
        self.dead_letters = sqs.Queue(
            self,
            "FailedDeliveries",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        common_env = {
            "RUNBOOK_PATH": "/var/task/runbooks",
            "POWERTOOLS_METRICS_NAMESPACE": "Clarion",
            "TABLE_NAME": incidents.table_name,
            "STATE_MACHINE_ARN": state_machine_arn,
            "HMAC_SECRET_ID": self.secret.secret_arn,
        }

        def function(
            name: str, handler: str, env: dict[str, str], timeout: int, concurrency: int | None = None
        ) -> lambda_.Function:
            return lambda_.Function(
                self,
                name,
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                code=code,
                handler=handler,
                memory_size=memory_mb,
                timeout=Duration.seconds(timeout),
                tracing=lambda_.Tracing.ACTIVE,
                log_group=logs.LogGroup(self, f"{name}Logs", retention=retention),
                environment={**common_env, **env},
                reserved_concurrent_executions=concurrency,
            )

        def public(fn: lambda_.Function, why_public: str) -> lambda_.FunctionUrl:
            skip(fn, "CKV_AWS_116", SYNCHRONOUS)
            if url_concurrency is None:
                skip(fn, "CKV_AWS_115", "Reserved concurrency is off in this deployment (function_url_concurrency).")
            url = fn.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
            skip(url, "CKV_AWS_258", why_public)
            return url

        self.approvals = function(
            "Approvals",
            "clarion.handlers.approval_api.lambda_handler",
            {"POWERTOOLS_SERVICE_NAME": "clarion-approvals", "SENDER_EMAIL": sender_email},
            15,
            url_concurrency,
        )
        self.approval_url = public(
            self.approvals,
            "Approvers open the link from an email, so the URL is public; what protects a decision is the "
            "link's HMAC signature, its expiry and the page's CSRF value (docs/design.md, decision 2).",
        )
        grant_store(incidents, self.approvals)
        self._read_key(self.approvals)
        self.approvals.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resources=[state_machine_arn]
            )
        )
        # The desk (same function URL, /desk): it declares, updates and resolves incidents and schedules
        # or cancels maintenance through the workflow, and emails sign-in links.
        self.approvals.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[state_machine_arn])
        )
        self.approvals.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:StopExecution"],
                # the maintenance executions of this state machine (the ARN is format_arn's: the
                # state machine's name is literal text in it)
                resources=[state_machine_arn.replace(":stateMachine:", ":execution:") + ":*"],
            )
        )
        self.approvals.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail"],
                resources=[stack.format_arn(service="ses", resource="identity", resource_name=sender_email)],
            )
        )

        # "Was this update helpful?": the incident pages' form and the email links reach it. Public:
        # what makes an answer count is the signed per-update token; a rate limit per source and a
        # reserved concurrency keep a flood from costing more than a few counter updates.
        self.feedback = function(
            "Feedback",
            "clarion.handlers.feedback_api.lambda_handler",
            {"POWERTOOLS_SERVICE_NAME": "clarion-feedback"},
            10,
            url_concurrency,
        )
        self.feedback_url = public(
            self.feedback,
            "Readers answer 'Was this update helpful?' from the status page's form and from email links in any "
            "browser; an answer counts only with a signed per-update token, once per reader, rate-limited per source.",
        )
        grant_store(incidents, self.feedback)
        self._read_key(self.feedback)

        self.steps = function(
            "Steps",
            "clarion.handlers.workflow_steps.lambda_handler",
            {
                "POWERTOOLS_SERVICE_NAME": "clarion-workflow",
                "DEAD_LETTER_QUEUE_URL": self.dead_letters.queue_url,
                "APPROVAL_BASE_URL": self.approval_url.url,
                "FEEDBACK_URL": self.feedback_url.url,
                "SENDER_EMAIL": sender_email,
                **{f"TOPIC_{name.upper()}": topic.topic_arn for name, topic in self.topics.items()},
                "PAGE_TARGETS": stack.to_json_string(
                    [{"name": region, "bucket": bucket, "region": region} for region, bucket in page_buckets.items()]
                ),
            },
            120,
        )
        skip(
            self.steps,
            "CKV_AWS_116",
            "Only the state machine invokes it, synchronously; the ASL's Retry and "
            "Catch handle its failures. A dead-letter queue applies only to asynchronous invocations.",
        )
        skip(
            self.steps,
            "CKV_AWS_115",
            "Only the state machine invokes it, a few calls at a time per running "
            "incident; a reservation would throttle customer updates in a large incident, not a flood.",
        )
        grant_store(incidents, self.steps)
        self.steps.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn])
        )
        self._read_key(self.steps)
        self.steps.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[t.topic_arn for t in self.topics.values()])
        )
        # Kept without a failing path in the rehearsal: AWS requires a publisher to an encrypted topic
        # to use its key; moto does not model that.
        self.steps.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn])
        )
        # The page's files, and listing so a missing manifest reads as "not found", not "denied" (kept
        # without a failing path in the rehearsal: moto answers NoSuchKey either way).
        bucket_arns = [f"arn:{Aws.PARTITION}:s3:::{bucket}" for bucket in page_buckets.values()]
        self.steps.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[f"{a}/*" for a in bucket_arns])
        )
        self.steps.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=bucket_arns))
        self.steps.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail"],
                resources=[stack.format_arn(service="ses", resource="identity", resource_name=sender_email)],
            )
        )
        self.steps.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[state_machine_arn])
        )
        self._delivery_permissions(deliveries, sender_email)

        # Self-service subscriptions: the status page's form posts here (public, rate-limited).
        self.subscriptions = function(
            "Subscriptions",
            "clarion.handlers.subscriptions.lambda_handler",
            {
                "POWERTOOLS_SERVICE_NAME": "clarion-subscriptions",
                "TOPIC_CUSTOMERS": self.topics["customers"].topic_arn,
                "SMS_ORIGINATION_IDENTITY": deliveries.sms.origination_identity if deliveries.sms else "",
            },
            15,
            url_concurrency,
        )
        self.subscribe_url = public(
            self.subscriptions,
            "The status page's subscribe form posts here from any browser; requests are rate-limited per "
            "source, answers reveal nothing, and email and SMS subscriptions need the subscriber's confirmation.",
        )
        grant_store(incidents, self.subscriptions)
        self.subscriptions.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Subscribe"], resources=[self.topics["customers"].topic_arn])
        )
        if deliveries.sms:  # SMS subscriptions (a hashed code by SMS) only where the runbook sends SMS
            self._read_key(self.subscriptions)
            self.subscriptions.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["sms-voice:SendTextMessage"],
                    resources=[stack.format_arn(service="sms-voice", resource="*")],
                )
            )

    def _read_key(self, fn: lambda_.Function) -> None:
        """The approval-link key: GetSecretValue only (Powertools reads the value, never describes it)."""
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[self.secret.secret_arn])
        )

    def _delivery_permissions(self, d: Deliveries, sender_email: str) -> None:
        """Only the channels the runbook configures, each on its own resources."""
        stack = Stack.of(self)
        if d.sms or d.voice:
            actions = [
                a for a, on in (("sms-voice:SendTextMessage", d.sms), ("sms-voice:SendVoiceMessage", d.voice)) if on
            ]
            self.steps.add_to_role_policy(
                iam.PolicyStatement(actions=actions, resources=[stack.format_arn(service="sms-voice", resource="*")])
            )
        if d.push:
            self.steps.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["mobiletargeting:SendMessages"],
                    resources=[
                        stack.format_arn(
                            service="mobiletargeting",
                            resource="apps",
                            resource_name=f"{d.push.application_id}/messages",
                        )
                    ],
                )
            )
        if d.whatsapp:
            self.steps.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["social-messaging:SendWhatsAppMessage"],
                    resources=[
                        stack.format_arn(
                            service="social-messaging",
                            resource="phone-number-id",
                            resource_name=d.whatsapp.phone_number_id,
                        )
                    ],
                )
            )
        if d.webhooks or d.mastodon or d.bluesky:
            secrets = sorted(
                {w.url_secret for w in d.webhooks if w.url_secret}
                | {w.signing_secret for w in d.webhooks if w.signing_secret}
                | ({d.mastodon.token_secret} if d.mastodon else set())
                | ({d.bluesky.app_password_secret} if d.bluesky else set())
            )
            if secrets:
                self.steps.add_to_role_policy(
                    iam.PolicyStatement(
                        actions=["secretsmanager:GetSecretValue"],
                        resources=[
                            stack.format_arn(
                                service="secretsmanager",
                                resource="secret",
                                resource_name=f"{n}-*",
                                arn_format=ArnFormat.COLON_RESOURCE_NAME,
                            )
                            for n in secrets
                        ],
                    )
                )
