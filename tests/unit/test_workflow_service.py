"""Workflow steps on fakes: sending once, retries with backoff, severity changes, the loop's bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber
from clarion.adapters.channels import SnsDelivery
from clarion.domain.enums import ComponentStatus, Phase, Severity
from clarion.domain.errors import ChannelError, TransientError
from clarion.domain.incident import Change, Incident, IncidentWrite
from clarion.domain.runbooks.model import Runbook
from clarion.domain.workflow.service import ChannelFailed, WorkflowService, WorkflowSettings

from tests.fakes.channels import RecordingMailer, RecordingNotifier, ScriptedDelivery
from tests.fakes.store import InMemoryIncidentStore
from tests.fakes.workflow import RecordingWorkflow
from tests.fakes.workflow_store import InMemoryWorkflowStore

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


class Rig:
    def __init__(self, runbook: Runbook, severity: Severity = Severity.SEV2) -> None:
        self.store = InMemoryIncidentStore()
        self.wstore = InMemoryWorkflowStore(self.store)
        self.notifier = RecordingNotifier()
        self.sleeps: list[float] = []
        self.severity = severity
        self.mailer = RecordingMailer()
        self.deliveries = {name: ScriptedDelivery() for name in ("status_page", "sns", "chat", "email")}
        self.workflow = RecordingWorkflow()
        self.service = WorkflowService(
            runbook=runbook,
            store=self.store,
            wstore=self.wstore,
            notifier=self.notifier,
            mailer=self.mailer,
            deliveries=self.deliveries,
            workflow=self.workflow,  # type: ignore[arg-type]
            key=lambda: b"k" * 48,
            settings=WorkflowSettings(approval_base_url="https://a.example"),
            clock=lambda: NOW,
            sleep=self.sleeps.append,
        )
        inc = Incident(
            id="payments-1",
            group="payments",
            title={"en": "Checkout", "es": "Pago"},
            severity=severity,
            components={"checkout-api": ComponentStatus.PARTIAL_OUTAGE},
            started_at=NOW,
            created_at=NOW,
            updated_at=NOW,
            version=1,
        )
        self.store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)]))

    def approve(self, draft_id: str) -> None:
        """What the approval desk writes when an approver approves."""
        draft = self.wstore.drafts[("payments-1", draft_id)]
        self.wstore.save_draft(draft.model_copy(update={"status": "approved", "approved_by": "amara@example"}))


@pytest.fixture
def rig(runbook: Runbook) -> Rig:
    return Rig(runbook)


def test_each_route_is_sent_once(rig: Rig) -> None:
    draft = rig.service.draft("payments-1", "investigating", "d1")
    rig.approve("d1")
    assert draft["routes"] == [
        "status_page",
        "sns:customers",
        "sns:technical",
        "chat:technical",
        "email:support",
    ]
    for route in draft["routes"]:
        assert rig.service.publish_route("payments-1", "d1", route)["status"] == "sent"
        assert rig.service.publish_route("payments-1", "d1", route)["status"] == "already_sent"
    assert rig.deliveries["sns"].delivered == [
        "d1:sns:customers",
        "d1:sns:technical",
    ]


def test_throttling_is_retried_with_backoff_and_sent_once(rig: Rig) -> None:
    rig.service.draft("payments-1", "investigating", "d1")
    rig.approve("d1")
    rig.deliveries["sns"].failures = [ChannelError("Throttling", transient=True)] * 2
    result = rig.service.publish_route("payments-1", "d1", "sns:customers")
    assert result == {"route": "sns:customers", "status": "sent", "attempts": 3}
    assert rig.sleeps == [0.5, 1.0]  # exponential backoff
    assert rig.deliveries["sns"].delivered == ["d1:sns:customers"]
    # Other routes are unaffected.
    assert rig.service.publish_route("payments-1", "d1", "chat:technical")["attempts"] == 1


def test_permanent_failure_raises_for_the_state_machine_and_can_be_retried_later(rig: Rig) -> None:
    rig.service.draft("payments-1", "investigating", "d1")
    rig.approve("d1")
    rig.deliveries["chat"].failures = [ChannelError("AuthorizationError", transient=False)]
    with pytest.raises(ChannelFailed, match="chat:technical: AuthorizationError"):
        rig.service.publish_route("payments-1", "d1", "chat:technical")
    assert rig.sleeps == []
    dead: list[dict[str, object]] = []
    rig.service.dead_letters = dead.append
    rig.service.route_failed("payments-1", "d1", "chat:technical", {"Error": "ChannelFailed", "Cause": "auth"})
    assert dead == [
        {
            "incident_id": "payments-1",
            "draft_id": "d1",
            "route": "chat:technical",
            "error": "auth",
            "failed_at": NOW.isoformat(),
        }
    ]
    assert any("Delivery failed on chat:technical" in text for _, text in rig.notifier.notices)
    # A failed send is not marked sent: a later retry sends it.
    assert rig.service.publish_route("payments-1", "d1", "chat:technical")["status"] == "sent"


def test_exhausted_retries_leave_the_next_try_to_the_state_machine(rig: Rig) -> None:
    rig.service.draft("payments-1", "investigating", "d1")
    rig.approve("d1")
    rig.deliveries["status_page"].failures = [ChannelError("503", transient=True)] * 4
    # Still transient after the step's own tries: TransientError, which the ASL's Retry names.
    with pytest.raises(TransientError, match="after 4 attempt"):
        rig.service.publish_route("payments-1", "d1", "status_page")
    assert rig.service.publish_route("payments-1", "d1", "status_page")["status"] == "sent"  # the retry sends it


def test_a_permanent_failure_is_final(rig: Rig) -> None:
    rig.service.draft("payments-1", "investigating", "d1")
    rig.approve("d1")
    rig.deliveries["status_page"].failures = [ChannelError("403", transient=False)]
    with pytest.raises(ChannelFailed, match="after 1 attempt"):
        rig.service.publish_route("payments-1", "d1", "status_page")


def test_severity_raised_mid_incident_changes_cadence_and_channels(runbook: Runbook) -> None:
    rig = Rig(runbook, severity=Severity.SEV3)
    before = rig.service.check("payments-1", 0)
    assert before["wait_seconds"] == 7200
    assert "sns:customers" in rig.service.draft("payments-1", "update", "u1")["routes"]
    assert "sms" not in {m.channel.value for m in rig.wstore.drafts[("payments-1", "u1")].messages}
    inc = rig.store.incidents["payments-1"]
    rig.store.commit(
        Change(
            incidents=[
                IncidentWrite(
                    incident=inc.model_copy(update={"severity": Severity.SEV1, "version": 2}),
                    expected_version=1,
                )
            ]
        )
    )
    after = rig.service.check("payments-1", 1)
    assert after["wait_seconds"] == 1800 and after["severity"] == "SEV1"
    rig.service.draft("payments-1", "update", "u2")
    channels = {m.channel.value for m in rig.wstore.drafts[("payments-1", "u2")].messages}
    assert "sms" in channels  # SMS subscribers of the customer topic now get the SMS text
    u2 = rig.wstore.drafts[("payments-1", "u2")]
    # Nobody was told yet in this rig: every route gets an opening, not a bare update.
    assert u2.opening_routes == u2.routes and u2.opening_phase is Phase.INVESTIGATING


def test_loop_continues_as_new_after_n_updates_in_one_execution(rig: Rig) -> None:
    rig.service.settings.continue_as_new_after = 2
    assert not rig.service.check("payments-1", 0, 0)["continue_as_new"]
    assert not rig.service.check("payments-1", 1, 0)["continue_as_new"]
    assert rig.service.check("payments-1", 2, 0)["continue_as_new"]
    assert not rig.service.check("payments-1", 2, 2)["continue_as_new"]  # a fresh execution starts counting
    rig.service.continue_as_new("payments-1", 2)
    assert list(rig.workflow.executions) == ["payments-1-monitor-2"]


def test_check_stops_when_resolved_or_no_cadence(rig: Rig, runbook: Runbook) -> None:
    rig.service.resolve("payments-1")
    assert rig.service.check("payments-1", 0)["open"] is False
    assert Rig(runbook, severity=Severity.SEV5).service.check("payments-1", 0)["open"] is False


def test_time_scale_shrinks_waits(rig: Rig) -> None:
    rig.service.settings.time_scale = 1 / 600
    assert rig.service.check("payments-1", 0)["wait_seconds"] == 6
    assert rig.service.draft("payments-1", "investigating", "d1")["timeout_seconds"] == 2  # 15 min, at least 1 s


def test_timeout_policy(runbook: Runbook) -> None:
    sev1 = Rig(runbook, severity=Severity.SEV1)
    sev1.service.draft("payments-1", "investigating", "d1")
    assert sev1.service.approval_timeout("payments-1", "d1")["action"] == "publish_holding_statement"
    draft = sev1.wstore.drafts[("payments-1", "d1")]
    assert draft.holding_statement and draft.status == "approved" and draft.approved_by == "policy:timeout"
    sev2 = Rig(runbook, severity=Severity.SEV2)
    sev2.service.draft("payments-1", "investigating", "d1")
    assert sev2.service.approval_timeout("payments-1", "d1", 0)["action"] == "escalate"
    assert sev2.service.approval_timeout("payments-1", "d1", 1)["action"] == "hold"  # escalation unanswered too
    assert any("Customers have NOT been told" in text for _, text in sev2.notifier.notices)


def test_postmortem_draft_from_the_timeline(rig: Rig) -> None:
    rig.service.resolve("payments-1")
    rig.service.postmortem("payments-1")
    text = rig.wstore.documents[("payments-1", "postmortem.md")]
    assert (
        text.startswith("# Post-mortem: Checkout") and "| time | what | who |" in text and "Incident resolved" in text
    )


def test_maintenance_waits_count_from_now(rig: Rig) -> None:
    inc = rig.store.incidents["payments-1"]
    rig.store.commit(
        Change(
            incidents=[
                IncidentWrite(
                    incident=inc.model_copy(
                        update={
                            "scheduled_for": NOW + timedelta(hours=1),
                            "scheduled_until": NOW + timedelta(hours=3),
                            "version": 2,
                        }
                    ),
                    expected_version=1,
                )
            ]
        )
    )
    waits = rig.service.maintenance_phase("payments-1", "maintenance_scheduled")
    assert waits["until_start"] == 3600 and waits["until_end"] == 7200


def test_sns_batch_partial_failure_resends_only_what_failed(rig: Rig) -> None:
    rig.service.draft("payments-1", "investigating", "d1")
    draft = rig.wstore.drafts[("payments-1", "d1")]
    inc = rig.store.incidents["payments-1"]
    client = boto3.client("sns", region_name="us-east-1")
    topic = "arn:aws:sns:us-east-1:123456789012:clarion-customers"
    sent: list[list[str]] = []
    client.meta.events.register(
        "before-parameter-build.sns.PublishBatch",
        lambda params, **_: sent.append([e["Id"] for e in params["PublishBatchRequestEntries"]]),
    )
    with Stubber(client) as stub:
        stub.add_response(
            "publish_batch",
            {
                "Successful": [{"Id": "en", "MessageId": "m-en"}],
                "Failed": [{"Id": "es", "Code": "Throttling", "SenderFault": False}],
            },
        )
        stub.add_response("publish_batch", {"Successful": [{"Id": "es", "MessageId": "m-es"}], "Failed": []})
        stub.add_client_error("publish_batch", "AuthorizationError", http_status_code=403)
        delivery = SnsDelivery({"customers": topic}, client, rig.wstore, lambda: NOW)
        with pytest.raises(ChannelError) as partial:
            delivery.deliver("sns:customers", draft, inc)
        assert partial.value.transient and "1 of 2 failed" in str(partial.value)
        assert delivery.deliver("sns:customers", draft, inc) == "m-es"
        assert delivery.deliver("sns:customers", draft, inc) == "already sent"  # nothing left: no call
        other = draft.model_copy(update={"id": "d2"})
        with pytest.raises(ChannelError) as denied:
            delivery.deliver("sns:customers", other, inc)
        assert not denied.value.transient
    assert sent[:2] == [["en", "es"], ["es"]]
