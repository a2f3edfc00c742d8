"""IAM rehearsal: every path of every function (``paths.PATHS``) runs against moto with IAM
enforced, each function under a role whose policy is its synthesized one (intrinsics resolved to
the emulator's ARNs). No path may be denied, and every statement must be the only one allowing some
request of some path, or be listed in ``KEPT`` with the reason no path here can show it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.rehearsal.iam import allows, needed_by
from tests.rehearsal.paths import PATHS
from tests.rehearsal.rehearsal import Outcome, rehearse

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")]

# Statements no path here can prove, by their actions, and why each stays.
KEPT = {
    frozenset({"xray:PutTelemetryRecords", "xray:PutTraceSegments"}): (
        "Lambda's active tracing sends the function's segments with its execution role."
    ),
    frozenset({"kms:Decrypt", "kms:GenerateDataKey"}): (
        "AWS requires a publisher to an encrypted SNS topic to use the topic's key; moto does not model it."
    ),
    frozenset({"s3:ListBucket"}): (
        "Without it S3 answers a missing page file with 403 instead of 404; moto answers 404 either way."
    ),
    frozenset({"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"}): (
        "The intake's on-failure destination: Lambda sends failed events to the queue with the function's role."
    ),
}


def actions(statement: dict[str, Any]) -> frozenset[str]:
    a = statement["Action"]
    return frozenset([a] if isinstance(a, str) else a)


@pytest.fixture(scope="module")
def templates(assembly: tuple[Any, Path]) -> tuple[dict[str, Any], list[tuple[dict[str, Any], str]], Path]:
    cloud_assembly, outdir = assembly
    pipeline = cloud_assembly.get_stack_by_name("Clarion-prod-Pipeline").template
    pages = [(s.template, s.environment.region) for s in cloud_assembly.stacks if "StatusPage" in s.stack_name]
    return json.loads(json.dumps(pipeline)), pages, outdir


@pytest.fixture(scope="module")
def baseline(templates: tuple[dict[str, Any], list[tuple[dict[str, Any], str]], Path]) -> Outcome:
    return rehearse(*templates)


def test_every_path_runs_with_iam_enforced_and_nothing_is_denied(baseline: Outcome) -> None:
    assert baseline.failed == "", baseline.failed
    assert baseline.denied == []
    assert len(baseline.completed) == len(PATHS)
    # Every function's requests were really checked against its role.
    assert set(baseline.seen) == {"Intake", "Steps", "Approvals", "Subscriptions", "PageMetrics", "Feedback"}
    assert all(len(checks) >= 2 for checks in baseline.seen.values())


def test_every_statement_is_needed_by_a_path_or_says_why(baseline: Outcome) -> None:
    unexplained = []
    for function, statements in baseline.statements.items():
        for statement, paths in zip(statements, needed_by(statements, baseline.seen.get(function, [])), strict=True):
            if not paths and actions(statement) not in KEPT:
                unexplained.append(f"{function}: {sorted(actions(statement))} on {statement['Resource']}")
    assert not unexplained, "statements no path needs (remove them, or say why in KEPT):\n" + "\n".join(unexplained)


def test_dynamodb_access_is_only_what_the_store_calls(baseline: Outcome) -> None:
    granted = {
        action
        for statements in baseline.statements.values()
        for s in statements
        for action in actions(s)
        if action.startswith("dynamodb:")
    }
    assert not granted & {"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:GetRecords"}
    used = {action for checks in baseline.seen.values() for _, action, _ in checks if action.startswith("dynamodb:")}
    assert used <= granted
    # BatchGetItem is granted because the paths call it: an alarm decision's reads and the page model.
    assert "dynamodb:BatchGetItem" in used


def test_removing_a_needed_statement_fails_the_path_it_serves(
    templates: tuple[dict[str, Any], list[tuple[dict[str, Any], str]], Path], baseline: Outcome
) -> None:
    """The analysis above is checked against a real run: without the steps function's sns:Publish
    statement, the first path that publishes is denied, exactly as predicted."""
    statements = baseline.statements["Steps"]
    index = next(i for i, s in enumerate(statements) if actions(s) == {"sns:Publish"})
    predicted = needed_by(statements, baseline.seen["Steps"])[index]
    assert predicted
    outcome = rehearse(*templates, without=("Steps", index))
    assert "AccessDenied" in outcome.failed
    order = [f"{function}: {what}" for function, what, _ in PATHS]
    first = min((p.split(" | ")[0] for p in predicted), key=order.index)
    assert outcome.failed.startswith(first + ":"), (outcome.failed, first)
    assert outcome.denied and all(allows(statements[index], a, r) for _, a, r in outcome.denied)
