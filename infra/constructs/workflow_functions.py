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

from infra.constructs.lambda_package import ARCHITECTURE, RUNTIME

TOPICS = ("customers", "technical", "chat", "internal")


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

        def function(name: str, handler: str, env: dict[str, str], timeout: int) -> lambda_.Function:
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
            )

        self.approvals = function(
            "Approvals",
            "clarion.handlers.approval_api.lambda_handler",
            {"POWERTOOLS_SERVICE_NAME": "clarion-approvals"},
            15,
        )
        # Approvers open the link from an email: the URL is public; what protects a decision is the
        # link's HMAC signature, its expiry and the page's CSRF value (DESIGN.md decision 2).
        self.approval_url = self.approvals.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        incidents.grant_read_write_data(self.approvals)
        self.secret.grant_read(self.approvals)
        self.approvals.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resources=[state_machine_arn]
            )
        )

        self.steps = function(
            "Steps",
            "clarion.handlers.workflow_steps.lambda_handler",
            {
                "POWERTOOLS_SERVICE_NAME": "clarion-workflow",
                "DEAD_LETTER_QUEUE_URL": self.dead_letters.queue_url,
                "APPROVAL_BASE_URL": self.approval_url.url,
                "SENDER_EMAIL": sender_email,
                **{f"TOPIC_{name.upper()}": topic.topic_arn for name, topic in self.topics.items()},
                "PAGE_TARGETS": stack.to_json_string(
                    [{"name": region, "bucket": bucket, "region": region} for region, bucket in page_buckets.items()]
                ),
            },
            120,
        )
        incidents.grant_read_write_data(self.steps)
        self.dead_letters.grant_send_messages(self.steps)
        self.secret.grant_read(self.steps)
        self.steps.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[t.topic_arn for t in self.topics.values()])
        )
        self.steps.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn])
        )
        # The page's files, and listing so a missing manifest reads as "not found", not "denied".
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
        )
        self.subscribe_url = self.subscriptions.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        incidents.grant_read_write_data(self.subscriptions)
        self.secret.grant_read(self.subscriptions)
        self.subscriptions.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Subscribe"], resources=[self.topics["customers"].topic_arn])
        )
        self.subscriptions.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sms-voice:SendTextMessage"], resources=[stack.format_arn(service="sms-voice", resource="*")]
            )
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
        if d.webhooks:
            secrets = sorted(
                {w.url_secret for w in d.webhooks if w.url_secret}
                | {w.signing_secret for w in d.webhooks if w.signing_secret}
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
