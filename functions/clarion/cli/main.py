"""`clarion`: the operator's command-line tool.

clarion runbooks validate [PATH]   schema, cross-references and message-quality lint
clarion runbooks match ALARM       which rule an alarm hits
clarion demo                       a whole incident on the embedded AWS emulator
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from clarion.domain.runbooks.model import Runbook

app = typer.Typer(
    name="clarion",
    help="Clarion: CloudWatch alarms to approved, timely customer communication.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
page_app = typer.Typer(help="The static status page.", no_args_is_help=True)
runbooks_app = typer.Typer(help="Work with runbook sets (YAML rules, policies and templates).", no_args_is_help=True)
app.add_typer(runbooks_app, name="runbooks")
app.add_typer(page_app, name="page")

from clarion.cli import ops  # noqa: E402 - the operator commands, registered below

app.add_typer(ops.local_app, name="local")
app.add_typer(ops.incident_app, name="incident")
app.add_typer(ops.maintenance_app, name="maintenance")
app.add_typer(ops.report_app, name="report")
app.command("drill")(ops.drill)

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            console.print(f"clarion {version('clarion')}")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
            console.print("clarion (not installed)")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Clarion: CloudWatch alarms to approved, timely customer communication."""


def _runbooks_or_exit(path: Path | None) -> Path:
    from clarion.cli.backend import CliError, find_runbooks

    try:
        return find_runbooks(path)
    except CliError as exc:
        err.print(f"[red]✗[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None


@runbooks_app.command("validate")
def runbooks_validate(
    path: Annotated[
        Path | None,
        typer.Argument(help="Folder holding clarion.yaml, components.yaml, ... (default: the project's runbooks)."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings (jargon) as errors.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the problems as JSON.")] = False,
) -> None:
    """Validate a runbook set: every problem names the file, the line and the field.

    Exit status: 0 valid, 1 problems found.

    Example: clarion runbooks validate runbooks --strict
    """
    from clarion.runbook_loader import validate_runbook

    path = path if path is not None else _runbooks_or_exit(None)  # a given folder: its own problems, below
    runbook, problems = validate_runbook(path)
    failing = [p for p in problems if p.level == "error" or strict]
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "valid": not failing,
                    "problems": [
                        {
                            "file": p.file,
                            "line": p.line,
                            "field": p.field,
                            "level": p.level,
                            "message": p.message,
                        }
                        for p in problems
                    ],
                }
            )
        )
    else:
        for p in problems:
            (err if p.level == "error" else console).print(
                str(p), style="red" if p.level == "error" else "yellow", highlight=False, markup=False
            )
        if runbook is not None and not failing:
            console.print(
                f"[green]✓[/green] {path}: {len(runbook.components.components)} components in "
                f"{len(runbook.components.groups)} groups, {len(runbook.rules.rules)} rules, "
                f"{_template_count(runbook)} templates in {', '.join(runbook.settings.languages)}"
            )
        else:
            n_err = sum(1 for p in problems if p.level == "error")
            n_warn = len(problems) - n_err
            err.print(f"[red]✗[/red] {path}: {n_err} error(s), {n_warn} warning(s)")
    raise typer.Exit(1 if failing else 0)


