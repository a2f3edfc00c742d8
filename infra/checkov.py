"""checkov's findings this design accepts, written into the template as resource metadata
(``Metadata.checkov.skip``) so every one is explained where a reviewer reads the template.

``skip`` is for one resource's own reason; ``AcceptedEverywhere`` adds the few whose reason holds
for every resource of a type (a new function inherits them and nothing else)."""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import CfnResource, IAspect
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct


def skip(scope: IConstruct, check: str, reason: str) -> None:
    """Mark ``check`` as accepted on ``scope``'s CloudFormation resource, with the reason."""
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{scope.node.path} has no CloudFormation resource to annotate")
    metadata: dict[str, Any] = resource.get_metadata("checkov") or {"skip": []}
    if all(entry["id"] != check for entry in metadata["skip"]):
        metadata["skip"].append({"id": check, "comment": reason})
    resource.add_metadata("checkov", metadata)


NO_VPC = (
    "The function calls only AWS service endpoints (DynamoDB, Step Functions, SNS, SES, S3, Secrets "
    "Manager, End User Messaging) and reaches no private network; a VPC would add NAT or endpoint cost "
    "and cold-start time without isolating anything."
)
PLAIN_ENVIRONMENT = (
    "Environment variables hold resource names, ARNs and settings only; the one secret (the approval "
    "link key) lives in Secrets Manager and is read at run time. Lambda encrypts them at rest."
)
LOG_KEY = (
    "Logs hold no secrets or personal data (task tokens and link keys are never logged; Step Functions "
    "logs exclude execution data); CloudWatch Logs encrypts them at rest with its own key."
)
SQS_MANAGED = "Encrypted with SQS-managed keys (SqsManagedSseEnabled); checkov reads only KmsMasterKeyId."


@jsii.implements(IAspect)
class AcceptedEverywhere:
    def visit(self, node: IConstruct) -> None:
        if isinstance(node, lambda_.CfnFunction):
            skip(node, "CKV_AWS_117", NO_VPC)
            skip(node, "CKV_AWS_173", PLAIN_ENVIRONMENT)
        elif isinstance(node, logs.CfnLogGroup) and not node.kms_key_id:
            skip(node, "CKV_AWS_158", LOG_KEY)
        elif isinstance(node, sqs.CfnQueue) and node.sqs_managed_sse_enabled and not node.kms_master_key_id:
            skip(node, "CKV_AWS_27", SQS_MANAGED)
