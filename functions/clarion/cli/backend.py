"""Where the CLI's commands act: a deployed stack (the normal boto3 credential chain; names from the
pipeline stack's outputs) or the local mode started by `clarion local up` (`--local`).

Everything a person can get wrong ends in a :class:`CliError` that says what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from clarion.adapters.dynamodb_store import DynamoDBFeedbackStore, DynamoDBIncidentStore, DynamoDBWorkflowStore
from clarion.adapters.stepfunctions_workflow import StepFunctionsWorkflow
from clarion.domain.errors import ClarionError, RunbookError
from clarion.domain.runbooks.model import Runbook
from clarion.runbook_loader import load_runbook

STATE_FILE = Path(os.environ.get("CLARION_LOCAL_STATE", ".clarion/local.json"))
PROJECT = Path(__file__).resolve().parents[3]  # the checkout Clarion runs from (an editable install)


def find_runbooks(given: Path | None) -> Path:
    """The runbook set a command uses: ``--runbooks`` when given; otherwise ``$CLARION_RUNBOOKS``, a
    ``runbooks/`` folder in the working directory or one of its parents, or the project's own sample.
    Raises a :class:`CliError` naming every place it looked."""
    if given is not None:
        if (given / "clarion.yaml").is_file():
            return given
        raise CliError(f"no runbook set at {given.resolve()} (no clarion.yaml there); pass --runbooks PATH")
    looked: list[str] = []
    env = os.environ.get("CLARION_RUNBOOKS")
    candidates: list[Path] = []
    if env:
        candidates.append(Path(env))
    cwd = Path.cwd()
    candidates += [folder / "runbooks" for folder in (cwd, *cwd.parents)]
    candidates.append(PROJECT / "runbooks")
    for candidate in candidates:
        if (candidate / "clarion.yaml").is_file():
            return candidate
        looked.append(str(candidate))
    raise CliError(
        "no runbook set found; looked for clarion.yaml in "
        + (f"$CLARION_RUNBOOKS ({env}), " if env else "")
        + f"runbooks/ of {cwd} and its parents, and {PROJECT / 'runbooks'}: pass --runbooks PATH"
    )


class CliError(ClarionError):
    """A problem the user can fix; the message says how."""


@dataclass
class Backend:
    name: str  # "local" or the stack name
    runbook: Runbook
    store: DynamoDBIncidentStore
    wstore: DynamoDBWorkflowStore
    workflow: StepFunctionsWorkflow
    sfn: Any
    intake_function: str | None  # deployed: the intake Lambda; local: None (run in-process)
    lambda_client: Any
    extra: dict[str, Any]

    @property
    def feedback(self) -> DynamoDBFeedbackStore:
        """Readers' answers, in the incident table."""
        return DynamoDBFeedbackStore(self.store.table, self.store.client)

    def invoke_intake(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.intake_function is None:
            from clarion.handlers.intake import IntakeRuntime
            from clarion.local.environment import invoke_intake

            runtime = IntakeRuntime(self.runbook, self.store, self.workflow)
            return invoke_intake(event, runtime)
        resp = self.lambda_client.invoke(FunctionName=self.intake_function, Payload=json.dumps(event).encode())
        payload: dict[str, Any] = json.loads(resp["Payload"].read() or b"{}")
        if resp.get("FunctionError"):
            raise CliError(f"the intake function failed: {payload.get('errorMessage', payload)}")
        return payload


def _runbook(path: Path) -> Runbook:
    try:
        return load_runbook(path)
    except RunbookError as exc:
        raise CliError(
            f"the runbook set {path} is invalid; run `clarion runbooks validate {path}`:\n" + "\n".join(exc.problems)
        ) from None


def local_backend(runbooks: Path | None) -> Backend:
    if not STATE_FILE.is_file():
        raise CliError(f"no local Clarion is running ({STATE_FILE} is missing): start one with `clarion local up`")
    state = json.loads(STATE_FILE.read_text())
    try:
        with urllib.request.urlopen(state["endpoint"] + "/moto-api/", timeout=3):  # noqa: S310 - loopback
            pass
    except OSError:
        raise CliError(
            f"the local Clarion at {state['endpoint']} does not answer: start it with `clarion local up`"
        ) from None
    session = boto3.session.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106
        region_name=state["region"],
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=state["endpoint"])  # type: ignore[call-overload]

    ddb, sfn = client("dynamodb"), client("stepfunctions")
    return Backend(
        name="local",
        runbook=_runbook(Path(state["runbooks"]) if state.get("runbooks") else find_runbooks(runbooks)),
        store=DynamoDBIncidentStore(state["table"], ddb),
        wstore=DynamoDBWorkflowStore(state["table"], ddb),
        workflow=StepFunctionsWorkflow(state["state_machine_arn"], sfn),
        sfn=sfn,
        intake_function=None,
        lambda_client=None,
        extra=state,
    )


def deployed_backend(runbooks: Path | None, stack: str, region: str | None) -> Backend:
    try:
        session = boto3.session.Session(region_name=region)
        cfn = session.client("cloudformation")
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except NoCredentialsError as exc:
        raise CliError(
            "no AWS credentials found: configure a profile (`aws configure`, AWS_PROFILE) or use --local"
        ) from exc
    except NoRegionError as exc:
        raise CliError("no AWS region: pass --region, set AWS_REGION, or use --local") from exc
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise CliError(
                f"stack {stack} is not deployed in {session.region_name}: run `make deploy`, pass "
                "--stack/--region, or use --local"
            ) from None
        raise CliError(f"CloudFormation refused: {exc}") from None
    except BotoCoreError as exc:
        raise CliError(f"could not reach AWS: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [k for k in ("IncidentTableName", "StateMachineArn", "IntakeFunctionArn") if k not in outputs]
    if missing:
        raise CliError(f"stack {stack} lacks the outputs {', '.join(missing)}: redeploy it with this version")
    ddb, sfn = session.client("dynamodb"), session.client("stepfunctions")
    table = outputs["IncidentTableName"]
    return Backend(
        name=stack,
        runbook=_runbook(find_runbooks(runbooks)),
        store=DynamoDBIncidentStore(table, ddb),
        wstore=DynamoDBWorkflowStore(table, ddb),
        workflow=StepFunctionsWorkflow(outputs["StateMachineArn"], sfn),
        sfn=sfn,
        intake_function=outputs["IntakeFunctionArn"],
        lambda_client=session.client("lambda"),
        extra=outputs,
    )


def write_local_state(state: dict[str, Any]) -> None:
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2))


def parse_time(value: str, what: str) -> datetime:
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"{what}: {value!r} is not a time; write ISO 8601, e.g. 2026-11-25T02:00Z") from None
    if at.tzinfo is None:
        raise CliError(f"{what}: {value!r} has no time zone; add Z for UTC, e.g. 2026-11-25T02:00Z")
    return at
