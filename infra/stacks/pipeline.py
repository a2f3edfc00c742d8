"""The pipeline stack: intake, incident store, workflow, and the monitoring of all three."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Aws, CfnOutput, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from clarion.domain.runbooks.model import Deliveries
from constructs import Construct

from infra.config import ClarionConfig
from infra.constructs.incident_store import IncidentStore
from infra.constructs.intake import Intake
from infra.constructs.lambda_package import lambda_code
from infra.constructs.monitoring import Monitoring
from infra.constructs.page_metrics import PageMetrics
from infra.constructs.workflow import Workflow
from infra.constructs.workflow_functions import WorkflowFunctions


class PipelineStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: ClarionConfig,
        runbook_dir: Path,
        deliveries: Deliveries | None = None,
        alarm_filter: dict[str, Any] | None = None,
        charts_metrics: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        self.deliveries = deliveries or Deliveries()
        retention = _retention(config.log_retention_days)
        code = lambda_code(runbook_dir)

        store = IncidentStore(self, "Store")
        # The state machine's ARN is known from its name, so the functions it calls and the approval
        # endpoint that answers it can be scoped to it without a dependency cycle.
        state_machine_arn = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=config.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        functions = WorkflowFunctions(
            self,
            "WorkflowFunctions",
            code=code,
            incidents=store.incidents,
            state_machine_arn=state_machine_arn,
            sender_email=config.sender_email,
            page_buckets={r: config.page_bucket_name(r, Aws.ACCOUNT_ID) for r in config.page_regions},
            deliveries=deliveries or Deliveries(),
            retention=retention,
            memory_mb=config.lambda_memory_mb,
            url_concurrency=config.function_url_concurrency or None,  # 0: no reservation (not "throttle all")
        )
        workflow = Workflow(
            self,
            "Workflow",
            name=config.state_machine_name,
            substitutions={"StepsFunctionArn": functions.steps.function_arn},
            retention=retention,
        )
        workflow.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[functions.steps.function_arn])
        )
        intake = Intake(
            self,
            "Intake",
            code=code,
            incidents=store.incidents,
            idempotency=store.idempotency,
            state_machine=workflow.state_machine,
            retention=retention,
            memory_mb=config.lambda_memory_mb,
            alarm_filter=alarm_filter,
        )
        watched: dict[str, lambda_.IFunction] = {
            "Intake": intake.function,
            "Steps": functions.steps,
            "Approvals": functions.approvals,
            "Subscriptions": functions.subscriptions,
            "Feedback": functions.feedback,
        }
        self.page_metrics: PageMetrics | None = None
        if charts_metrics:  # components.yaml names metrics: chart them every 5 minutes
            self.page_metrics = PageMetrics(
                self,
                "PageMetrics",
                code=code,
                page_buckets={r: config.page_bucket_name(r, Aws.ACCOUNT_ID) for r in config.page_regions},
                retention=retention,
                memory_mb=config.lambda_memory_mb,
            )
            watched["PageMetrics"] = self.page_metrics.function
        monitoring = Monitoring(
            self,
            "Monitoring",
            prefix=config.prefix,
            functions=watched,
            queues={"Intake": intake.dlq, "Deliveries": functions.dead_letters},
            state_machine=workflow.state_machine,
            ops_email=config.ops_email,
        )
        self.store, self.workflow, self.intake, self.monitoring = store, workflow, intake, monitoring
        self.functions = functions

        CfnOutput(
            self,
            "IntakeFunctionArn",
            value=intake.function.function_arn,
            description="Name this ARN as an alarm's Lambda action to send it to Clarion directly",
        )
        CfnOutput(self, "IncidentTableName", value=store.incidents.table_name)
        CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        CfnOutput(self, "OpsTopicArn", value=monitoring.topic.topic_arn)
        CfnOutput(self, "ApprovalUrl", value=functions.approval_url.url)
        CfnOutput(
            self,
            "FeedbackUrl",
            value=functions.feedback_url.url,
            description="The feedback endpoint: incident pages and customer emails ask 'Was this update helpful?'",
        )
        CfnOutput(
            self,
            "SubscribeUrl",
            value=functions.subscribe_url.url,
            description="Set page.subscribe_url in clarion.yaml to this to offer the subscribe form",
        )
        for name, topic in functions.topics.items():
            CfnOutput(self, f"{name.title()}TopicArn", value=topic.topic_arn)
        self._acknowledge(self.get_logical_id(store.incidents.node.default_child))  # type: ignore[arg-type]

    def _acknowledge(self, incidents_id: str) -> None:
        """cdk-nag findings this design accepts, each with the reason a reviewer would ask for."""
        # With the partition-literals feature flag the partition is "aws"; without it, a token.
        partition = "<AWS::Partition>" if Token.is_unresolved(self.partition) else self.partition
        basic_role = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        findings = {
            f"AwsSolutions-IAM4[Policy::{basic_role}]": (
                "Lambda's basic execution policy only lets the function write its own CloudWatch Logs."
            ),
            f"AwsSolutions-IAM5[Resource::<{incidents_id}.Arn>/index/*]": (
                "Querying the incident table's by_kind index needs its index ARN; the wildcard covers only "
                "this table's indexes."
            ),
            f"AwsSolutions-IAM5[Resource::arn:{partition}:sms-voice:{self.region}:<AWS::AccountId>:*]": (
                "End User Messaging sends from the origination identity named in the runbook (a number, sender "
                "id or pool: different ARN types); the action is only SendTextMessage/SendVoiceMessage."
            ),
            f"AwsSolutions-IAM5[Resource::arn:{partition}:states:{self.region}:<AWS::AccountId>:execution:"
            f"{self.config.state_machine_name}:*]": (
                "The desk cancels maintenance by stopping that maintenance's execution; executions are named "
                "at run time, and the wildcard covers only executions of Clarion's own state machine."
            ),
            "AwsSolutions-SMG4": (
                "The HMAC key signs approval links that live minutes; rotating it on a schedule would kill "
                "every outstanding link in the middle of an incident. Rotate it by hand between incidents."
            ),
            "AwsSolutions-IAM5[Resource::*]": (
                "X-Ray PutTraceSegments/PutTelemetryRecords, the Step Functions log-delivery actions "
                "(logs:*LogDelivery, DescribeResourcePolicies, DescribeLogGroups) and cloudwatch:GetMetricData "
                "(the metrics function's only CloudWatch action) support no resource-level permissions; AWS "
                "documents '*' as the only valid resource for them."
            ),
            "AwsSolutions-SQS3": (
                "These queues are the dead-letter queues; a DLQ of a DLQ adds nothing. Their depth is alarmed."
            ),
        }
        d = self.deliveries
        secrets = {w.url_secret for w in d.webhooks if w.url_secret} | {
            w.signing_secret for w in d.webhooks if w.signing_secret
        }
        secrets |= {d.mastodon.token_secret} if d.mastodon else set()
        secrets |= {d.bluesky.app_password_secret} if d.bluesky else set()
        for name in sorted(secrets):
            arn = f"arn:{partition}:secretsmanager:{self.region}:<AWS::AccountId>:secret:{name}-*"
            findings[f"AwsSolutions-IAM5[Resource::{arn}]"] = (
                "Secrets Manager appends six random characters to a secret's ARN; the wildcard covers only "
                "that suffix of the secret the runbook names, read with secretsmanager:GetSecretValue only."
            )
        for region in self.config.page_regions:
            bucket = self.config.page_bucket_name(region, "<AWS::AccountId>")
            findings[f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{bucket}/*]"] = (
                "The workflow writes the status page: every object of a page bucket is a page file, "
                "written with s3:GetObject/s3:PutObject only."
            )
        validations = Validations.of(self)
        for rule, reason in findings.items():
            validations.acknowledge(Acknowledgment(id=rule, reason=reason))


_RETENTIONS = [
    (1, "ONE_DAY"),
    (3, "THREE_DAYS"),
    (5, "FIVE_DAYS"),
    (7, "ONE_WEEK"),
    (14, "TWO_WEEKS"),
    (30, "ONE_MONTH"),
    (60, "TWO_MONTHS"),
    (90, "THREE_MONTHS"),
    (120, "FOUR_MONTHS"),
    (150, "FIVE_MONTHS"),
    (180, "SIX_MONTHS"),
    (365, "ONE_YEAR"),
    (400, "THIRTEEN_MONTHS"),
    (545, "EIGHTEEN_MONTHS"),
    (731, "TWO_YEARS"),
    (1096, "THREE_YEARS"),
    (1827, "FIVE_YEARS"),
    (2192, "SIX_YEARS"),
    (2557, "SEVEN_YEARS"),
    (2922, "EIGHT_YEARS"),
    (3288, "NINE_YEARS"),
    (3653, "TEN_YEARS"),
]


def _retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch Logs retention that keeps at least ``days``."""
    name = next((n for d, n in _RETENTIONS if d >= days), "TEN_YEARS")
    return logs.RetentionDays[name]
