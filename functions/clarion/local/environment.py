"""Resources of the pipeline inside the embedded emulator, made from the same definitions the
adapters and the CDK app use, and the real handlers' runtimes wired to them."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from clarion.adapters.aws_errors import retry_config
from clarion.adapters.channels import secret_key
from clarion.adapters.dynamodb_store import (
    DynamoDBFeedbackStore,
    DynamoDBIncidentStore,
    DynamoDBWorkflowStore,
    table_definition,
)
from clarion.adapters.stepfunctions_workflow import StepFunctionsWorkflow
from clarion.domain.approvals.desk import ApprovalDesk
from clarion.domain.feedback.collect import FeedbackCollector
from clarion.domain.runbooks.model import Runbook
from clarion.domain.workflow.service import WorkflowService
from clarion.handlers.feedback_api import FeedbackPages
from clarion.handlers.intake import IntakeRuntime
from clarion.handlers.runtime import PageTarget, Wiring, build, build_desk
from clarion.local.faults import FaultInjector
from clarion.local.moto_glue import EmbeddedMoto, route_lambda_invokes

REPO = Path(__file__).resolve().parents[3]
ASL = REPO / "infra" / "statemachine" / "incident.asl.json"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def render_asl(path: Path, substitutions: dict[str, str]) -> str:
    """The ASL file with ``${Name}`` replaced, as CDK's ``definition_substitutions`` does."""
    text = path.read_text(encoding="utf-8")
    missing = sorted(set(_PLACEHOLDER.findall(text)) - substitutions.keys())
    if missing:
        raise ValueError(f"{path.name}: no value for placeholder(s) {', '.join(missing)}")
    rendered = _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], text)
    json.loads(rendered)  # fail here, not inside the emulator
    return rendered


