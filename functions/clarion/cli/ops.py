"""Commands for a deployed stack or the local mode: `clarion local up`, `incident`, `maintenance`,
`drill`. Every command takes --local (the emulator started by `clarion local up`) or --stack and
--region (a deployed stack, the normal boto3 credential chain), and --json where scripts want it."""

from __future__ import annotations

import contextlib
import getpass
import json
import re
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from clarion.cli.backend import STATE_FILE, Backend, CliError, deployed_backend, local_backend, parse_time
from clarion.domain.enums import ComponentStatus, IncidentKind, IncidentStatus, Severity
from clarion.domain.errors import NotFound
from clarion.domain.feedback.model import by_phase
from clarion.domain.feedback.model import counts as feedback_counts
from clarion.domain.incident import Incident
from clarion.domain.runbooks.model import LANG, Runbook
from clarion.domain.workflow.after_incident import submit_report
from clarion.domain.workflow.manual import (
    InvalidRequest,
    MissingTranslation,
    cancel_maintenance,
    complete_texts,
    declare_incident,
    resolve_incident,
    schedule_maintenance,
    update_incident,
)

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

local_app = typer.Typer(help="The embedded local mode.", no_args_is_help=True)
incident_app = typer.Typer(help="Incidents a person declares, updates and resolves.", no_args_is_help=True)
maintenance_app = typer.Typer(help="Scheduled maintenance.", no_args_is_help=True)
report_app = typer.Typer(help="Reports across incidents.", no_args_is_help=True)

