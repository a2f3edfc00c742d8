from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from clarion.adapters.dynamodb_store import DynamoDBIncidentStore, table_definition
from clarion.local.environment import idempotency_table_definition
from moto import mock_aws

pytestmark = pytest.mark.integration


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def ddb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(**table_definition("incidents"))
    client.create_table(**idempotency_table_definition("idempotency"))
    return client


@pytest.fixture
def store(ddb: Any) -> DynamoDBIncidentStore:
    return DynamoDBIncidentStore("incidents", ddb)
