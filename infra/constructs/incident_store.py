"""The incident table and Powertools' idempotency table."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from clarion.adapters.dynamodb_store import GSI
from constructs import Construct

# The DynamoDB calls clarion.adapters.dynamodb_store and dynamodb_page_store make (TransactWriteItems
# is authorized as the Put/Update/Delete/ConditionCheck of each item; BatchGetItem reads an alarm
# decision's items and the page model together). Not grant_read_write_data: the code never scans,
# writes in batches or reads streams, so the functions may not either.
STORE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
)
# What Powertools' idempotency layer calls: the record is put, read when it exists, completed, and
# deleted when the handler fails (so the retry runs).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def grant_store(table: dynamodb.ITableV2, grantee: iam.IGrantable) -> None:
    """The incident table (and its index) for the store adapter's calls only."""
    table.grant(grantee, *STORE_ACTIONS)


def grant_idempotency(table: dynamodb.ITableV2, grantee: iam.IGrantable) -> None:
    table.grant(grantee, *IDEMPOTENCY_ACTIONS)


class IncidentStore(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        pitr = dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)
        # Keys mirror clarion.adapters.dynamodb_store.table_definition (a test compares them).
        self.incidents = dynamodb.TableV2(
            self,
            "Incidents",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=GSI,
                    partition_key=dynamodb.Attribute(name="kind", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name="sort", type=dynamodb.AttributeType.STRING),
                )
            ],
            point_in_time_recovery_specification=pitr,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.idempotency = dynamodb.TableV2(
            self,
            "Idempotency",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiration",
            point_in_time_recovery_specification=pitr,
            removal_policy=RemovalPolicy.DESTROY,  # a cache of answers: safe to lose
        )
