from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from clarion.domain.runbooks.model import Runbook
from clarion.runbook_loader import load_runbook

ROOT = Path(__file__).resolve().parents[1]
EVENTS = Path(__file__).parent / "events"
RUNBOOKS = ROOT / "runbooks"

# No test may reach a real account: dummy credentials, a fixed region.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_METRICS_NAMESPACE="ClarionTest",
    POWERTOOLS_LOG_LEVEL="WARNING",
)
os.environ.pop("AWS_PROFILE", None)


def load_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


@pytest.fixture(scope="session")
def runbook() -> Runbook:
    return load_runbook(RUNBOOKS)


def synth(tmp: Path, **overrides: Any) -> tuple[Any, Path]:
    """The CDK app synthesized into ``tmp`` with cdk-nag on and bundling skipped (about 5 s, 1 GB)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.app import build_app

    base = json.loads((ROOT / "cdk.json").read_text())["context"]
    context = {**base, "aws:cdk:bundling-stacks": []}
    context["clarion"] = {**base["clarion"], **overrides}
    app = build_app(context=context, outdir=str(tmp))
    return app.synth(), tmp  # synth raises when cdk-nag reports an unacknowledged finding


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The one synthesis a test session shares (a replica page region, so all three stacks exist)."""
    return synth(tmp_path_factory.mktemp("cdk.out"), page_replica_region="eu-west-1")


def without_checkins(runbook: Runbook) -> Runbook:
    """The runbook with no check-in after resolution: for emulator tests about other paths, which wait
    for every execution to end (a check-in keeps the resolve execution waiting, scaled, for a day)."""
    policies = {
        sev: policy.model_copy(update={"checkin_after": None}) for sev, policy in runbook.policies.policies.items()
    }
    return runbook.model_copy(update={"policies": runbook.policies.model_copy(update={"policies": policies})})
