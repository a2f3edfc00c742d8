"""The Clarion CDK app. `npx cdk synth` (or `make synth`) runs this file; no AWS calls at synth.

The runbook set is validated first: a broken runbook fails the synth with the same messages as
`clarion runbooks validate`, never an incident at 3 a.m.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "functions"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402
from clarion.domain.errors import RunbookError  # noqa: E402
from clarion.domain.runbooks.event_filter import alarm_event_detail  # noqa: E402
from clarion.runbook_loader import load_runbook  # noqa: E402

from infra.checkov import AcceptedEverywhere  # noqa: E402
from infra.config import ClarionConfig  # noqa: E402
from infra.stacks.pipeline import PipelineStack  # noqa: E402
from infra.stacks.status_page import StatusPageStack  # noqa: E402


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    app = cdk.App(context=context, outdir=outdir)
    config = ClarionConfig.from_context(app.node.try_get_context("clarion"))
    runbook_dir = (REPO / config.runbook_path).resolve()
    runbook = load_runbook(runbook_dir)  # raises RunbookError with every problem at file:line
    for index, region in enumerate(config.page_regions):
        StatusPageStack(
            app,
            f"{config.prefix}-StatusPage-{region}",
            config=config,
            primary=index == 0,
            env=cdk.Environment(account=config.account, region=region),
            description="Clarion status page: static files in S3" + (", served by CloudFront" if index == 0 else ""),
        )
    env = cdk.Environment(account=config.account, region=config.region)
    PipelineStack(
        app,
        f"{config.prefix}-Pipeline",
        config=config,
        runbook_dir=runbook_dir,
        deliveries=runbook.settings.deliveries,
        alarm_filter=alarm_event_detail(runbook),
        charts_metrics=any(c.metrics for c in runbook.components.components),
        env=env,
        description="Clarion incident communications: alarm intake, incident store, workflow",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    cdk.Aspects.of(app).add(AcceptedEverywhere())
    return app


def main() -> int:
    try:
        app = build_app()
    except RunbookError as exc:
        print("Runbook validation failed; fix these before deploying:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
