"""AWS faults on the whole pipeline (the ASL on moto's interpreter, the real handlers), injected with
the same ``--fault`` mechanism the local mode offers: the approval email still goes out, every
update appears once, the page converges, and an internal notice that failed for good does not stop
the customer notice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from clarion.domain.incident import Incident
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.observability import logger
from clarion.local.demo import approve
from clarion.local.environment import LocalEnvironment
from clarion.local.faults import FaultInjector
from clarion.local.moto_glue import EmbeddedMoto
from clarion.local.server import LocalServer, approval_links

from tests.conftest import without_checkins
from tests.integration.test_workflow_paths import API, HOUR, Flow


@pytest.fixture
def faulty_flow(runbook: Runbook) -> Iterator[Callable[[list[str]], Flow]]:
    runbook = without_checkins(runbook)  # these paths end at resolution
    logger.setLevel("ERROR")
    stack: list[tuple[EmbeddedMoto, LocalServer]] = []

    def make(specs: list[str]) -> Flow:
        emulator = EmbeddedMoto().start()
        env = LocalEnvironment(emulator, faults=FaultInjector.from_specs(specs))
        env.provision()
        server = LocalServer(env).start()
        steps, _ = env.wire(runbook, approval_base_url=server.url, time_scale=HOUR, sleep=lambda _s: None)
        steps.settings.min_approval_seconds = 3
        stack.append((emulator, server))
        return Flow(env, runbook)

    yield make
    for emulator, server in stack:
        server.stop()
        emulator.stop()


class DeadNotifier:
    """The internal channel refuses the first notice for good (a permanent error), then works."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.refused = 0

    def notify(self, incident: Incident, text: str) -> None:
        if self.refused == 0:
            self.refused += 1
            raise PermissionError("internal topic: access denied")
        self.real.notify(incident, text)


def test_faults_on_the_first_notice_path_lose_nothing_and_say_nothing_twice(faulty_flow: Any) -> None:
    flow: Flow = faulty_flow(
        [
            "s3.PutObject=500x1@5",
            "sesv2.SendEmail=throttlex1@1",
            "dynamodb.TransactWriteItems=throttlex3@4",
            "sns.PublishBatch=connectionx1@1",
        ]
    )
    steps = flow.env.steps
    assert steps is not None
    steps.notifier = DeadNotifier(steps.notifier)
    inc = flow.alarm("checkout-api-prod-5xx-rate", **API)["opened"][0]
    link = flow.wait("the approval email", lambda: approval_links(flow.env))[0]
    kinds = flow.kinds(inc)
    assert "step_failed" in kinds  # the internal notice failed for good: told, and the workflow went on
    assert approve(link)[0] == 200
    flow.wait("publishing", lambda: flow.draft_status(inc, "investigating") == "published")
    flow.alarm("checkout-api-prod-5xx-rate", "OK", minutes=5, **API)
    flow.wait("the resolution", lambda: "postmortem_drafted" in flow.kinds(inc))
    assert {e["status"] for e in flow.all_finished()} == {"SUCCEEDED"}

    injected = [i.fault for i in flow.env.faults.injected]
    assert sorted(set(injected)) == sorted(str(f) for f in flow.env.faults.faults)  # every fault hit
    assert injected.count("dynamodb.TransactWriteItems=throttlex3@4") == 3
    timeline = flow.store.timeline(inc)
    sent = [(e.data["draft_id"], e.data["route"]) for e in timeline if e.kind == "message_sent"]
    assert len(sent) == len(set(sent)), sent  # nothing said twice
    assert {r for d, r in sent if d == "investigating"} == {r for d, r in sent if d == "resolved"}
    assert not [e for e in timeline if e.kind == "message_failed"]
    s3 = flow.env.client("s3")
    bucket = flow.env.names.page_bucket
    api = json.loads(s3.get_object(Bucket=bucket, Key="api/v2/incidents.json")["Body"].read())
    (page_incident,) = [i for i in api["incidents"] if i["id"] == inc]
    ids = [u["id"] for u in page_incident["incident_updates"]]
    assert len(ids) == len(set(ids)) == 2 and page_incident["status"] == "resolved"
    index = s3.get_object(Bucket=bucket, Key="index.html")["Body"].read().decode()
    summary = json.loads(s3.get_object(Bucket=bucket, Key="api/v2/summary.json")["Body"].read())
    assert not summary["incidents"] and inc not in index.split("Past incidents")[0]
