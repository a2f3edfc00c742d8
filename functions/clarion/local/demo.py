"""`clarion demo`: a whole incident on the embedded emulator, every step checked.

Real code throughout: the intake handler, the state machine from the one ASL file on moto's
interpreter with its Lambda tasks run in-process by the real steps handler, the approval page
through the real Powertools app on a loopback server, SNS, SES, S3 and DynamoDB in moto. Each step
waits for its effect and raises :class:`DemoFailure` if it does not come, so the demo exits 0 only
if everything happened. Times shrink by ``time_scale`` (an hour's cadence becomes seconds).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from clarion.domain.alarms.events import state_change_event
from clarion.domain.enums import Severity
from clarion.domain.incident import Incident
from clarion.domain.messaging.i18n import format_time
from clarion.local.environment import LocalEnvironment, invoke_intake
from clarion.local.faults import FaultInjector
from clarion.local.moto_glue import EmbeddedMoto
from clarion.local.server import LocalServer, approval_links, outbox
from clarion.local.social import SocialServer, with_local_social
from clarion.runbook_loader import load_runbook

REPO = Path(__file__).resolve().parents[3]
DEFAULT_SCALE = 1 / 600  # 60 minutes of cadence -> 6 s; a 15-minute approval timeout -> 2 s


class DemoFailure(RuntimeError):
    pass


@dataclass
class Step:
    title: str
    detail: str


@dataclass
class DemoReport:
    steps: list[Step] = field(default_factory=list)
    incident: Incident | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    executions: list[dict[str, str]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    out_dir: Path | None = None
    endpoint_url: str = ""
    seconds: float = 0.0
    faults: dict[str, Any] = field(default_factory=dict)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


def _wait(what: str, probe: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise DemoFailure(f"timed out after {timeout:.0f} s waiting for: {what}")


def _http(url: str, data: dict[str, str] | None = None, method: str | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method or ("POST" if body else "GET"))  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class _FormReader(HTMLParser):
    """The fields a browser would submit from the approval page: inputs (hidden and text) and
    textareas, by name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") in ("hidden", "text"):
            self.fields[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


def page_form(html: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html)
    return reader.fields


def approve(
    link: str, *, edits: dict[str, str] | None = None, decision: str = "approve"
) -> tuple[int, str, dict[str, str]]:
    """What an approver does: open the link (GET), then submit the page's form (POST). Returns the
    POST's status and page, and the form that was posted."""
    status, html = _http(link)
    _check(status == 200, f"the approval page answered {status}: {re.findall(r'<h1>(.*?)</h1>', html)}")
    form = page_form(html)
    form.update({f"msg:{k}": v for k, v in (edits or {}).items()})
    form["decision"] = decision
    status, page = _http(link.split("?")[0], form)
    return status, page, form


def _cadence_seconds(runbook: Any, severity: Severity) -> float:
    every = runbook.policy(severity).update_every
    return every.total_seconds() if every else 0.0


def _checkout_errors(state: str, at: datetime, reason: str = "") -> dict[str, Any]:
    """The demo's alarm: the checkout API's 5xx rate (rule checkout-errors, SEV2)."""
    return state_change_event(
        "checkout-api-prod-5xx-rate",
        state,
        at,
        namespace="AWS/ApiGateway",
        metric="5XXError",
        dimensions={"ApiName": "checkout"},
        reason=reason,
    )


CHECKIN_WAIT = 2  # seconds: the demo does not wait the policy's day for the check-in


def run_demo(
    runbook_path: Path | None = None,
    out_dir: Path | None = None,
    on_step: Callable[[Step], None] | None = None,
    time_scale: float = DEFAULT_SCALE,
    interactive: Callable[[str], None] | None = None,
    faults: FaultInjector | None = None,
) -> DemoReport:
    """Run the scenario. ``interactive``: called with the approval link and the outbox URL instead
    of approving automatically; the demo then waits for a person to decide."""
    report = DemoReport()
    began = time.monotonic()

    def step(title: str, detail: str) -> None:
        s = Step(title, detail)
        report.steps.append(s)
        if on_step:
            on_step(s)

    runbook = load_runbook(runbook_path or REPO / "runbooks")
    step(
        "Runbooks",
        f"{len(runbook.components.components)} components, {len(runbook.rules.rules)} rules, "
        f"languages {', '.join(runbook.settings.languages)}: valid",
    )

    with EmbeddedMoto() as emulator:
        report.endpoint_url = emulator.endpoint_url
        env = LocalEnvironment(emulator, faults=faults)
        env.provision()
        server = LocalServer(env).start()
        # Mastodon and Bluesky on loopback: the demo's social posts go nowhere real.
        social = SocialServer().start()
        runbook = with_local_social(runbook, social, env.client("secretsmanager"))
        try:
            steps, _ = env.wire(runbook, approval_base_url=server.url, time_scale=time_scale)
            steps.settings.checkin_wait_max = CHECKIN_WAIT  # the policy's 24 h would take minutes even scaled
            # However short the scaled timeouts, leave the approver a real moment (a person: ten minutes).
            steps.settings.min_approval_seconds = 600 if interactive is not None else 5
            rt = env.intake_runtime(runbook)
            store, wstore = env.store(), env.workflow_store()
            step(
                "Emulator",
                f"moto on {emulator.endpoint_url}; tables, topics, page bucket, HMAC secret and the "
                f"state machine from infra/statemachine/incident.asl.json; approvals on {server.url}",
            )

            charted = sum(len(c.metrics) for c in runbook.components.components)
            if charted:
                points, written = env.chart_metrics(runbook, datetime.now(UTC).replace(microsecond=0))
                _check(
                    "api/v2/metrics.json" in written and any(p.endswith(".24h.svg") for p in written),
                    f"the metrics function wrote no charts: {written}",
                )
                step(
                    "Metrics",
                    f"{points} data points of {charted} metric(s) put into the emulator's CloudWatch; the metrics "
                    f"function read them back (GetMetricData) and wrote {len(written)} files: charts in every "
                    "language and api/v2/metrics.json",
                )

            def kinds(incident_id: str) -> list[str]:
                return [e.kind for e in store.timeline(incident_id)]

            t0 = datetime.now(UTC).replace(microsecond=0)
            fired = _checkout_errors("ALARM", t0, reason="Threshold Crossed: 5xx rate 7.5% > 2%")
            first = invoke_intake(fired, rt)
            _check(
                first["action"] == "opened" and len(first["opened"]) == 1,
                f"the alarm opened nothing: {first}",
            )
            incident_id = first["opened"][0]
            inc = store.get_incident(incident_id)
            _check(inc is not None and inc.severity is Severity.SEV2, "the incident is not stored at SEV2")
            step(
                "Alarm fires",
                f"checkout-api-prod-5xx-rate ALARM -> rule checkout-errors -> incident {incident_id} "
                "(SEV2, Checkout partial outage); workflow started",
            )

            again = invoke_intake(fired, rt)
            _check(again == first, "a redelivered alarm event was not deduplicated")
            step(
                "Duplicate delivery",
                "the same event again: answered from the idempotency table, nothing changed",
            )

            _wait(
                "the internal channel to hear of the incident",
                lambda: "internal_notice" in kinds(incident_id),
            )
            step("Internal channel", "told at once: severity, components, link to the timeline")

            links = _wait("the approval email", lambda: approval_links(env))
            link = links[0]
            for method in ("GET", "HEAD", "GET"):  # an email link scanner fetches every link
                status, _ = _http(link, method=method)
                _check(status == 200, f"the link scanner's {method} got {status}")
            pending = [a for a in (wstore.get_approval(link.split("/approvals/")[1].split("?")[0]),) if a]
            _check(bool(pending) and pending[0].status.value == "pending", "a GET or HEAD decided something")
            step(
                "Approval requested",
                f"SES email to bruno@ and chen@ with a signed link; a link scanner's GET, HEAD "
                f"and GET decided nothing: {link.split('?')[0]}",
            )

            if interactive is not None:
                interactive(link)
                _wait(
                    "a person to approve or reject on the page",
                    lambda: any(k in kinds(incident_id) for k in ("approval_approved", "approval_rejected")),
                    timeout=3600,
                )
                step("Approval", "decided by a person on the approval page")
            else:
                since = format_time(t0, "en", runbook.settings.time_zone("en"))
                desde = format_time(t0, "es", runbook.settings.time_zone("es"))
                edit = {  # both languages, so Spanish readers are told the same thing
                    "customers/status_page/en": "We are investigating failing online payments of invoices "
                    f"since {since}. Bank transfers work normally. Next update within the hour.",
                    "customers/status_page/es": "Estamos investigando fallos en el pago de facturas en línea "
                    f"desde el {desde}. Las transferencias bancarias funcionan con normalidad. "
                    "Le informaremos de nuevo en menos de una hora.",
                }
                status, page, form = approve(link, edits=edit)
                _check(status == 200 and "Approved" in page, f"the approval POST answered {status}")
                status, _ = _http(link.split("?")[0], form)  # a double click submits the form again
                _check(status == 409, f"a second click was not refused (got {status})")
                step(
                    "Approved",
                    "bruno@ opened the page, edited the status-page text in English and Spanish and approved "
                    "(POST with the page's CSRF value); a second click got 409",
                )

            def published(draft_id: str) -> Callable[[], bool]:
                def probe() -> bool:
                    draft = wstore.get_draft(incident_id, draft_id)
                    return draft is not None and draft.status == "published"

                return probe

            _wait("the first messages to be published", published("investigating"))
            index = _page_index(env)
            _check("Partial service outage" in index, "the status page does not show the outage")
            _check(
                not charted or '<figure class="metric"><img src="metrics/' in index,
                "the status page shows no metric chart",
            )
            sent = [e for e in store.timeline(incident_id) if e.kind == "message_sent"]
            routes = sorted({e.data["route"] for e in sent})
            step(
                "Published",
                f"{len(routes)} routes, each once: {', '.join(routes)}; status page banner 'Partial service outage'",
            )
            if any(r.startswith("social:") for r in routes):
                _check(
                    len(social.statuses) == 1 and len(social.records) == 1,
                    f"expected one Mastodon and one Bluesky post, got {len(social.statuses)} and {len(social.records)}",
                )
                step(
                    "Social",
                    f"posted on Mastodon ({social.statuses[0]['url']}) and Bluesky "
                    f"({next(iter(social.records.values()))['uri']}), loopback servers following each API",
                )

            update_link = _wait(
                "the regular update's approval email",
                lambda: [x for x in approval_links(env) if x.split("?")[0] != link.split("?")[0]],
                timeout=30 + 1.5 * _cadence_seconds(runbook, Severity.SEV2) * time_scale,
            )[0]
            if interactive is not None:
                interactive(update_link)
                _wait("a person to decide on the update", published("update-1"), timeout=3600)
            else:
                status, _, _ = approve(update_link)
                _check(status == 200, f"approving the update answered {status}")
                _wait("the regular update to be published", published("update-1"))
            step(
                "Regular update",
                "the cadence elapsed (60 min, scaled): 'still working on it' drafted, approved, "
                "published; status page timestamp refreshed",
            )

            cleared = _checkout_errors("OK", t0 + timedelta(minutes=40))
            done = invoke_intake(cleared, rt)
            _check(done["action"] == "resolving", f"the OK did not resolve the incident: {done}")
            _wait("the post-mortem reminder", lambda: "postmortem_drafted" in kinds(incident_id))
            _wait("the resolution to be published", published("resolved"))
            index = _page_index(env)
            _check("All systems operational" in index, "the status page still shows the outage")
            postmortem = wstore.get_document(incident_id, "postmortem.md") or ""
            _check(postmortem.startswith("# Post-mortem"), "no post-mortem draft was stored")
            step(
                "Resolved",
                "alarm OK -> resolution published on every channel, status page 'All systems "
                "operational', post-mortem draft stored and the team reminded",
            )

            seen = {x.split("?")[0] for x in approval_links(env)}
            checkin_link = _wait(
                "the check-in's approval email",
                lambda: [x for x in approval_links(env) if x.split("?")[0] not in seen],
                timeout=30,
            )[0]
            if interactive is not None:
                interactive(checkin_link)
                _wait("a person to decide on the check-in", published("checkin"), timeout=3600)
            else:
                status, _, _ = approve(checkin_link)
                _check(status == 200, f"approving the check-in answered {status}")
                _wait("the check-in to be published", published("checkin"))
            told = store.ledger(incident_id).routes
            checked = sorted(
                e.data["route"]
                for e in store.timeline(incident_id)
                if e.kind == "message_sent" and e.data.get("draft_id") == "checkin"
            )
            _check("status_page" not in checked and set(checked) <= told, f"the check-in went to {checked}")
            step(
                "Check-in",
                f"24 h after resolution (a few seconds here) 'is everything working for you now?', approved, "
                f"went only to routes that were told: {', '.join(checked)}",
            )

            sfn = env.client("stepfunctions", inject=False)
            execs = sfn.list_executions(stateMachineArn=env.names.state_machine_arn)["executions"]
            report.executions = _wait(
                "every execution to finish",
                lambda: (
                    [
                        {"name": e["name"], "status": s}
                        for e in execs
                        if (s := sfn.describe_execution(executionArn=e["executionArn"])["status"]) != "RUNNING"
                    ]
                    if all(sfn.describe_execution(executionArn=e["executionArn"])["status"] != "RUNNING" for e in execs)
                    else []
                ),
                # the monitoring loop ends at its next wake-up, one (scaled) cadence at most
                timeout=30 + 1.5 * _cadence_seconds(runbook, Severity.SEV2) * time_scale,
            )
            _check(
                all(e["status"] == "SUCCEEDED" for e in report.executions),
                f"an execution failed: {report.executions}",
            )
            step(
                "Workflow",
                f"executions: {', '.join(e['name'] + ' ' + e['status'] for e in report.executions)}",
            )

            if env.faults:
                hit = env.faults.injected
                step(
                    "Faults",
                    f"{len(hit)} injected ({', '.join(sorted({i.fault for i in hit})) or 'none matched a call'}); "
                    "every step above still completed",
                )
            report.faults = env.faults.summary()
            report.incident = store.get_incident(incident_id)
            report.timeline = [json.loads(e.model_dump_json()) for e in store.timeline(incident_id)]
            report.outbox = outbox(env)
            if out_dir is not None:
                _write_out(env, out_dir, report, postmortem)
                report.out_dir = out_dir
        finally:
            server.stop()
            social.stop()
    report.seconds = time.monotonic() - began
    return report


def _page_index(env: LocalEnvironment) -> str:
    obj = env.client("s3", inject=False).get_object(Bucket=env.names.page_bucket, Key="index.html")
    return str(obj["Body"].read().decode())


def _write_out(env: LocalEnvironment, out_dir: Path, report: DemoReport, postmortem: str) -> None:
    from clarion.local.server import outbox_html

    out_dir.mkdir(parents=True, exist_ok=True)
    s3 = env.client("s3", inject=False)
    page = out_dir / "page"
    for obj in s3.list_objects_v2(Bucket=env.names.page_bucket).get("Contents", []):
        target = page / obj["Key"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=env.names.page_bucket, Key=obj["Key"])["Body"].read())
    (out_dir / "outbox.html").write_text(outbox_html(report.outbox, live=False))
    (out_dir / "outbox.json").write_text(json.dumps(report.outbox, indent=2, ensure_ascii=False))
    (out_dir / "incident.json").write_text(report.incident.model_dump_json(indent=2) if report.incident else "{}")
    (out_dir / "timeline.json").write_text(json.dumps(report.timeline, indent=2, ensure_ascii=False))
    (out_dir / "executions.json").write_text(json.dumps(report.executions, indent=2))
    (out_dir / "postmortem.md").write_text(postmortem)
    if report.faults.get("faults"):
        (out_dir / "faults.json").write_text(json.dumps(report.faults, indent=2))