def idempotency_table_definition(name: str) -> dict[str, Any]:
    """Powertools' DynamoDBPersistenceLayer defaults: partition key ``id``."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    }


@dataclass(frozen=True)
class LocalNames:
    region: str = "us-east-1"
    account: str = "123456789012"
    table: str = "clarion-incidents"
    idempotency_table: str = "clarion-idempotency"
    state_machine: str = "clarion-incident-workflow"
    steps_function: str = "clarion-workflow-steps"
    page_bucket: str = "clarion-status-page"
    secret: str = "clarion/approval-hmac"  # noqa: S105 - the secret's name, not its value
    sender: str = "clarion@ledgerly.example"
    dead_letters: str = "clarion-failed-deliveries"

    @property
    def state_machine_arn(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{self.state_machine}"

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role/clarion-workflow"

    def topic_arn(self, name: str) -> str:
        return f"arn:aws:sns:{self.region}:{self.account}:clarion-{name}"


TOPICS = ("customers", "technical", "chat", "internal")


class LocalEnvironment:
    def __init__(
        self, emulator: EmbeddedMoto, names: LocalNames | None = None, faults: FaultInjector | None = None
    ) -> None:
        self.emulator = emulator
        self.names = names or LocalNames()
        self.faults = faults or FaultInjector([])
        # Explicit dummy credentials: the local mode must never reach a real account.
        self.session = boto3.session.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the emulator needs some value; not a secret
            region_name=self.names.region,
        )
        self.steps: WorkflowService | None = None
        self.desk: ApprovalDesk | None = None
        self.web_desk: Any = None  # the desk (clarion.web.desk.Desk), once wired
        self.feedback: FeedbackPages | None = None

    def client(self, service: str, region: str | None = None, *, inject: bool = True) -> Any:
        """A client on the emulator, with the deployed retry budget and any ``--fault`` attached
        (``inject=False``: for looking at results, not for the pipeline)."""
        made = self.session.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.emulator.endpoint_url,
            region_name=region or self.names.region,
            config=retry_config(service),
        )
        return self.faults.attach(made, service) if inject else made

    def provision(self, *, execute_workflows: bool = True) -> None:
        """Tables, topics, the page bucket, the HMAC secret, the sender identity, the steps
        function and the state machine from the one ASL file. With ``execute_workflows`` (set
        first: moto keeps executable state machines in another backend) executions really run."""
        self.emulator.configure(execute_state_machines=execute_workflows)
        n = self.names
        ddb = self.client("dynamodb")
        ddb.create_table(**table_definition(n.table))
        ddb.create_table(**idempotency_table_definition(n.idempotency_table))
        sns = self.client("sns")
        for topic in TOPICS:
            sns.create_topic(Name=f"clarion-{topic}")
        s3 = self.client("s3")
        s3.create_bucket(Bucket=n.page_bucket)
        s3.put_bucket_versioning(Bucket=n.page_bucket, VersioningConfiguration={"Status": "Enabled"})
        self.client("sqs").create_queue(QueueName=n.dead_letters)
        self.client("secretsmanager").create_secret(Name=n.secret, SecretString=secrets.token_urlsafe(48))
        self.client("sesv2").create_email_identity(EmailIdentity=n.sender)
        iam = self.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                }
            ],
        }
        role = iam.create_role(RoleName="clarion-workflow", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        steps = self.client("lambda").create_function(
            FunctionName=n.steps_function,
            Runtime="python3.11",
            Role=role,
            Handler="clarion.handlers.workflow_steps.lambda_handler",
            Code={"ZipFile": _EMPTY_ZIP},
        )["FunctionArn"]
        self.client("stepfunctions").create_state_machine(
            name=n.state_machine,
            definition=render_asl(ASL, {"StepsFunctionArn": steps}),
            roleArn=role,
            type="STANDARD",
        )

    def chart_metrics(self, runbook: Runbook, now: datetime) -> tuple[int, list[str]]:
        """What production does every five minutes, on the emulator: the sample series put into its
        CloudWatch (``put_metric_data``), then the metrics function's code reads them back with
        GetMetricData and publishes the charts. Returns the data points put and the files written."""
        from clarion.domain.metrics import WINDOWS
        from clarion.handlers.page_metrics import publish_metrics
        from clarion.status_page.sample import sample_metrics

        sample = sample_metrics(runbook, now)
        put = 0
        for component in runbook.components.components:
            for metric in component.metrics:
                cw = self.client("cloudwatch", metric.region)
                # The hourly 7-day points, then the 5-minute points of the last day.
                week = [
                    p for p in sample.get(component.id, metric.id, WINDOWS[1]).points if p[0] < now - WINDOWS[0].span
                ]
                points = week + sample.get(component.id, metric.id, WINDOWS[0]).points
                for start in range(0, len(points), 1000):
                    cw.put_metric_data(
                        Namespace=metric.namespace,
                        MetricData=[
                            {
                                "MetricName": metric.name,
                                "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions.items()],
                                "Timestamp": at,
                                "Value": value,
                                **({"Unit": metric.unit} if metric.unit != "None" else {}),
                            }
                            for at, value in points[start : start + 1000]
                        ],
                    )
                put += len(points)
        targets = [{"name": "primary", "bucket": self.names.page_bucket}]
        report = publish_metrics(runbook, targets, self.client, now)
        return put, [path for t in report.targets for path in t.written]

    def store(self) -> DynamoDBIncidentStore:
        """For looking at what happened (faults are for the pipeline, not the observer)."""
        return DynamoDBIncidentStore(self.names.table, self.client("dynamodb", inject=False))

    def workflow_store(self) -> DynamoDBWorkflowStore:
        return DynamoDBWorkflowStore(self.names.table, self.client("dynamodb", inject=False))

    def intake_runtime(self, runbook: Runbook) -> IntakeRuntime:
        ddb = self.client("dynamodb")
        return IntakeRuntime(
            runbook=runbook,
            store=DynamoDBIncidentStore(self.names.table, ddb),
            workflow=StepFunctionsWorkflow(self.names.state_machine_arn, self.client("stepfunctions")),
            idempotency_table=self.names.idempotency_table,
            dynamodb_client=ddb,
        )

    def wire(
        self,
        runbook: Runbook,
        *,
        approval_base_url: str,
        time_scale: float,
        sleep: Callable[[float], None] | None = None,
        feedback_url: str | None = None,
    ) -> tuple[WorkflowService, ApprovalDesk]:
        """Build the real workflow service and approval desk on the emulator, and route the state
        machine's Lambda tasks to them in this process."""
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()  # type: ignore[no-untyped-call]  # a secret of the same name in an earlier emulator is not this one
        n = self.names
        wiring = Wiring(
            table=n.table,
            state_machine_arn=n.state_machine_arn,
            approval_base_url=approval_base_url,
            sender=n.sender,
            topics={t: n.topic_arn(t) for t in TOPICS},
            page_targets=[PageTarget(name="primary", bucket=n.page_bucket)],
            time_scale=time_scale,
            dead_letter_queue_url=self.client("sqs").get_queue_url(QueueName=n.dead_letters)["QueueUrl"],
            feedback_url=feedback_url or approval_base_url,  # the local server answers both
        )
        key = secret_key(n.secret, self.client("secretsmanager"))
        self.steps, self.desk = build(runbook, wiring, self.client, key, sleep=sleep or time.sleep)
        self.web_desk = build_desk(runbook, wiring, self.client, key)
        self.feedback = FeedbackPages(
            runbook=runbook,
            collector=FeedbackCollector(
                store=DynamoDBFeedbackStore(n.table, self.client("dynamodb")), key=key, clock=self.steps.clock
            ),
        )
        steps = self.steps

        def dispatch(function: str, event: dict[str, Any]) -> dict[str, Any]:
            if function != n.steps_function:
                raise LookupError(f"no local function {function!r}")
            return run_step_quietly(event, steps)

        route_lambda_invokes(dispatch)
        return self.steps, self.desk


def run_step_quietly(event: dict[str, Any], service: WorkflowService) -> dict[str, Any]:
    from clarion.handlers.observability import metrics
    from clarion.handlers.workflow_steps import run_step

    try:
        return run_step(event, service)
    finally:
        metrics.clear_metrics()


# The simple Lambda backend never runs the code; an empty zip archive satisfies CreateFunction.
_EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18


def invoke_intake(event: Any, runtime: IntakeRuntime) -> dict[str, Any]:
    """Invoke the intake handler in-process as Lambda would: a fresh context per call, and the
    metrics of the invocation dropped afterwards (Lambda flushes them to CloudWatch; here they
    would only pile up)."""
    from clarion.handlers.intake import handle
    from clarion.handlers.observability import metrics
    from clarion.local.context import LocalLambdaContext

    try:
        return handle(event, runtime, LocalLambdaContext("clarion-intake"))
    finally:
        metrics.clear_metrics()
