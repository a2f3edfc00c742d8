"""The operator commands through typer's runner, against a local mode running in this process (and
`clarion local up` itself in a subprocess), plus every error a person can run into."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clarion.cli import backend as cli_backend
from clarion.cli.main import app
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.observability import logger
from clarion.local.environment import LocalEnvironment
from clarion.local.faults import FaultInjector
from clarion.local.moto_glue import EmbeddedMoto
from clarion.local.server import LocalServer
from moto import mock_aws
from typer.testing import CliRunner

from tests.conftest import ROOT, RUNBOOKS

runner = CliRunner()


@pytest.fixture
def local(runbook: Runbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalEnvironment]:
    yield from running_local(runbook, tmp_path, monkeypatch)


def running_local(
    runbook: Runbook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    faults: list[str] | None = None,
    approval_seconds: int = 3,
    time_scale: float = 1 / 3600,
) -> Iterator[LocalEnvironment]:
    """What `clarion local up [--fault ...]` runs, in this process."""
    logger.setLevel("ERROR")
    state = tmp_path / "local.json"
    monkeypatch.setattr(cli_backend, "STATE_FILE", state)
    emulator = EmbeddedMoto().start()
    env = LocalEnvironment(emulator, faults=FaultInjector.from_specs(faults or []))
    env.provision()
    server = LocalServer(env).start()
    steps, _ = env.wire(runbook, approval_base_url=server.url, time_scale=time_scale)
    steps.settings.min_approval_seconds = approval_seconds
    cli_backend.write_local_state(
        {
            "endpoint": emulator.endpoint_url,
            "region": env.names.region,
            "table": env.names.table,
            "state_machine_arn": env.names.state_machine_arn,
            "runbooks": str(RUNBOOKS),
        }
    )
    yield env
    server.stop()
    emulator.stop()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def as_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def wait(probe: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_drill_reports_latencies_and_never_reaches_customers(local: LocalEnvironment) -> None:
    report = as_json(run("drill", "--local", "--json", "--wait", "20"))
    assert report["completed"] and report["failures"] == []
    steps = [s["step"] for s in report["steps"]]
    assert steps[0] == "opened" and "drill_suppressed" in steps and steps[-1] == "postmortem_drafted"
    assert all(s["seconds"] >= 0 for s in report["steps"])
    timeline = local.store().timeline(report["incident_id"])
    from clarion.domain.workflow.service import route_reaches_customers

    assert not any(e.kind == "message_sent" and route_reaches_customers(e.data["route"]) for e in timeline)
    assert any(e.kind == "drill_suppressed" and e.data["route"] == "status_page" for e in timeline)
    assert local.store().get_incident(report["incident_id"]).drill  # type: ignore[union-attr]
    try:
        page = local.client("s3").get_object(Bucket=local.names.page_bucket, Key="index.html")["Body"].read()
    except Exception:
        page = b""
    assert report["incident_id"].encode() not in page


def test_manual_incident_lifecycle(local: LocalEnvironment) -> None:
    opened = as_json(
        run(
            "incident",
            "open",
            "--local",
            "--json",
            "--title",
            "en=Invoices are slow to send",
            "--title",
            "es=Las facturas tardan en enviarse",
            "--component",
            "invoicing",
            "--severity",
            "SEV4",
        )
    )
    inc = opened["id"]
    # SEV4 without --status: degraded, the severity's impact (not a red major outage).
    assert opened["severity"] == "SEV4" and opened["components"] == {"invoicing": "degraded_performance"}
    assert opened["titles"] == {"en": "Invoices are slow to send", "es": "Las facturas tardan en enviarse"}
    wait(lambda: any(e.kind == "message_sent" for e in local.store().timeline(inc)))
    updated = as_json(
        run(
            "incident",
            "update",
            inc,
            "--local",
            "--json",
            "--status",
            "identified",
            "--cause",
            "en=a slow mail relay",
            "--cause",
            "es=un servidor de correo lento",
            "--eta",
            "en=in about 2 hours",
            "--eta",
            "es=en unas 2 horas",
        )
    )
    assert updated["status"] == "identified" and updated["update_draft"] == "manual-1"
    wait(lambda: (d := local.workflow_store().get_draft(inc, "manual-1")) is not None and d.status == "published")
    draft = local.workflow_store().get_draft(inc, "manual-1")
    assert draft is not None and draft.phase.value == "identified"  # that phase's template, not "still working"
    page = {m.language: m.body for m in draft.messages if m.channel.value == "status_page"}
    assert page["en"].startswith("We have found the cause") and "a slow mail relay" in page["en"]
    assert "Expected resolution: in about 2 hours." in page["en"]
    assert "un servidor de correo lento" in page["es"] and "Resolución prevista: en unas 2 horas." in page["es"]
    assert "mail relay" not in page["es"]
    listed = as_json(run("incident", "list", "--local", "--open", "--json"))
    assert [i["id"] for i in listed] == [inc]
    as_json(
        run(
            "incident", "resolve", inc, "--local", "--json", "--cause", "en=a full disk", "--cause", "es=un disco lleno"
        )
    )
    wait(lambda: local.workflow_store().get_document(inc, "postmortem.md"))
    resolved = local.workflow_store().get_draft(inc, "resolved")
    assert resolved is not None
    page = {m.language: m.body for m in resolved.messages if m.channel.value == "status_page"}
    assert "Cause: a full disk." in page["en"] and "Causa: un disco lleno." in page["es"]
    shown = as_json(run("incident", "show", inc, "--local", "--json"))
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds[0] == "opened" and "updated" in kinds and "postmortem_drafted" in kinds
    assert shown["timeline"][0]["actor"].startswith("cli")
    postmortem = run("incident", "show", inc, "--local", "--postmortem")
    assert postmortem.exit_code == 0 and postmortem.output.startswith("# Post-mortem: Invoices are slow to send")
    assert "a full disk" in postmortem.output
    assert run("incident", "resolve", inc, "--local").exit_code == 1  # already resolved


def test_text_missing_a_language_is_refused_before_anything_is_sent(local: LocalEnvironment) -> None:
    before = local.store().list_incidents()
    refused = run("incident", "open", "--local", "--title", "Card payments fail", "--component", "card-payments")
    assert refused.exit_code == 2 and "--title has no text in es" in refused.output, refused.output
    assert "--untranslated" in refused.output
    assert local.store().list_incidents() == before  # nothing stored, nothing started
    marked = as_json(
        run(
            "incident",
            "open",
            "--local",
            "--json",
            "--untranslated",
            "--title",
            "Card payments fail",
            "--component",
            "card-payments",
        )
    )
    assert marked["titles"] == {"en": "Card payments fail", "es": "Card payments fail (en inglés)"}
    update = run("incident", "update", marked["id"], "--local", "--cause", "es=un error del proveedor")
    assert update.exit_code == 2 and "--cause has no text in en" in update.output


def test_a_rules_components_take_its_title_and_defaults(local: LocalEnvironment) -> None:
    opened = as_json(run("incident", "open", "--local", "--json", "--component", "login"))
    # rules.yaml: login-errors, the first rule for exactly [login]: SEV1, major outage, its own titles.
    assert opened["titles"] == {"en": "Customers cannot sign in", "es": "Los clientes no pueden iniciar sesión"}
    assert opened["severity"] == "SEV1" and opened["components"] == {"login": "major_outage"}


def test_maintenance_schedule_list_cancel(local: LocalEnvironment) -> None:
    m = as_json(
        run(
            "maintenance",
            "schedule",
            "--local",
            "--json",
            "--title",
            "en=Login upgrade",
            "--title",
            "es=Actualización del inicio de sesión",
            "--impact",
            "en=you may need to sign in again",
            "--impact",
            "es=es posible que deba iniciar sesión de nuevo",
            "--component",
            "login",
            "--start",
            "2031-01-01T02:00Z",
            "--end",
            "2031-01-01T04:00Z",
        )
    )
    assert m["status"] == "scheduled" and m["scheduled_for"].startswith("2031-01-01T02:00")
    wait(lambda: (d := local.workflow_store().get_draft(m["id"], "maintenance-scheduled")) and d.status == "published")
    announced = local.workflow_store().get_draft(m["id"], "maintenance-scheduled")
    assert announced is not None
    email = {
        m.language: m for m in announced.messages if m.channel.value == "email" and m.audience.value == "customers"
    }
    assert email["es"].subject == "Mantenimiento programado: Actualización del inicio de sesión"
    assert "Durante el mantenimiento: es posible que deba iniciar sesión de nuevo." in email["es"].body
    assert "During the maintenance: you may need to sign in again." in email["en"].body
    assert [x["id"] for x in as_json(run("maintenance", "list", "--local", "--json"))] == [m["id"]]
    told = sorted(
        e.data["route"] for e in local.store().timeline(m["id"]) if e.kind == "message_sent"
    )  # the announcement's routes
    assert as_json(run("maintenance", "cancel", m["id"], "--local", "--json"))["status"] == "cancelled"
    sfn = local.client("stepfunctions")
    runs = {e["name"]: e for e in sfn.list_executions(stateMachineArn=local.names.state_machine_arn)["executions"]}
    window = runs[f"{m['id']}-maintenance"]["executionArn"]
    assert wait(lambda: sfn.describe_execution(executionArn=window)["status"] == "ABORTED")
    wait(lambda: (d := local.workflow_store().get_draft(m["id"], "maintenance-cancelled")) and d.status == "published")
    sent = [e.data for e in local.store().timeline(m["id"]) if e.kind == "message_sent"]
    assert sorted(d["route"] for d in sent if d["draft_id"] == "maintenance-cancelled") == told
    assert as_json(run("maintenance", "list", "--local", "--json"))[0]["status"] == "cancelled"
    again = run("maintenance", "cancel", m["id"], "--local")
    assert again.exit_code == 1 and "already cancelled" in again.output
    s3, bucket = local.client("s3"), local.names.page_bucket
    api = json.loads(s3.get_object(Bucket=bucket, Key="api/v2/scheduled-maintenances.json")["Body"].read())
    (listed,) = api["scheduled_maintenances"]
    assert listed["status"] == "completed" and "cancelled" in listed["incident_updates"][0]["body"]
    page = s3.get_object(Bucket=bucket, Key=f"es/incidents/{m['id']}.html")["Body"].read().decode()
    assert "Cancelado" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["incident", "open", "--title", "en=x", "--title", "es=x", "--component", "nope"],
            "unknown component(s) nope",
        ),
        (
            [
                "incident",
                "open",
                "--title",
                "en=x",
                "--title",
                "es=x",
                "--component",
                "login",
                "--component",
                "invoicing",
            ],
            "one incident per",
        ),
        (["incident", "open", "--title", " ", "--component", "login"], "the text is empty"),
        (["incident", "open", "--title", "fr=Bonjour", "--component", "login"], "unknown language(s) fr"),
        (["incident", "open", "--component", "invoicing"], "give --title"),
        (["incident", "update", "no-such-incident", "--status", "identified"], "no incident 'no-such-incident'"),
        (["incident", "show", "no-such-incident"], "no incident 'no-such-incident'"),
        (
            [
                "maintenance",
                "schedule",
                "--title",
                "en=x",
                "--title",
                "es=x",
                "--component",
                "login",
                "--start",
                "tomorrow",
                "--end",
                "2031-01-01T04:00Z",
            ],
            "is not a time",
        ),
        (
            [
                "maintenance",
                "schedule",
                "--title",
                "en=x",
                "--title",
                "es=x",
                "--component",
                "login",
                "--start",
                "2031-01-01T05:00Z",
                "--end",
                "2031-01-01T04:00Z",
            ],
            "must end after it starts",
        ),
        (["drill", "--scenario", "volcano"], "unknown scenario 'volcano'"),
    ],
)
def test_errors_say_what_is_wrong(local: LocalEnvironment, args: list[str], message: str) -> None:
    result = run(*args, "--local")
    assert result.exit_code == 1 and message in result.output, result.output


def test_no_local_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_backend, "STATE_FILE", tmp_path / "absent.json")
    result = run("incident", "list", "--local")
    assert result.exit_code == 1 and "start one with `clarion local up`" in result.output


def test_no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never look beyond loopback
    result = run("incident", "list", "--region", "us-east-1")
    assert result.exit_code == 1 and "no AWS credentials found" in result.output


def test_stack_not_deployed() -> None:
    with mock_aws():
        result = run("incident", "list", "--region", "us-east-1", "--stack", "Clarion-prod-Pipeline")
    assert result.exit_code == 1 and "is not deployed in us-east-1" in result.output and "make deploy" in result.output


def test_every_command_has_help_with_an_example() -> None:
    for args in (
        ["local", "up"],
        ["incident", "open"],
        ["incident", "update"],
        ["incident", "resolve"],
        ["incident", "list"],
        ["incident", "show"],
        ["maintenance", "schedule"],
        ["maintenance", "list"],
        ["maintenance", "cancel"],
        ["drill"],
        ["demo"],
        ["runbooks", "validate"],
        ["page", "preview"],
    ):
        result = run(*args, "--help")
        assert result.exit_code == 0 and "Example:" in result.output, args


def test_local_up_serves_until_stopped(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    env = {**os.environ, "CLARION_LOCAL_STATE": str(state)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "clarion"), "local", "up", "--port", "0", "--runbooks", str(RUNBOOKS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait(state.is_file, timeout=30)
        data = json.loads(state.read_text())
        assert data["endpoint"].startswith("http://127.0.0.1:") and data["server"].startswith("http://127.0.0.1:")
        listed = subprocess.run(
            [str(Path(sys.executable).parent / "clarion"), "incident", "list", "--local", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert "Clarion is running locally" in out and "stopped" in out and not state.exists()


def test_stored_text_is_printed_literally(local: LocalEnvironment) -> None:
    """A title or summary holding rich markup ("[/]", "[bold]") is shown as typed, never parsed."""
    title = "Checkout [/] down [bold]now[/bold] \\[x]"
    opened = as_json(
        run(
            "incident", "open", "--local", "--json", "--title", f"en={title}", "--title", f"es={title}",
            "--component", "invoicing", "--severity", "SEV4", "--status", "degraded_performance",
        )
    )  # fmt: skip
    listed = run("incident", "list", "--local")
    assert listed.exit_code == 0, listed.output
    assert "Checkout [/] down" in listed.output.replace("\n", " ") or "[/]" in listed.output
    shown = run("incident", "show", opened["id"], "--local")
    assert shown.exit_code == 0 and title in shown.output, shown.output


@pytest.fixture(params=["s3.PutObject=500x1@5", "sns.Publish=throttlex1@1"])
def faulty_local(
    request: pytest.FixtureRequest, runbook: Runbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalEnvironment]:
    # The approvers answer at once; a wide window keeps a loaded machine from expiring their links,
    # and an hour's cadence of 20 s keeps "still working on it" updates from piling up meanwhile.
    yield from running_local(runbook, tmp_path, monkeypatch, [request.param], approval_seconds=60, time_scale=1 / 180)


def test_a_real_incident_under_an_aws_fault(faulty_local: LocalEnvironment) -> None:
    """`clarion local up --fault ...` with an incident a person opens, updates and resolves: the approval
    email goes out, every update appears on the page once, the page converges; the list survives "[/]"."""
    from clarion.local.demo import approve
    from clarion.local.server import approval_links

    from tests.integration.test_fault_matrix import page_problems

    local = faulty_local
    answered: set[str] = set()  # approval requests decided (one approver answers each)

    def published(inc: str, draft_id: str) -> bool:
        for link in approval_links(local):
            request = link.split("?")[0]
            if request not in answered:
                answered.add(request)
                assert approve(link)[0] == 200
        draft = local.workflow_store().get_draft(inc, draft_id)
        return draft is not None and draft.status == "published"

    opened = as_json(
        run(
            "incident", "open", "--local", "--json", "--title", "en=Payments [/] failing",
            "--title", "es=Los pagos [/] fallan", "--component", "checkout-api", "--severity", "SEV2",
        )
    )  # fmt: skip
    inc = opened["id"]
    wait(lambda: published(inc, "investigating"), timeout=40)
    as_json(
        run(
            "incident", "update", inc, "--local", "--json", "--status", "identified",
            "--cause", "en=a stuck deploy", "--cause", "es=un despliegue atascado",
        )
    )  # fmt: skip
    wait(lambda: published(inc, "manual-1"), timeout=40)
    as_json(run("incident", "resolve", inc, "--local", "--json"))
    wait(lambda: published(inc, "resolved"), timeout=40)
    wait(lambda: local.workflow_store().get_document(inc, "postmortem.md"), timeout=40)

    assert local.faults.injected, f"the fault never hit a call: {local.faults.summary()}"
    assert answered  # the approval email went out, and its link worked
    timeline = local.store().timeline(inc)
    sent = [(e.data["draft_id"], e.data["route"]) for e in timeline if e.kind == "message_sent"]
    assert len(sent) == len(set(sent)), sent  # nothing said twice
    assert not [e for e in timeline if e.kind in ("message_failed", "step_failed")]
    page_sends = len({d for d, r in sent if r == "status_page"})
    assert page_sends >= 3 and page_problems(local, inc, page_sends) == []  # opening, identified, resolved (+ updates)
    listed = run("incident", "list", "--local")
    assert listed.exit_code == 0 and "[/]" in listed.output, listed.output
