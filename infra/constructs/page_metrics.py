"""The scheduled metrics function: every 5 minutes it reads the CloudWatch metrics the runbook charts
and writes the charts and ``api/v2/metrics.json`` into every page bucket. Its role can read metric
data (``cloudwatch:GetMetricData``, which has no resource-level permissions) and read and write the
page buckets' objects; nothing else."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.checkov import skip
from infra.constructs.lambda_package import ARCHITECTURE, RUNTIME

SCHEDULE_MINUTES = 5


class PageMetrics(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: lambda_.Code,
        page_buckets: dict[str, str],
        retention: logs.RetentionDays,
        memory_mb: int,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler="clarion.handlers.page_metrics.lambda_handler",
            memory_size=memory_mb,
            timeout=Duration.seconds(120),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=logs.LogGroup(self, "Logs", retention=retention),
            environment={
                "RUNBOOK_PATH": "/var/task/runbooks",
                "POWERTOOLS_SERVICE_NAME": "clarion-page-metrics",
                "PAGE_TARGETS": stack.to_json_string(
                    [{"name": region, "bucket": bucket, "region": region} for region, bucket in page_buckets.items()]
                ),
            },
        )
        skip(
            self.function,
            "CKV_AWS_116",
            "Its schedule invokes it every 5 minutes without retries; a missed run is simply the next run, "
            "which redraws everything from CloudWatch. There is nothing a dead-letter queue could redrive.",
        )
        skip(
            self.function,
            "CKV_AWS_115",
            "One invocation every 5 minutes; a reservation would only take capacity from the account's pool.",
        )
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"]))
        bucket_arns = [f"arn:{Aws.PARTITION}:s3:::{bucket}" for bucket in page_buckets.values()]
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[f"{a}/*" for a in bucket_arns])
        )
        # A missing manifest then reads as "not found" rather than "access denied".
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=bucket_arns))
        self.schedule = events.Rule(
            self,
            "Schedule",
            description="Clarion: redraw the status page's metric charts",
            schedule=events.Schedule.rate(Duration.minutes(SCHEDULE_MINUTES)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=0)],
        )