Local = Annotated[bool, typer.Option("--local", help="Act on the emulator started by `clarion local up`.")]
Stack = Annotated[str, typer.Option(help="The deployed pipeline stack.")]
Region = Annotated[str | None, typer.Option(help="AWS region of the pipeline stack (default: your CLI's).")]
Runbooks = Annotated[
    Path | None,
    typer.Option(help="The runbook set (default: ./runbooks or a parent's, $CLARION_RUNBOOKS, or the sample)."),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Untranslated = Annotated[
    bool,
    typer.Option(
        "--untranslated",
        help="Send the default language's text to languages given none, marked with its language's name.",
    ),
]
PER_LANGUAGE = " Per language: LANG=TEXT, repeated (a bare TEXT is the default language's)."
DEFAULT_STACK = "Clarion-prod-Pipeline"
_LANG_PREFIX = re.compile(LANG.removesuffix("$") + "=")


def parse_texts(values: list[str] | None, option: str, runbook: Runbook) -> dict[str, str]:
    """``["en=Card payments fail", "es=Fallan los pagos"]`` -> per language; a bare value is the
    default language's. A language given twice, or an empty text, is a mistake to report."""
    out: dict[str, str] = {}
    for value in values or []:
        m = _LANG_PREFIX.match(value)
        lang, text = (value[: m.end() - 1], value[m.end() :]) if m else (runbook.settings.default_language, value)
        if not text.strip():
            raise InvalidRequest(f"{option} {value!r}: the text is empty")
        if lang in out:
            raise InvalidRequest(f"{option} gives {lang} twice")
        out[lang] = text
    return out


def _backend(local: bool, stack: str, region: str | None, runbooks: Path | None) -> Backend:
    if local:
        from clarion.handlers.observability import logger

        logger.setLevel("ERROR")  # the intake runs in this process; its JSON logs are for CloudWatch
        return local_backend(runbooks)
    return deployed_backend(runbooks, stack, region)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[red]✗[/red] {escape(str(exc))}", highlight=False)
    return typer.Exit(1)


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Problems a person can fix end the command with their message and exit status 1; text missing
    a language the page speaks, with exit status 2 (usage), before anything is sent."""
    try:
        yield
    except MissingTranslation as exc:
        err.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except (CliError, InvalidRequest, NotFound) as exc:
        raise _fail(exc) from None


def _done(as_json: bool, data: Any, message: str) -> None:
    if as_json:
        console.print_json(json.dumps(data))
    else:
        console.print(message)


def _summary(inc: Incident) -> dict[str, Any]:
    return {
        "id": inc.id,
        "kind": inc.kind.value,
        "title": next(iter(inc.title.values()), ""),
        "titles": dict(inc.title),
        "severity": inc.severity.value,
        "status": (
            "cancelled"
            if inc.cancelled_at
            else inc.maintenance_status.value
            if inc.maintenance_status
            else "resolved"
            if inc.resolved_at
            else inc.status.value
        ),
        "components": {c: s.value for c, s in inc.components.items()},
        "started_at": inc.started_at.isoformat(),
        "resolved_at": inc.resolved_at.isoformat() if inc.resolved_at else None,
        "drill": inc.drill,
        "cancelled_at": inc.cancelled_at.isoformat() if inc.cancelled_at else None,
        "scheduled_for": inc.scheduled_for.isoformat() if inc.scheduled_for else None,
        "scheduled_until": inc.scheduled_until.isoformat() if inc.scheduled_until else None,
    }


_TIME_COLUMNS = {"at", "started_at", "resolved_at", "scheduled_for", "scheduled_until"}
_HEADINGS = {
    "started_at": "started",
    "resolved_at": "resolved",
    "scheduled_for": "from",
    "scheduled_until": "until",
    "severity": "sev",
}


def _when(value: str, now: datetime | None = None) -> str:
    """'14:05' today, '20 Nov 10:05' this year, '20 Nov 2025 10:05' before (the table says UTC)."""
    at = datetime.fromisoformat(value).astimezone(UTC)
    now = now or datetime.now(UTC)
    if at.date() == now.date():
        return at.strftime("%H:%M")
    return at.strftime("%d %b %H:%M" if at.year == now.year else "%d %b %Y %H:%M").lstrip("0")


def _cell(column: str, value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(value)
    if column in _TIME_COLUMNS and isinstance(value, str) and value:
        return _when(value)
    return "" if value is None else str(value)


def _table(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    """Ids are never cut or wrapped (people copy them into the next command), nor are times, which
    read as people say them; the rest (titles, summaries) wraps to fit the terminal."""
    from rich import box

    if any(c in _TIME_COLUMNS for c in columns):
        title += " (times in UTC)"
    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True
    )
    for c in columns:
        whole = c in ("id", "kind", "severity", "step", "seconds") or c in _TIME_COLUMNS
        widest = max((len(_cell(c, r.get(c))) for r in rows), default=0)
        table.add_column(
            _HEADINGS.get(c, c),
            no_wrap=whole,
            min_width=widest if whole else 6,
            overflow="ignore" if whole else "fold",
            ratio=None if whole else 1,
        )
    for r in rows:
        # Stored text is printed literally: a title like "[/]" is not rich markup.
        table.add_row(*(escape(_cell(c, r.get(c))) for c in columns))
    console.print(table)


# --- local ----------------------------------------------------------------------------------------


@local_app.command("up")
def local_up(
    runbooks: Runbooks = None,
    moto_port: Annotated[int, typer.Option(help="Port of the emulator (0: any free port).")] = 0,
    port: Annotated[int, typer.Option(help="Port of the approval page, status page and outbox.")] = 8800,
    time_scale: Annotated[float, typer.Option(help="Shrink waits: 0.01 turns an hour into 36 s.")] = 0.01,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Inject an AWS fault, SERVICE.OPERATION=ERROR[xCOUNT][@NTH] with ERROR 500, throttle or "
            "connection (repeat for several), e.g. s3.PutObject=500x1@5 fails the fifth PutObject once."
        ),
    ] = None,
    approval_timeout: Annotated[
        int,
        typer.Option(min=60, help="Seconds a person has to approve, whatever the time scale (the policy's if longer)."),
    ] = 600,
) -> None:
    """Start the embedded AWS emulator with the whole pipeline in it, and serve the approval page,
    the desk, the status page and the outbox on 127.0.0.1, until Ctrl-C. Other commands reach it
    with --local. Waits and cadences shrink by --time-scale; approvals never get less than
    --approval-timeout, so a person can answer. With --fault, rehearse the pipeline under AWS faults;
    `clarion drill --local` reports how it coped.

    Example: clarion local up --fault sns.Publish=throttlex1@1   (then: clarion drill --local)
    """
    from clarion.cli.backend import find_runbooks
    from clarion.handlers.observability import logger
    from clarion.local.environment import LocalEnvironment
    from clarion.local.faults import FaultInjector, FaultSpecError
    from clarion.local.moto_glue import EmbeddedMoto
    from clarion.local.server import LocalServer
    from clarion.runbook_loader import load_runbook

    logger.setLevel("ERROR")
    if not 0 < time_scale <= 1:
        raise _fail(CliError("--time-scale must be above 0 and at most 1"))
    with _user_errors():
        runbooks = find_runbooks(runbooks)
    try:
        runbook = load_runbook(runbooks)
    except Exception as exc:
        raise _fail(CliError(f"the runbook set {runbooks} is invalid: {exc}")) from None
    try:
        faults = FaultInjector.from_specs(fault or [])
    except FaultSpecError as exc:
        raise _fail(CliError(str(exc))) from None
    emulator = EmbeddedMoto(port=moto_port or None).start()
    env = LocalEnvironment(emulator, faults=faults)
    env.provision()
    try:
        server = LocalServer(env, port=port).start()
    except OSError as exc:
        emulator.stop()
        raise _fail(CliError(f"port {port} is taken ({exc}); pass --port")) from None
    steps, _ = env.wire(runbook, approval_base_url=server.url, time_scale=time_scale)
    steps.settings.min_approval_seconds = approval_timeout
    n = env.names
    from clarion.cli.backend import write_local_state

    write_local_state(
        {
            "endpoint": emulator.endpoint_url,
            "region": n.region,
            "table": n.table,
            "state_machine_arn": n.state_machine_arn,
            "runbooks": str(runbooks.resolve()),
            "server": server.url,
            "pid": __import__("os").getpid(),
        }
    )
    console.print(
        f"[green]✓[/green] Clarion is running locally (time scale {time_scale}; approvers get at least "
        f"{approval_timeout // 60} min)"
    )
    console.print(f"  emulator:     {emulator.endpoint_url}")
    console.print(f"  status page:  {server.url}/page/index.html")
    console.print(f"  outbox:       {server.url}/outbox   (approval and desk sign-in emails land here)")
    console.print(f"  desk:         {server.url}/desk     (sign in as someone in roles.yaml)")
    console.print("  try:          clarion drill --local   |   clarion incident open --local --help")
    for f in faults.faults:
        console.print(f"  fault:        {f}  (what happened: {server.url}/faults.json)", highlight=False, markup=False)
    if any(c.metrics for c in runbook.components.components):
        threading.Thread(target=_chart_sample_metrics, args=(env, runbook), daemon=True).start()
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        while not stop["now"]:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        STATE_FILE.unlink(missing_ok=True)
        server.stop()
        emulator.stop()
        console.print("stopped")


def _chart_sample_metrics(env: Any, runbook: Any) -> None:
    """What the scheduled metrics function does, once, on sample points put into the emulator's
    CloudWatch: the page's charts appear a moment after start-up."""
    from datetime import UTC, datetime

    try:
        points, written = env.chart_metrics(runbook, datetime.now(UTC).replace(microsecond=0))
    except Exception as exc:  # the emulator stopping under it: nothing to report to anyone
        console.print(f"  metrics:      not charted ({type(exc).__name__})")
        return
    console.print(f"  metrics:      {points} sample points charted ({len(written)} files on the page)")


# --- incidents ------------------------------------------------------------------------------------


@incident_app.command("open")
def incident_open(
    component: Annotated[list[str], typer.Option(help="Affected component id (repeat for several).")],
    title: Annotated[
        list[str] | None,
        typer.Option(
            help="What customers will read as the incident's name."
            + PER_LANGUAGE
            + " Default: the title of the rule for exactly these components."
        ),
    ] = None,
    status: Annotated[
        ComponentStatus | None,
        typer.Option(help="Their status. Default: the rule's, else what the severity implies (SEV4: degraded)."),
    ] = None,
    severity: Annotated[
        Severity | None,
        typer.Option(help="Severity; the runbook's policy for it applies. Default: the rule's, else SEV3."),
    ] = None,
    untranslated: Untranslated = False,
    drill: Annotated[bool, typer.Option("--drill", help="A drill: nothing reaches customers.")] = False,
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = None,
    as_json: Json = False,
) -> None:
    """Declare an incident no alarm raised. The same workflow and approvals run.

    Example: clarion incident open --component invoicing --severity SEV3
    --title "en=Invoices are slow to send" --title "es=Las facturas tardan en enviarse"
    """
    with _user_errors():
        b = _backend(local, stack, region, runbooks)
        titles = complete_texts(
            b.runbook, parse_texts(title, "--title", b.runbook), option="--title", untranslated=untranslated
        )
        inc = declare_incident(
            b.runbook,
            b.store,
            b.workflow,
            title=titles,
            components=component,
            status=status,
            severity=severity,
            actor=_actor(),
            now=datetime.now(UTC),
            drill=drill,
        )
    _done(
        as_json,
        _summary(inc),
        f"[green]✓[/green] incident {inc.id} opened ({inc.severity.value}); the workflow has started",
    )


@incident_app.command("update")
def incident_update(
    incident_id: Annotated[str, typer.Argument(help="The incident's id.")],
    status: Annotated[
        IncidentStatus | None,
        typer.Option(help="investigating, identified or monitoring; the update uses that phase's template."),
    ] = None,
    cause: Annotated[
        list[str] | None, typer.Option(help="The cause, once known (customers read it)." + PER_LANGUAGE)
    ] = None,
    eta: Annotated[
        list[str] | None,
        typer.Option(help="Expected resolution, e.g. 'en=in about 2 hours'." + PER_LANGUAGE),
    ] = None,
    severity: Annotated[Severity | None, typer.Option(help="A new severity (cadence and channels follow).")] = None,
    untranslated: Untranslated = False,
    publish: Annotated[bool, typer.Option("--publish/--no-publish", help="Post an update now.")] = True,
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = None,
    as_json: Json = False,
) -> None:
    """Change an incident's status, cause, expected resolution or severity, and post an update now
    (approved per the severity policy).

    Example: clarion incident update payments-20261123T140500-ab12cd34 --status identified
    --cause "en=a faulty release" --cause "es=una versión defectuosa"
    """
    with _user_errors():
        b = _backend(local, stack, region, runbooks)
        causes = complete_texts(
            b.runbook, parse_texts(cause, "--cause", b.runbook), option="--cause", untranslated=untranslated
        )
        etas = complete_texts(
            b.runbook, parse_texts(eta, "--eta", b.runbook), option="--eta", untranslated=untranslated
        )
        inc, draft = update_incident(
            b.store,
            b.workflow,
            incident_id,
            actor=_actor(),
            now=datetime.now(UTC),
            status=status,
            cause=causes or None,
            eta=etas or None,
            severity=severity,
            publish=publish,
        )
    _done(
        as_json,
        {**_summary(inc), "update_draft": draft},
        f"[green]✓[/green] {inc.id} updated" + (f"; update {draft} is being drafted" if draft else ""),
    )


@incident_app.command("resolve")
def incident_resolve(
    incident_id: Annotated[str, typer.Argument(help="The incident's id.")],
    cause: Annotated[
        list[str] | None,
        typer.Option(help="The cause, for the resolution messages and the post-mortem." + PER_LANGUAGE),
    ] = None,
    untranslated: Untranslated = False,
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = None,
    as_json: Json = False,
) -> None:
    """Resolve an incident: resolution messages, status page, post-mortem reminder.

    Example: clarion incident resolve payments-20261123T140500-ab12cd34
    --cause "en=a faulty release" --cause "es=una versión defectuosa"
    """
    with _user_errors():
        b = _backend(local, stack, region, runbooks)
        causes = complete_texts(
            b.runbook, parse_texts(cause, "--cause", b.runbook), option="--cause", untranslated=untranslated
        )
        inc = resolve_incident(
            b.store, b.workflow, incident_id, actor=_actor(), now=datetime.now(UTC), cause=causes or None
        )
    _done(as_json, _summary(inc), f"[green]✓[/green] {inc.id} is being resolved")


def _report_files(files: list[str]) -> dict[str, str]:
    """``--file en=report.md`` options as language -> text; every problem named."""
    from clarion.status_page.markdown import check_markdown

    texts: dict[str, str] = {}
    for spec in files:
        lang, sep, name = spec.partition("=")
        if not sep or not lang or not name:
            raise CliError(f"--file {spec!r}: write LANGUAGE=PATH, e.g. --file en=report.md")
        if lang in texts:
            raise CliError(f"--file: {lang} is given twice")
        path = Path(name).expanduser()
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise CliError(f"--file {spec}: cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise CliError(f"--file {spec}: {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        problems = check_markdown(text)
        if problems:
            raise CliError(f"--file {spec}: " + "; ".join(problems))
        texts[lang] = text
    return texts


@incident_app.command("report")
def incident_report(
    incident_id: Annotated[str, typer.Argument(help="The incident's id.")],
    file: Annotated[
        list[str], typer.Option("--file", help="LANGUAGE=PATH of the report in Markdown, once per language.")
    ],
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = Path("runbooks"),
    as_json: Json = False,
) -> None:
    """Publish the post-incident report: what happened, how it was fixed, what will prevent it. The
    report (Markdown, one file per language) is drafted with its notices, approved per the severity
    policy, then published on the incident's page (status `postmortem` in the JSON API), in the feeds,
    and to the customers who were told, on the channels they were told on (SMS: a short notice with the link).

    Example: clarion incident report payments-20261123T140500-ab12cd34 --file en=report.md --file es=informe.md
    """
    with _user_errors():
        texts = _report_files(file)
        b = _backend(local, stack, region, runbooks)
        draft = submit_report(
            b.runbook, b.store, b.wstore, b.workflow, incident_id, texts, actor=_actor(), now=datetime.now(UTC)
        )
        inc = b.store.get_incident(incident_id)
        assert inc is not None
    approval = b.runbook.policy(inc.severity).approval.required
    _done(
        as_json,
        {**_summary(inc), "report_draft": draft, "approval_required": approval},
        f"[green]✓[/green] report {draft} for {incident_id} drafted; "
        + ("it goes to the approvers first (severity policy)" if approval else "it is being published"),
    )


@incident_app.command("list")
def incident_list(
    open_only: Annotated[bool, typer.Option("--open", help="Only unresolved incidents.")] = False,
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = None,
    as_json: Json = False,
) -> None:
    """List incidents, newest first.

    Example: clarion incident list --open --json
    """
    with _user_errors():
        b = _backend(local, stack, region, runbooks)
    rows = [_summary(i) for i in b.store.list_incidents(open_only=open_only)]
    if as_json:
        console.print_json(json.dumps(rows))
    else:
        _table(rows, ["id", "severity", "status", "title", "started_at"], "Incidents")
    for bad in b.store.unreadable:
        err.print(f"left out, unreadable: {bad}", markup=False, highlight=False)


@incident_app.command("show")
def incident_show(
    incident_id: Annotated[str, typer.Argument(help="The incident's id.")],
    postmortem: Annotated[bool, typer.Option("--postmortem", help="Print the post-mortem draft.")] = False,
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = None,
    as_json: Json = False,
) -> None:
    """Show an incident, its timeline and who was told of it (or its post-mortem draft).

    Example: clarion incident show payments-20261123T140500-ab12cd34 --postmortem
    """
    with _user_errors():
        b = _backend(local, stack, region, runbooks)
        inc = b.store.get_incident(incident_id)
        if inc is None:
            raise NotFound(f"no incident {incident_id!r}; `clarion incident list` shows them")
    if postmortem:
        text = b.wstore.get_document(incident_id, "postmortem.md")
        if text is None:
            raise _fail(
                CliError(f"{incident_id} has no post-mortem draft yet; it is written when the incident resolves")
            )
        from clarion.domain.workflow.postmortem import postmortem_markdown

        # Built again from the timeline, so it counts the feedback that came in since resolution.
        fresh = postmortem_markdown(b.runbook, inc, b.store.timeline(incident_id), b.feedback.feedback(incident_id))
        console.print(fresh, markup=False, highlight=False)
        return
    timeline = [
        {"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor, "summary": e.summary}
        for e in b.store.timeline(incident_id)
    ]
    told = [
        {
            "route": t.route,
            "draft_id": t.draft_id,
            "phase": t.phase.value,
            "approved_by": t.approved_by,
            "at": t.at.isoformat(),
        }
        for t in b.store.ledger(incident_id).entries
    ]
    feedback = feedback_counts(b.feedback.feedback(incident_id))
    if as_json:
        console.print_json(json.dumps({**_summary(inc), "told": told, "feedback": feedback, "timeline": timeline}))
        return
    s = _summary(inc)
    console.print(
        f"[bold]{escape(s['title'])}[/bold]  {escape(s['id'])}  {s['severity']}  {s['status']}"
        + ("  \\[DRILL]" if inc.drill else "")
    )
    _table(timeline, ["at", "kind", "actor", "summary"], "Timeline")
    if told:
        _table(told, ["route", "phase", "draft_id", "approved_by"], "Who was told (the audience ledger)")
    else:
        console.print("Nobody outside the team has been told of this incident.")
    console.print(
        f"Feedback: {feedback['responses']} answer(s), {feedback['yes']} yes, {feedback['no']} no, "
        f"{feedback['comments']} comment(s)"
        + "".join(f"\n  {u}: {c['yes']} yes, {c['no']} no" for u, c in feedback["updates"].items()),
        markup=False,
        highlight=False,
    )


# --- maintenance ----------------------------------------------------------------------------------


@maintenance_app.command("schedule")
def maintenance_schedule(
    title: Annotated[list[str], typer.Option(help="What customers will read." + PER_LANGUAGE)],
    component: Annotated[list[str], typer.Option(help="Component under maintenance (repeat for several).")],
    start: Annotated[str, typer.Option(help="Start, ISO 8601 with zone, e.g. 2026-11-25T02:00Z.")],
    end: Annotated[str, typer.Option(help="End, ISO 8601 with zone.")],
    impact: Annotated[
        list[str] | None,
        typer.Option(help="What customers will experience, e.g. 'en=sign-in may fail for a minute'." + PER_LANGUAGE),
    ] = None,
    untranslated: Untranslated = False,
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = None,
    as_json: Json = False,
) -> None:
    """Announce maintenance now; it starts and completes on schedule, and alarms of its components
    open no incident during the window.

    Example: clarion maintenance schedule --component login --start 2026-11-25T02:00Z --end 2026-11-25T04:00Z
    --title "en=Login upgrade" --title "es=Actualización del inicio de sesión"
    --impact "en=you may need to sign in again" --impact "es=es posible que deba iniciar sesión de nuevo"
    """
    with _user_errors():
        b = _backend(local, stack, region, runbooks)
        titles = complete_texts(
            b.runbook, parse_texts(title, "--title", b.runbook), option="--title", untranslated=untranslated
        )
        impacts = complete_texts(
            b.runbook, parse_texts(impact, "--impact", b.runbook), option="--impact", untranslated=untranslated
        )
        m = schedule_maintenance(
            b.runbook,
            b.store,
            b.workflow,
            title=titles,
            impact=impacts,
            components=component,
            start=parse_time(start, "--start"),
            end=parse_time(end, "--end"),
            actor=_actor(),
            now=datetime.now(UTC),
        )
    _done(as_json, _summary(m), f"[green]✓[/green] maintenance {m.id} scheduled and announced")


@maintenance_app.command("list")
def maintenance_list(
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = None,
    as_json: Json = False,
) -> None:
    """List maintenance windows, newest first.

    Example: clarion maintenance list --json
    """
    with _user_errors():
        b = _backend(local, stack, region, runbooks)
    rows = [_summary(m) for m in b.store.list_incidents(kind=IncidentKind.MAINTENANCE)]
    if as_json:
        console.print_json(json.dumps(rows))
    else:
        _table(rows, ["id", "status", "title", "scheduled_for", "scheduled_until"], "Maintenance")


@maintenance_app.command("cancel")
def maintenance_cancel(
    maintenance_id: Annotated[str, typer.Argument(help="The maintenance's id.")],
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = None,
    as_json: Json = False,
) -> None:
    """Cancel maintenance: its workflow stops, whoever was told of the window hears that it is
    cancelled, and the page shows it as cancelled. Cancelling twice says so.

    Example: clarion maintenance cancel maint-core-20261125T020000-ab12cd34
    """
    with _user_errors():
        b = _backend(local, stack, region, runbooks)
        from clarion.adapters.dynamodb_page_store import DynamoDBPageStore

        pages = DynamoDBPageStore(b.store.table, b.store.client)
        m = cancel_maintenance(b.store, b.workflow, maintenance_id, actor=_actor(), now=datetime.now(UTC), pages=pages)
    b.workflow.stop(f"{maintenance_id}-maintenance", "maintenance cancelled")  # finished already: nothing to stop
    _done(
        as_json,
        _summary(m),
        f"[green]✓[/green] maintenance {m.id} cancelled; whoever was told of it hears that it is cancelled",
    )


# --- drill ----------------------------------------------------------------------------------------


def drill(
    scenario: Annotated[
        str | None,
        typer.Option(
            help="A drill of the runbook set (`drills:` in rules.yaml; the sample: public-api, "
            "checkout-errors, login-down). Default: the first."
        ),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for each phase.")] = 120,
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = None,
    as_json: Json = False,
) -> None:
    """A game day through the real pipeline: a synthetic alarm marked as a drill (nothing reaches
    customers), then its clearing; reports each step's latency and anything that failed.
    Exit status 1 if a step failed or did not complete.

    Example: clarion drill --local --scenario checkout-errors
    """
    from clarion.cli.drill import run_drill

    with _user_errors():
        b = _backend(local, stack, region, runbooks)
        report = run_drill(
            b, scenario, wait_seconds=wait, on_progress=None if as_json else lambda m: console.print(f"  {m}")
        )
    if as_json:
        console.print_json(json.dumps(report.to_json()))
    else:
        _table(report.steps, ["step", "seconds"], f"Drill {report.scenario}: {report.incident_id}")
        for f in report.failures:
            err.print(f"[red]✗[/red] {escape(f)}")
        from clarion.cli.drill import COPING

        if report.coped.get("faults"):
            console.print(
                f"faults injected: {report.coped.get('injected', 0)} ({', '.join(report.coped['faults'])})",
                markup=False,
                highlight=False,
            )
        for kind, what in COPING.items():
            if report.coped.get(kind):
                console.print(f"  {report.coped[kind]} {what}", markup=False, highlight=False)
        console.print(f"  duplicate sends: {report.coped.get('duplicate_sends', 0)}", markup=False, highlight=False)
        console.print(
            "[green]✓ drill completed[/green]"
            if report.completed and not report.failures
            else "[red]✗ drill did not complete cleanly[/red]"
        )
    if report.failures or not report.completed:
        raise typer.Exit(1)


# --- reports --------------------------------------------------------------------------------------


@report_app.command("feedback")
def report_feedback(
    since: Annotated[
        str | None, typer.Option(help="Only incidents started at or after this time (ISO 8601 with zone).")
    ] = None,
    comments: Annotated[bool, typer.Option("--comments/--no-comments", help="List readers' comments.")] = True,
    local: Local = False,
    stack: Stack = DEFAULT_STACK,
    region: Region = None,
    runbooks: Runbooks = Path("runbooks"),
    as_json: Json = False,
) -> None:
    """What readers said about updates, across incidents: "was this update helpful?" per phase (which
    templates help, which do not), per incident, and their comments (for the team only).

    Example: clarion report feedback --since 2026-11-01T00:00Z --json
    """
    with _user_errors():
        start = parse_time(since, "--since") if since else None
        b = _backend(local, stack, region, runbooks)
    answers = []
    per_incident = []
    for inc in b.store.list_incidents(limit=1000):
        if start is not None and inc.started_at < start:
            continue
        found = b.feedback.feedback(inc.id)
        if not found:
            continue
        answers.extend(found)
        per_incident.append({"id": inc.id, "title": next(iter(inc.title.values()), ""), **feedback_counts(found)})
    phases = {phase: tally.to_json() for phase, tally in by_phase(answers).items()}
    notes = [
        {
            "incident": a.incident_id,
            "update": a.update_id,
            "phase": a.phase.value,
            "language": a.language,
            "vote": a.vote,
            "at": a.at.isoformat(),
            "comment": a.comment,
        }
        for a in sorted(answers, key=lambda a: a.at)
        if a.comment and comments
    ]
    if as_json:
        console.print_json(json.dumps({"since": since, "phases": phases, "incidents": per_incident, "comments": notes}))
        return
    table = Table(title="Was this update helpful? (per phase)")
    for column in ("phase", "answers", "yes", "no", "helpful", "comments"):
        table.add_column(column)
    for phase, c in phases.items():
        share = "" if c["helpful_percent"] is None else f"{c['helpful_percent']}%"
        table.add_row(phase, str(c["responses"]), str(c["yes"]), str(c["no"]), share, str(c["comments"]))
    console.print(table)
    if not answers:
        console.print("No answers yet" + (f" since {since}" if since else "") + ".")
    for n in notes:  # readers' words: printed as text, never as markup
        console.print(f"{n['at'][:16]}  {n['incident']}  {n['phase']}  {n['vote']}: ", end="", highlight=False)
        console.print(n["comment"], markup=False, highlight=False)
