"""The pipeline watches itself: alarms on what would silently stop customer communication, to an
encrypted operations topic, and a dashboard."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        functions: dict[str, lambda_.IFunction],
        queues: dict[str, sqs.IQueue],
        state_machine: sfn.IStateMachine,
        ops_email: str | None,
    ) -> None:
        super().__init__(scope, id)
        key = kms.Key(self, "TopicKey", enable_key_rotation=True, description="Clarion operations topic")
        # CloudWatch alarms publish to an encrypted topic only if they may use its key.
        # Only this account's alarms (aws:SourceAccount): the service principal alone would let
        # CloudWatch use the key on behalf of any account that names this topic (confused deputy).
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        self.topic = sns.Topic(self, "OpsTopic", master_key=key, enforce_ssl=True, display_name=f"{prefix} operations")
        if ops_email:
            self.topic.add_subscription(subs.EmailSubscription(ops_email))
        action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cw.Alarm] = []

        def alarm(name: str, metric: cw.IMetric, description: str) -> None:
            a = cw.Alarm(
                self,
                name,
                alarm_name=f"{prefix}-{name}",
                alarm_description=description,
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            a.add_alarm_action(action)
            self.alarms.append(a)

        five = Duration.minutes(5)
        for name, queue in queues.items():
            alarm(
                f"{name}DeadLetters",
                queue.metric_approximate_number_of_messages_visible(period=five),
                f"Events or messages reached the {name} dead-letter queue: inspect and redrive them.",
            )
        for name, fn in functions.items():
            alarm(f"{name}Errors", fn.metric_errors(period=five), f"The {name} function failed.")
            alarm(f"{name}Throttles", fn.metric_throttles(period=five), f"The {name} function was throttled.")
        alarm(
            "WorkflowFailed",
            state_machine.metric_failed(period=five),
            "An incident workflow execution failed.",
        )
        alarm("WorkflowTimedOut", state_machine.metric_timed_out(period=five), "An incident workflow timed out.")

        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=prefix)
        self.dashboard.add_widgets(cw.AlarmStatusWidget(title="Clarion health", alarms=self.alarms, width=24))
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Workflow executions",
                left=[
                    state_machine.metric_started(),
                    state_machine.metric_succeeded(),
                    state_machine.metric_failed(),
                ],
            ),
            cw.GraphWidget(title="Function errors", left=[fn.metric_errors() for fn in functions.values()]),
            cw.GraphWidget(
                title="Dead letters",
                left=[q.metric_approximate_number_of_messages_visible() for q in queues.values()],
            ),
        )
