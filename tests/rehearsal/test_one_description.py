"""One description of the system: the local mode (``clarion.local.environment``) builds its
resources beside the CDK app, so this test proves the two describe the same system: the same tables
with the same keys and indexes, the same topics, queues and secret, every environment variable the
deployed code reads set on its function, and the same state machine placeholders."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from clarion.adapters.dynamodb_store import table_definition
from clarion.handlers.page_metrics import MetricsEnv
from clarion.handlers.runtime import DeskEnv, WorkflowEnv
from clarion.handlers.settings import IntakeSettings
from clarion.local.environment import ASL, TOPICS, LocalNames, idempotency_table_definition
from pydantic import BaseModel

from tests.rehearsal.rehearsal import function_ids


@pytest.fixture(scope="module")
def template(assembly: tuple[Any, Path]) -> dict[str, Any]:
    stack: dict[str, Any] = assembly[0].get_stack_by_name("Clarion-prod-Pipeline").template
    return stack


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def shape(definition: dict[str, Any]) -> tuple[Any, ...]:
    """Keys, attribute types and indexes: what a table is, whatever it is called."""
    return (
        sorted((k["AttributeName"], k["KeyType"]) for k in definition["KeySchema"]),
        sorted((a["AttributeName"], a["AttributeType"]) for a in definition["AttributeDefinitions"]),
        sorted(
            (
                g["IndexName"],
                tuple(sorted((k["AttributeName"], k["KeyType"]) for k in g["KeySchema"])),
                g["Projection"]["ProjectionType"],
            )
            for g in definition.get("GlobalSecondaryIndexes", [])
        ),
    )


def environment(template: dict[str, Any], short: str) -> set[str]:
    logical = function_ids(template)[short]
    return set(template["Resources"][logical]["Properties"]["Environment"]["Variables"])


def required(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items() if f.is_required()}


def test_same_tables_keys_and_indexes(template: dict[str, Any]) -> None:
    deployed = sorted(shape(r["Properties"]) for r in of_type(template, "AWS::DynamoDB::GlobalTable").values())
    local = sorted(shape(d) for d in (table_definition("t"), idempotency_table_definition("i")))
    assert deployed == local


def test_same_topics_queue_and_secret(template: dict[str, Any]) -> None:
    steps = environment(template, "Steps")
    assert {v.removeprefix("TOPIC_").lower() for v in steps if v.startswith("TOPIC_")} == set(TOPICS)
    assert len(of_type(template, "AWS::SNS::Topic")) == len(TOPICS) + 1  # + the operations topic (not the app's)
    assert "DEAD_LETTER_QUEUE_URL" in steps and LocalNames().dead_letters  # both have the failed-deliveries queue
    assert len(of_type(template, "AWS::SecretsManager::Secret")) == 1 and LocalNames().secret


def test_every_variable_the_code_reads_is_set_on_its_function(template: dict[str, Any]) -> None:
    assert required(IntakeSettings) <= environment(template, "Intake")
    assert required(WorkflowEnv) | {"DEAD_LETTER_QUEUE_URL"} <= environment(template, "Steps")
    assert required(DeskEnv) <= environment(template, "Approvals")
    assert required(MetricsEnv) <= environment(template, "PageMetrics")
    read = set(
        re.findall(
            r'os\.environ(?:\.get\(|\[)"([A-Z_]+)"',
            Path(__import__("clarion.handlers.subscriptions", fromlist=["x"]).__file__ or "").read_text(),
        )
    )
    assert read and read <= environment(template, "Subscriptions")


def test_same_state_machine_placeholders(template: dict[str, Any]) -> None:
    (machine,) = of_type(template, "AWS::StepFunctions::StateMachine").values()
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", ASL.read_text()))
    assert set(machine["Properties"]["DefinitionSubstitutions"]) == placeholders == {"StepsFunctionArn"}
