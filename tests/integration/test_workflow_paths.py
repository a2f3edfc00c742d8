"""The ASL file executed on moto's interpreter, its Lambda tasks run in-process by the real steps
handler: reject, timeout -> holding statement, timeout -> escalate, the update loop with
continue-as-new, maintenance, and a failing channel. Time is scaled so every wait is about 1 s."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clarion.domain.alarms.events import state_change_event
from clarion.domain.enums import ComponentStatus, IncidentKind, Severity
from clarion.domain.errors import ChannelError
from clarion.domain.incident import Change, Incident, IncidentWrite
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.observability import logger
from clarion.local.demo import _http, approve
from clarion.local.environment import LocalEnvironment, invoke_intake
from clarion.local.moto_glue import EmbeddedMoto
from clarion.local.server import LocalServer, approval_links

from tests.conftest import without_checkins
from tests.fakes.channels import ScriptedDelivery


class Flow:
    def __init__(self, env: LocalEnvironment, runbook: Runbook) -> None:
        self.env = env
        self.rt = env.intake_runtime(runbook)
        self.store = env.store()
        self.wstore = env.workflow_store()
        self.sfn = env.client("stepfunctions")
        self.t0 = datetime.now(UTC).replace(microsecond=0)

    def alarm(self, name: str, state: str = "ALARM", minutes: float = 0, **kw: Any) -> dict[str, Any]:
        return invoke_intake(state_change_event(name, state, self.t0 + timedelta(minutes=minutes), **kw), self.rt)

    def kinds(self, incident_id: str) -> list[str]:
        return [e.kind for e in self.store.timeline(incident_id)]

    def wait(self, what: str, probe: Callable[[], Any], timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := probe():
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def draft_status(self, incident_id: str, draft_id: str) -> str | None:
        draft = self.wstore.get_draft(incident_id, draft_id)
        return draft.status if draft else None

    def executions(self) -> list[dict[str, Any]]:
        arn = self.env.names.state_machine_arn
        return [
            self.sfn.describe_execution(executionArn=e["executionArn"])
            for e in self.sfn.list_executions(stateMachineArn=arn)["executions"]
        ]

    def all_finished(self) -> list[dict[str, Any]]:
        return self.wait(
            "every execution to finish",
            lambda: (ex := self.executions()) and all(e["status"] != "RUNNING" for e in ex) and ex,
        )

    def sent_routes(self, incident_id: str, draft_id: str) -> list[str]:
        return sorted(
            e.data["route"]
            for e in self.store.timeline(incident_id)
            if e.kind == "message_sent" and e.data["draft_id"] == draft_id
        )


@pytest.fixture
def flow_factory(runbook: Runbook) -> Iterator[Callable[[float], tuple[Flow, LocalServer]]]:
    logger.setLevel("ERROR")
    stack: list[tuple[EmbeddedMoto, LocalServer]] = []

    runbook = without_checkins(runbook)  # these paths end at resolution; the demo test covers the check-in

    def make(scale: float) -> tuple[Flow, LocalServer]:
        emulator = EmbeddedMoto().start()
        env = LocalEnvironment(emulator)
        env.provision()
        server = LocalServer(env).start()
        steps, _ = env.wire(runbook, approval_base_url=server.url, time_scale=scale, sleep=lambda _s: None)
        steps.settings.min_approval_seconds = 3  # the scripted approver's window, without slowing cadences
        stack.append((emulator, server))
        return Flow(env, runbook), server

    yield make
    for emulator, server in stack:
        server.stop()
        emulator.stop()


HOUR = 1 / 3600  # an hour's cadence -> 1 s, any approval timeout -> 1 s
API = {"namespace": "AWS/ApiGateway"}


def test_reject_publishes_nothing_and_tells_the_team(flow_factory: Any) -> None:
    flow, _ = flow_factory(HOUR)
    inc = flow.alarm("checkout-api-prod-5xx-rate", **API)["opened"][0]
    link = flow.wait("the approval email", lambda: approval_links(flow.env))[0]
    status, page, _ = approve(link, decision="reject")
    assert status == 200 and "Rejected" in page
    flow.wait("the rejection notice", lambda: any("was rejected" in e.summary for e in flow.store.timeline(inc)))
    assert flow.sent_routes(inc, "investigating") == []
    assert flow.draft_status(inc, "investigating") == "rejected"
    flow.alarm("checkout-api-prod-5xx-rate", "OK", minutes=5, **API)
    flow.wait("the resolution", lambda: flow.draft_status(inc, "resolved") == "published")
    assert {e["status"] for e in flow.all_finished()} == {"SUCCEEDED"}


def test_sev1_timeout_publishes_the_holding_statement(flow_factory: Any) -> None:
    flow, _ = flow_factory(HOUR)
    inc = flow.alarm("login-5xx-errors")["opened"][0]
    assert flow.store.get_incident(inc).severity is Severity.SEV1  # type: ignore[union-attr]
    link = flow.wait("the approval email", lambda: approval_links(flow.env))[0]
    flow.wait("the holding statement", lambda: flow.draft_status(inc, "investigating") == "published")
    draft = flow.wstore.get_draft(inc, "investigating")
    assert draft is not None and draft.holding_statement and draft.approved_by == "policy:timeout"
    assert "status_page" in flow.sent_routes(inc, "investigating")
    assert _http(link)[0] == 410  # the unanswered link is dead
    flow.alarm("login-5xx-errors", "OK", minutes=5)
    flow.wait("the resolution", lambda: "postmortem_drafted" in flow.kinds(inc))
    assert {e["status"] for e in flow.all_finished()} == {"SUCCEEDED"}


def test_sev2_timeout_escalates_and_the_escalation_approves(flow_factory: Any) -> None:
    flow, _ = flow_factory(HOUR)
    inc = flow.alarm("checkout-api-prod-5xx-rate", **API)["opened"][0]
    first = flow.wait("the approval email", lambda: approval_links(flow.env))[0]
    escalated = flow.wait(
        "the escalation email",
        lambda: [x for x in approval_links(flow.env) if x.split("?")[0] != first.split("?")[0]],
    )[0]
    assert _http(first)[0] == 410  # the old link died with the escalation
    status, _, _ = approve(escalated)
    assert status == 200
    flow.wait("publishing", lambda: flow.draft_status(inc, "investigating") == "published")
    approvals = [e for e in flow.store.timeline(inc) if e.kind == "approval_approved"]
    assert approvals[0].actor in ("amara@ledgerly.example", "eli@ledgerly.example")
    assert approvals[0].data["level"] == 1
    flow.alarm("checkout-api-prod-5xx-rate", "OK", minutes=5, **API)
    flow.wait("the resolution", lambda: "postmortem_drafted" in flow.kinds(inc))
    assert {e["status"] for e in flow.all_finished()} == {"SUCCEEDED"}


def test_update_loop_continues_as_new_execution(flow_factory: Any) -> None:
    flow, _ = flow_factory(1 / 14400)  # SEV4: no approval, a 4-hour cadence -> 1 s
    flow.env.steps.settings.continue_as_new_after = 1  # type: ignore[union-attr]
    inc = flow.alarm("public-api-throttles", namespace="AWS/ApiGateway", dimensions={"ApiName": "public-v2"})["opened"][
        0
    ]
    flow.wait("two regular updates", lambda: flow.draft_status(inc, "update-2") == "published", timeout=30)
    names = {e["name"] for e in flow.executions()}
    assert f"{inc}-monitor-1" in names  # the loop moved to a fresh execution after one update
    flow.alarm(
        "public-api-throttles",
        "OK",
        minutes=30,
        namespace="AWS/ApiGateway",
        dimensions={"ApiName": "public-v2"},
    )
    flow.wait("the resolution", lambda: "postmortem_drafted" in flow.kinds(inc))
    finished = flow.all_finished()
    assert {e["status"] for e in finished} == {"SUCCEEDED"}
    assert all(len(flow.sfn.get_execution_history(executionArn=e["executionArn"])["events"]) < 500 for e in finished)
    assert flow.sent_routes(inc, "update-1") == ["status_page"]  # SEV4: status page only


def test_maintenance_announces_starts_and_completes_on_schedule(flow_factory: Any) -> None:
    flow, _ = flow_factory(HOUR)
    now = datetime.now(UTC)
    m = Incident(
        id="maint-login",
        kind=IncidentKind.MAINTENANCE,
        group="core",
        title={"en": "Login upgrade", "es": "Actualización del inicio de sesión"},
        severity=Severity.SEV3,
        components={"login": ComponentStatus.UNDER_MAINTENANCE},
        started_at=now + timedelta(hours=1),
        created_at=now,
        updated_at=now,
        scheduled_for=now + timedelta(hours=1),
        scheduled_until=now + timedelta(hours=2),
        version=1,
    )
    flow.store.commit(Change(incidents=[IncidentWrite(incident=m, expected_version=0)]))
    flow.env.steps.workflow.start(m, "maintenance")  # type: ignore[union-attr]
    flow.wait("completion", lambda: flow.draft_status("maint-login", "maintenance-completed") == "published")
    done = flow.store.get_incident("maint-login")
    assert done is not None and done.maintenance_status is not None and done.maintenance_status.value == "completed"
    sent = [
        e.data["draft_id"]
        for e in flow.store.timeline("maint-login")
        if e.kind == "message_sent" and e.data["route"] == "status_page"
    ]
    assert sent == ["maintenance-scheduled", "maintenance-in-progress", "maintenance-completed"]
    api = json.loads(
        flow.env.client("s3")
        .get_object(Bucket=flow.env.names.page_bucket, Key="api/v2/scheduled-maintenances.json")["Body"]
        .read()
    )
    assert api["scheduled_maintenances"][0]["status"] == "completed"
    assert {e["status"] for e in flow.all_finished()} == {"SUCCEEDED"}


def test_failing_channel_is_reported_and_the_others_go_out(flow_factory: Any) -> None:
    flow, _ = flow_factory(HOUR)
    flow.env.steps.deliveries["chat"] = ScriptedDelivery(  # type: ignore[union-attr]
        [ChannelError("chat webhook: 404", transient=False)] * 10
    )
    inc = flow.alarm("checkout-api-prod-5xx-rate", **API)["opened"][0]
    link = flow.wait("the approval email", lambda: approval_links(flow.env))[0]
    assert approve(link)[0] == 200
    flow.wait("publishing", lambda: flow.draft_status(inc, "investigating") == "published")
    assert "chat:technical" not in flow.sent_routes(inc, "investigating")
    assert len(flow.sent_routes(inc, "investigating")) == 4
    failed = [e for e in flow.store.timeline(inc) if e.kind == "message_failed"]
    assert [e.data["route"] for e in failed] == ["chat:technical"]
    assert any("Delivery failed on chat:technical" in e.summary for e in flow.store.timeline(inc))
    sqs = flow.env.client("sqs")
    url = sqs.get_queue_url(QueueName=flow.env.names.dead_letters)["QueueUrl"]
    (dead,) = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert dead["route"] == "chat:technical" and dead["incident_id"] == inc and dead["draft_id"] == "investigating"
    flow.alarm("checkout-api-prod-5xx-rate", "OK", minutes=5, **API)
    flow.wait("the resolution", lambda: "postmortem_drafted" in flow.kinds(inc))
    assert {e["status"] for e in flow.all_finished()} == {"SUCCEEDED"}


def test_severity_raised_mid_incident_changes_channels_and_approval_from_the_next_step(flow_factory: Any) -> None:
    flow, _ = flow_factory(1 / 14400)  # SEV4's 4-hour cadence -> 1 s
    public = {"namespace": "AWS/ApiGateway", "dimensions": {"ApiName": "public-v2"}}
    inc = flow.alarm("public-api-throttles", **public)["opened"][0]
    flow.wait("the SEV4 first notice", lambda: flow.draft_status(inc, "investigating") == "published")
    assert flow.sent_routes(inc, "investigating") == ["status_page"]  # SEV4: status page only, no approval
    joined = flow.alarm("login-5xx-errors", minutes=1)  # the same group, SEV1
    assert joined["action"] == "joined" and joined["incident_ids"] == [inc]
    assert flow.store.get_incident(inc).severity is Severity.SEV1  # type: ignore[union-attr]
    link = flow.wait("the update's approval request (SEV1 asks)", lambda: approval_links(flow.env), timeout=30)[0]
    draft = flow.wstore.get_draft(inc, "update-1")
    assert draft is not None and draft.approval_required
    assert {"status_page", "sns:customers", "sns:technical", "chat:technical", "email:support"} <= set(draft.routes)
    assert approve(link)[0] == 200
    flow.wait("the SEV1 update", lambda: flow.draft_status(inc, "update-1") == "published")
    assert "sns:customers" in flow.sent_routes(inc, "update-1")
    flow.alarm("public-api-throttles", "OK", minutes=5, **public)
    flow.alarm("login-5xx-errors", "OK", minutes=6)
    flow.wait("the resolution", lambda: "postmortem_drafted" in flow.kinds(inc))
    assert {e["status"] for e in flow.all_finished()} == {"SUCCEEDED"}
