"""The incident table and Powertools' idempotency table."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from clarion.adapters.dynamodb_store import GSI
from constructs import Construct


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