@runbooks_app.command("match")
def runbooks_match(
    alarm_name: Annotated[str, typer.Argument(help="The CloudWatch alarm's name.")],
    namespace: Annotated[str | None, typer.Option(help="The alarm metric's namespace, e.g. AWS/ApiGateway.")] = None,
    dimension: Annotated[list[str] | None, typer.Option(help="A metric dimension NAME=VALUE (repeatable).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="An alarm tag KEY=VALUE (repeatable).")] = None,
    runbooks: Annotated[Path | None, typer.Option(help="The runbook set (default: the project's runbooks).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Which rule an alarm hits (rules are tried in file order, first match wins), with its
    components, group and severity; or, when none does, why each rule did not match.
    Exit status 1 when no rule matches.

    Example: clarion runbooks match checkout-api-prod-5xx-rate --namespace AWS/ApiGateway
    """
    from clarion.domain.errors import RunbookError
    from clarion.domain.runbooks.matching import explain_match
    from clarion.runbook_loader import load_runbook

    path = _runbooks_or_exit(runbooks)
    pairs: dict[str, dict[str, str]] = {"--dimension": {}, "--tag": {}}
    for option, values in (("--dimension", dimension or []), ("--tag", tag or [])):
        for item in values:
            key, sep, value = item.partition("=")
            if not sep or not key:
                err.print(f"[red]✗[/red] {option} {item!r}: write KEY=VALUE", highlight=False)
                raise typer.Exit(2)
            pairs[option][key] = value
    try:
        runbook = load_runbook(path, lint=False)
    except RunbookError as exc:
        err.print(f"[red]✗[/red] the runbook set {path} is invalid; run `clarion runbooks validate {path}`")
        for problem in exc.problems:
            err.print(problem, markup=False, highlight=False)
        raise typer.Exit(1) from None
    result = explain_match(
        runbook, alarm_name, namespace=namespace, dimensions=pairs["--dimension"], tags=pairs["--tag"]
    )
    rule = result.rule
    if as_json:
        data: dict[str, object] = {
            "alarm": alarm_name,
            "rule": None,
            "if": result.assumed,
            "misses": dict(result.misses),
        }
        if rule:
            data["rule"] = {
                "id": rule.id,
                "components": rule.components,
                "group": runbook.component(rule.components[0]).group,
                "severity": rule.severity.value,
                "component_status": rule.component_status,
            }
        console.print_json(json.dumps(data))
    elif rule is None:
        err.print(f"[red]✗[/red] {alarm_name}: no rule matches; this alarm opens no incident", highlight=False)
        for rule_id, why in result.misses:
            err.print(f"  {rule_id}: {why}", highlight=False, markup=False)
    else:
        group = runbook.component(rule.components[0]).group
        console.print(f"[green]✓[/green] {alarm_name} → rule [bold]{rule.id}[/bold]", highlight=False)
        if result.assumed:
            console.print(
                f"  if {' and '.join(result.assumed)} (give --namespace, --dimension or --tag to check)",
                highlight=False,
            )
        console.print(f"  components: {', '.join(rule.components)} ({rule.component_status})", highlight=False)
        console.print(f"  group:      {group}", highlight=False)
        policy = runbook.policy(rule.severity)
        approval = "approval first" if policy.approval.required else "no approval"
        console.print(f"  severity:   {rule.severity.value} ({approval})", highlight=False)
        if result.misses:
            console.print(f"  ({len(result.misses)} earlier rule(s) did not match)", highlight=False)
    raise typer.Exit(0 if rule else 1)


def _template_count(runbook: Runbook) -> int:
    return sum(
        len(chans) for phases in runbook.templates.values() for tset in phases.values() for chans in tset.values()
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where to write the status page, outbox and timeline.")] = Path("out/demo"),
    runbooks: Annotated[Path | None, typer.Option(help="Runbook set to use (default: the project's runbooks).")] = None,
    interactive: Annotated[
        bool,
        typer.Option("--interactive", help="Wait for you to click the approval links instead of approving."),
    ] = False,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Inject an AWS fault, SERVICE.OPERATION=ERROR[xCOUNT][@NTH] (ERROR: 500, throttle, connection; "
            "repeatable), e.g. s3.PutObject=500x1@5. The demo must still complete every step."
        ),
    ] = None,
) -> None:
    """Run a whole incident on the embedded AWS emulator (no AWS account needed): an alarm fires,
    approvers are asked, messages go out, a regular update, the alarm clears, resolution and
    post-mortem reminder. Exits 0 only if every step happened.

    Example: clarion demo --out out/demo
    """
    from clarion.handlers.observability import logger
    from clarion.local.demo import DemoFailure, Step, run_demo
    from clarion.local.faults import FaultInjector, FaultSpecError

    try:
        faults = FaultInjector.from_specs(fault or [])
    except FaultSpecError as exc:
        err.print(f"[red]✗[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None

    logger.setLevel("ERROR")  # the handlers' JSON logs are for CloudWatch; the demo tells its own story
    console.rule("[bold]Clarion demo: an incident on the embedded AWS emulator")

    def show(step: Step) -> None:
        console.print(f"[green]✓[/green] [bold]{step.title}[/bold]: {escape(step.detail)}", highlight=False)

    def ask(link: str) -> None:
        console.print(f"\n[bold yellow]Open this approval link in your browser and decide:[/bold yellow]\n{link}\n")

    scale = 1 / 60 if interactive else None  # a person: the hour's cadence takes a minute
    runbooks = _runbooks_or_exit(runbooks)
    try:
        kwargs = {"time_scale": scale} if scale else {}
        report = run_demo(
            runbook_path=runbooks,
            out_dir=out,
            on_step=show,
            interactive=ask if interactive else None,
            faults=faults,
            **kwargs,
        )
    except DemoFailure as exc:
        err.print(f"[red]✗ demo failed:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    table = Table(title="Incident timeline")
    table.add_column("at (UTC)", no_wrap=True)
    table.add_column("what", no_wrap=True)
    table.add_column("summary")
    for e in report.timeline:
        table.add_row(e["at"][11:19], e["kind"], escape(e["summary"]))
    console.print(table)
    console.rule(f"Done in {report.seconds:.1f} s. Where to look")
    console.print(f"status page:  {out / 'page' / 'index.html'}  (and page/es/, page/api/v2/, page/history.atom)")
    console.print(f"outbox:       {out / 'outbox.html'}  ({len(report.outbox)} messages: every channel, approvals)")
    console.print(f"timeline:     {out / 'timeline.json'}")
    console.print(f"post-mortem:  {out / 'postmortem.md'}")


@page_app.command("preview")
def page_preview(
    out: Annotated[Path, typer.Option(help="Folder to write the page into.")] = Path("out/page"),
    runbooks: Annotated[
        Path | None, typer.Option(help="Runbook set to render (default: the project's runbooks).")
    ] = None,
    past: Annotated[int, typer.Option(min=0, help="Past incidents in the sample history.")] = 40,
    active: Annotated[int, typer.Option(min=0, help="Active incidents in the sample history.")] = 2,
    maintenance: Annotated[int, typer.Option(min=0, help="Scheduled maintenance windows.")] = 1,
    serve: Annotated[bool, typer.Option("--serve", help="Serve the folder on 127.0.0.1 until Ctrl-C.")] = False,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port for --serve (0: any free port).")] = 8080,
) -> None:
    """Render the status page from a runbook set and a sample history into a folder.

    Example: clarion page preview --out out/page --serve
    """
    from datetime import UTC, datetime

    from clarion.domain.errors import RunbookError
    from clarion.runbook_loader import load_runbook
    from clarion.status_page.render import SiteRenderer
    from clarion.status_page.sample import sample_history, sample_metrics

    runbooks = _runbooks_or_exit(runbooks)
    try:
        runbook = load_runbook(runbooks)
    except RunbookError as exc:
        for problem in exc.problems:
            err.print(problem, style="red", markup=False, highlight=False)
        err.print(f"[red]✗[/red] {runbooks}: fix the runbook set first (clarion runbooks validate {runbooks})")
        raise typer.Exit(1) from None
    now = datetime.now(UTC).replace(microsecond=0)
    history = sample_history(runbook, now, past=past, active=active, maintenance=maintenance)
    result = SiteRenderer(runbook).render(history, now, metrics=sample_metrics(runbook, now))
    for f in result.files:
        target = out / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.body)
    console.print(f"[green]✓[/green] {len(result.files)} files written to {out}/ (open {out / 'index.html'})")
    if serve:
        _serve(out, port)


def _serve(folder: Path, port: int) -> None:
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        host, bound = httpd.server_address[:2]
        console.print(f"Serving {folder}/ on http://{host!s}:{bound}/ (Ctrl-C to stop)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            console.print("stopped")


def main() -> None:  # pragma: no cover - console entry
    app()
