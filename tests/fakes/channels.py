"""Fakes of the notifier, mailer, deliveries and task decider, type-checked against their ports."""

from __future__ import annotations

from clarion.domain.approvals.desk import TaskDecider, TaskGone
from clarion.domain.errors import ChannelError
from clarion.domain.incident import Incident
from clarion.domain.messaging.drafts import Draft
from clarion.domain.workflow.service import Delivery
from clarion.ports import Mailer, Notifier


class RecordingNotifier:
    def __init__(self) -> None:
        self.notices: list[tuple[str, str]] = []

    def notify(self, incident: Incident, text: str) -> None:
        self.notices.append((incident.id, text))


class RecordingMailer:
    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    def send(self, to: list[str], subject: str, text: str, html: str) -> str:
        self.sent.append({"to": to, "subject": subject, "text": text, "html": html})
        return f"mail-{len(self.sent)}"


class ScriptedDelivery:
    """Fails with the given errors first, then succeeds."""

    def __init__(self, failures: list[ChannelError] | None = None) -> None:
        self.failures = list(failures or [])
        self.delivered: list[str] = []
        self.calls = 0

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(f"{draft.id}:{route}")
        return f"id-{len(self.delivered)}"


class RecordingDecider:
    def __init__(self, gone: bool = False) -> None:
        self.calls: list[tuple[str, str, object]] = []
        self.gone = gone

    def succeed(self, token: str, output: dict[str, object]) -> None:
        if self.gone:
            raise TaskGone("TaskTimedOut")
        self.calls.append(("succeed", token, output))

    def fail(self, token: str, error: str, cause: str) -> None:
        if self.gone:
            raise TaskGone("TaskTimedOut")
        self.calls.append(("fail", token, error))


_n: Notifier = RecordingNotifier()
_m: Mailer = RecordingMailer()
_d: Delivery = ScriptedDelivery()
_t: TaskDecider = RecordingDecider()
