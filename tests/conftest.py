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
