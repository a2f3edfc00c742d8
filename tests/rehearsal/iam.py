"""IAM as AWS enforces it, on moto.

moto checks a caller's policies once ``set_initial_no_auth_action_count`` is in force, but for most
services it checks the action against the resource ``*``: a statement scoped to a table or a topic
would never match, and an action AWS authorizes under another name (``PublishBatch`` is authorized as
``sns:Publish``; ``TransactWriteItems`` as the ``PutItem``/``UpdateItem``/... of each item) would be
denied. :func:`resource_aware` makes every request check the (action, resource) pairs AWS checks, with
moto's own policy evaluator, and records them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.responses import BaseResponse
from moto.iam.access_control import IAMRequest, S3IAMRequest

from tests.rehearsal.cloud import ACCOUNT

T = TypeVar("T")

_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


@dataclass
class Checks:
    """What was authorized (or denied) while recording, and which state machine owns task tokens."""

    state_machine_arn: str = ""
    path: str = ""  # the path being run, recorded with each check
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (path, action, resource)
    denied: list[tuple[str, str, str]] = field(default_factory=list)


def _body(response: BaseResponse) -> dict[str, Any]:
    if isinstance(response.body, dict):
        return response.body
    try:
        data = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def required(service: str, operation: str, response: BaseResponse, checks: Checks) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs AWS authorizes for one request."""
    region = response.region
    # moto names a request by its endpoint prefix; IAM's prefix differs for CloudWatch ("monitoring").
    service = {"monitoring": "cloudwatch"}.get(service, service)
    action = f"{service}:{operation}"
    if service == "dynamodb":

        def table(name: str) -> str:
            return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"

        body = _body(response)
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(action, table(t)) for t in body.get("RequestItems", {})]
        if operation == "TransactWriteItems":
            return [
                (f"dynamodb:{_TRANSACT[kind]}", table(spec["TableName"]))
                for item in body.get("TransactItems", [])
                for kind, spec in item.items()
            ]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", table(i["Get"]["TableName"])) for i in body.get("TransactItems", [])]
        arn = table(body.get("TableName", "*"))
        if body.get("IndexName"):
            arn += f"/index/{body['IndexName']}"
        return [(action, arn)]
    if service == "sns":
        topic = response._get_param("TopicArn") or "*"
        return [("sns:Publish" if operation == "PublishBatch" else action, topic)]
    if service == "secretsmanager":
        secret = response._get_param("SecretId") or "*"
        if not secret.startswith("arn:"):
            secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{secret}"
        return [(action, secret)]
    if service == "states":
        if operation.startswith("SendTask"):
            return [(action, checks.state_machine_arn)]  # a task token belongs to its state machine
        resource = response._get_param("stateMachineArn") or response._get_param("executionArn") or "*"
        return [(action, resource)]
    if service == "ses":
        sender = response._get_param("FromEmailAddress") or "*"
        return [(f"ses:{operation}", f"arn:aws:ses:{region}:{ACCOUNT}:identity/{sender}")]
    return [(action, "*")]


@contextmanager
def resource_aware(checks: Checks) -> Iterator[Checks]:
    original = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action
    original_s3 = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action

    def request_for(self: BaseResponse, kind: type[IAMRequest]) -> IAMRequest | None:
        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            ActionAuthenticatorMixin.request_count += 1
            return None
        path = self.raw_path + (f"?{self.uri.split('?', 1)[1]}" if "?" in self.uri else "")
        request = kind(
            account_id=self.current_account,
            method=self.method,
            path=path,
            data=self.data,
            body=self.raw_body,
            headers=self.headers,
            action=self._get_action(),
        )
        request.check_signature()
        return request

    def check(request: IAMRequest, pairs: list[tuple[str, str]]) -> None:
        for action, arn in pairs:
            request._action = action
            checks.seen.append((checks.path, action, arn))
            try:
                request.check_action_permitted(arn)
            except Exception:
                checks.denied.append((checks.path, action, arn))
                raise

    def authorize(self: BaseResponse, resource: str = "*") -> None:
        request = request_for(self, IAMRequest)
        if request is not None:
            service, operation = request._action.split(":", 1)
            pairs = [(request._action, resource)] if resource != "*" else required(service, operation, self, checks)
            check(request, pairs)

    def authorize_s3(self: BaseResponse, bucket_name: str | None = None, key_name: str | None = None) -> None:
        request = request_for(self, S3IAMRequest)
        if request is not None:  # moto knows S3's resources; only record them
            arn = f"arn:aws:s3:::{bucket_name or '*'}" + (f"/{key_name}" if key_name else "")
            check(request, [(request._action, arn)])

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = authorize_s3  # type: ignore[method-assign]
    try:
        yield checks
    finally:
        ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = original  # type: ignore[method-assign]
        ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = original_s3  # type: ignore[method-assign]


@contextmanager
def credentials(creds: dict[str, str]) -> Iterator[None]:
    """The process's AWS credentials are the role's (boto3 clients made inside use them)."""
    keys = {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def enforced(fn: Callable[[], T]) -> T:
    """Run ``fn`` with every AWS request authenticated and authorized (moto's IAM enforcement)."""
    from moto.core import set_initial_no_auth_action_count

    return set_initial_no_auth_action_count(0)(fn)()


def allows(statement: dict[str, Any], action: str, resource: str) -> bool:
    """Whether one Allow statement grants ``action`` on ``resource`` (moto's evaluator)."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    return bool(IAMPolicyStatement(statement).is_action_permitted(action, resource) == PermissionResult.PERMITTED)


def needed_by(statements: list[dict[str, Any]], seen: list[tuple[str, str, str]]) -> list[list[str]]:
    """For each statement, the paths that fail without it: requests it alone allows."""
    out = []
    for i, statement in enumerate(statements):
        others = statements[:i] + statements[i + 1 :]
        out.append(
            sorted(
                {
                    f"{path} | {action} on {resource}"
                    for path, action, resource in seen
                    if allows(statement, action, resource) and not any(allows(o, action, resource) for o in others)
                }
            )
        )
    return out
