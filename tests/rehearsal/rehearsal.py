"""One rehearsal: the templates provisioned in moto, then every path of ``PATHS`` run through the
deployed entry points, each function under its own role's credentials with IAM enforced."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.conftest import RUNBOOKS
from tests.rehearsal.cloud import ACCOUNT, TemplateCloud
from tests.rehearsal.iam import Checks, credentials, enforced, resource_aware
from tests.rehearsal.paths import PATHS, Run, invoke_handler

REGION = "us-east-1"
HANDLERS = {
    "Intake": "clarion.handlers.intake",
    "Steps": "clarion.handlers.workflow_steps",
    "Approvals": "clarion.handlers.approval_api",
    "Subscriptions": "clarion.handlers.subscriptions",
    "PageMetrics": "clarion.handlers.page_metrics",
    "Feedback": "clarion.handlers.feedback_api",
}
_LOADER = botocore.loaders.create_loader()
# The SES identity is verified by the operator, outside the templates (README: deploying).
VERIFIED_SENDER = "status@example.com"


@dataclass
class Outcome:
    completed: list[str] = field(default_factory=list)  # "Function: path" that ran through
    failed: str = ""  # the first path that did not, and why
    denied: list[tuple[str, str]] = field(default_factory=list)
    seen: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # function -> (path, action, resource)
    statements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # function -> its role's statements


def function_ids(template: dict[str, Any]) -> dict[str, str]:
    """Short name -> logical id of each function the rehearsal knows."""
    ids = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        for short, module in HANDLERS.items():
            if resource["Properties"].get("Handler", "").startswith(module + "."):
                ids[short] = logical
    return ids


def _reset_containers() -> None:
    """A new Lambda container: nothing built by another function's invocation survives."""
    import clarion.handlers.approval_api as approvals
    import clarion.handlers.feedback_api as feedback
    import clarion.handlers.intake as intake
    import clarion.handlers.page_metrics as page_metrics
    import clarion.handlers.runtime as runtime
    import clarion.handlers.subscriptions as subscriptions
    import clarion.handlers.workflow_steps as steps
    from aws_lambda_powertools.utilities import parameters

    for cached in (
        intake.runtime,
        runtime._deployed,
        runtime._deployed_desk,
        runtime.deployed_desk,
        steps.service,
        approvals._deployed_app,
        subscriptions._deployed_app,
        page_metrics._deployed,
        feedback._deployed_app,
    ):
        cached.cache_clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    # A new default session: the old one resolved its credentials for the previous role. The service
    # models are shared, so they are not parsed again for every container.
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    boto3.setup_default_session(botocore_session=session)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def rehearse(
    pipeline: dict[str, Any],
    pages: list[tuple[dict[str, Any], str]],
    assets: Path,
    without: tuple[str, int] | None = None,
) -> Outcome:
    """Run every path; ``without=(function, i)`` drops the i-th statement of its role first."""
    from clarion.handlers.observability import metrics

    outcome = Outcome()
    # The paths call each function directly, with a made-up task token: moto's plain Step Functions
    # backend takes it. An embedded emulator started earlier in this process may have switched moto's
    # process-wide configuration to executing state machines, where that token would not exist.
    with mock_aws(config={"stepfunctions": {"execute_state_machine": False}}):

        def client(service: str, region: str = REGION) -> Any:
            return boto3.client(service, region_name=region)

        cloud = TemplateCloud(pipeline, REGION, client, assets)
        ids = function_ids(pipeline)
        for template, region in pages:
            page = TemplateCloud(template, region, client)
            for bucket in page.of_type("AWS::S3::Bucket"):
                if "BucketName" in page.resources[bucket]["Properties"]:
                    page.create(bucket)
        client("sesv2").create_email_identity(EmailIdentity=VERIFIED_SENDER)
        state_machine = cloud.ref(cloud.of_type("AWS::StepFunctions::StateMachine")[0])
        iam, sts = client("iam"), client("sts")
        roles: dict[str, dict[str, str]] = {}
        environments: dict[str, dict[str, str]] = {}
        for short, logical in ids.items():
            environments[short] = {**cloud.environment(logical), "RUNBOOK_PATH": str(RUNBOOKS)}
            role = cloud.role_of(logical)
            cloud.create(role)
            statements = [s for _, s in cloud.statements(role)]
            if without and without[0] == short:
                del statements[without[1]]
            outcome.statements[short] = statements
            iam.put_role_policy(
                RoleName=role,
                PolicyName="rehearsal",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            )
            arn = cloud.attribute(role, "Arn")
            roles[short] = sts.assume_role(RoleArn=arn, RoleSessionName=short)["Credentials"]

        checks = Checks(state_machine_arn=state_machine)
        current: list[str] = [""]

        def invoke(short: str, event: dict[str, Any]) -> Any:
            if current[0] != short:
                _reset_containers()
                current[0] = short
            before = len(checks.seen)
            with _environment(environments[short]), credentials(roles[short]):
                try:
                    return enforced(lambda: invoke_handler(HANDLERS[short], event, ids[short]))
                finally:
                    metrics.clear_metrics()
                    outcome.seen.setdefault(short, []).extend(checks.seen[before:])

        run = Run(functions=ids, invoke=invoke)
        with resource_aware(checks):
            for short, what, path in PATHS:
                if short not in ids:
                    continue
                checks.path = f"{short}: {what}"
                try:
                    path(run)
                except Exception as exc:
                    outcome.failed = f"{short}: {what}: {_reason(exc)}"
                    break
                outcome.completed.append(f"{short}: {what}")
        outcome.denied = list(checks.denied)
        _reset_containers()
    return outcome


def _reason(exc: BaseException) -> str:
    while exc.__cause__ or exc.__context__:
        if isinstance(exc, ClientError):
            break
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = f"{type(exc).__name__}: {exc}"
    return re.sub(r"\s+", " ", text)[:400]


__all__ = ["ACCOUNT", "Outcome", "function_ids", "rehearse"]
