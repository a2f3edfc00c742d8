"""Alarm intake: the function, the EventBridge rule, the alarm-action permission, and a DLQ so
no event is lost."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from clarion.domain.alarms.events import STATE_CHANGE
from constructs import Construct

from infra.checkov import skip
from infra.constructs.incident_store import grant_idempotency, grant_store
from infra.constructs.lambda_package import ARCHITECTURE, RUNTIME


class Intake(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: lambda_.Code,
        incidents: dynamodb.ITableV2,
        idempotency: dynamodb.ITableV2,
        state_machine: sfn.IStateMachine,
        retention: logs.RetentionDays,
        memory_mb: int,
        alarm_filter: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.dlq = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        log_group = logs.LogGroup(self, "Logs", retention=retention)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler="clarion.handlers.intake.lambda_handler",
            memory_size=memory_mb,
            timeout=Duration.seconds(30),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            environment={
                "TABLE_NAME": incidents.table_name,
                "IDEMPOTENCY_TABLE_NAME": idempotency.table_name,
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
                "RUNBOOK_PATH": "/var/task/runbooks",
                "POWERTOOLS_SERVICE_NAME": "clarion-intake",
                "POWERTOOLS_METRICS_NAMESPACE": "Clarion",
            },
            retry_attempts=2,
            on_failure=destinations.SqsDestination(self.dlq),
        )
        skip(
            self.function,
            "CKV_AWS_116",
            "Failed asynchronous invocations go to the DeadLetters queue through an on-failure destination "
            "(which keeps the error, unlike DeadLetterConfig); the EventBridge target has the same queue.",
        )
        skip(
            self.function,
            "CKV_AWS_115",
            "Alarm state changes arrive in bursts during an outage; a reservation would throttle intake when "
            "it matters most. Each event is processed once (idempotency), so a burst costs nothing twice.",
        )
        grant_store(incidents, self.function)
        grant_idempotency(idempotency, self.function)
        state_machine.grant_start_execution(self.function)

        self.rule = events.Rule(
            self,
            "AlarmStateChange",
            description="CloudWatch alarm state changes the runbook can route, to Clarion intake",
            # ``alarm_filter``: the alarm names and namespaces the runbook's rules can match,
            # derived at synth (clarion.domain.runbooks.event_filter), so other alarms cost nothing.
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"], detail_type=[STATE_CHANGE], detail=alarm_filter
            ),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.dlq,
                    retry_attempts=8,
                    max_event_age=Duration.hours(2),
                )
            ],
        )
        # Alarms may also name the function as their own action (alarm Lambda action).
        stack = Stack.of(self)
        self.function.add_permission(
            "AlarmAction",
            principal=iam.ServicePrincipal("lambda.alarms.cloudwatch.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_account=stack.account,
            source_arn=stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name="*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
        )
