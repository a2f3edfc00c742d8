"""Bundle rehearsal: the Lambda asset, built by the same bundler as ``cdk synth`` (for this
interpreter's Python version, so it can be imported here), is imported in a fresh interpreter whose
path holds only the asset and the runtime's boto3, and each handler is invoked with a sample event
against the emulator (a moto server on 127.0.0.1) provisioned from the synthesized template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from clarion.domain.alarms.events import state_change_event
from clarion.local.moto_glue import EmbeddedMoto

from infra.constructs.lambda_package import LEFT_OUT, PipBundler
from tests.conftest import RUNBOOKS
from tests.rehearsal.cloud import TemplateCloud
from tests.rehearsal.paths import url_event
from tests.rehearsal.rehearsal import HANDLERS, VERIFIED_SENDER, function_ids

pytestmark = pytest.mark.integration

VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six.py")

INVOKE = """
import importlib, json, sys, time
sys.path[:0] = sys.argv[1].split(":")


class Context:  # what Lambda passes (clarion.local is not in the asset)
    function_name = "rehearsal"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:rehearsal"
    memory_limit_in_mb = 512
    aws_request_id = "rehearsal"
    log_group_name = "/aws/lambda/rehearsal"
    log_stream_name = "rehearsal"

    def get_remaining_time_in_millis(self):
        return 30000
""".strip()


@pytest.fixture(scope="session")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per session (pip fetches the manylinux wheels; about a minute the first time)."""
    out = tmp_path_factory.mktemp("asset")
    assert PipBundler(RUNBOOKS, python_version=VERSION).build(out)  # this interpreter compiles bytecode
    return out


@pytest.fixture(scope="session")
def runtime_boto3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import boto3 as b

    site = Path(b.__file__).parents[1]
    out = tmp_path_factory.mktemp("runtime")
    for name in RUNTIME_PACKAGES:
        (out / name).symlink_to(site / name)
    return out


def test_asset_leaves_out_the_cli_and_the_local_mode(asset: Path) -> None:
    assert (asset / "clarion" / "handlers").is_dir()
    for part in LEFT_OUT:
        assert not (asset / "clarion" / part).exists()
    assert not (asset / "boto3").exists()  # the runtime's
    assert (asset / "runbooks" / "clarion.yaml").is_file()


def test_asset_ships_bytecode_for_its_python(asset: Path) -> None:
    tag = f"cpython-{VERSION.replace('.', '')}"
    compiled = list((asset / "clarion").rglob(f"*.{tag}.pyc"))
    sources = [p for p in (asset / "clarion").rglob("*.py")]
    assert len(compiled) == len(sources)
    assert list((asset / "pydantic").rglob(f"*.{tag}.pyc"))


@pytest.fixture
def emulated(assembly: tuple[Any, Path]) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """A moto server provisioned from the pipeline template; each function's environment."""
    emulator = EmbeddedMoto().start()
    try:

        def client(service: str, region: str = "us-east-1") -> Any:
            return boto3.client(service, region_name=region, endpoint_url=emulator.endpoint_url)

        cloud_assembly, outdir = assembly
        template = cloud_assembly.get_stack_by_name("Clarion-prod-Pipeline").template
        cloud = TemplateCloud(template, "us-east-1", client, outdir)
        for stack in cloud_assembly.stacks:
            if "StatusPage" in stack.stack_name:
                page = TemplateCloud(stack.template, stack.environment.region, client)
                for bucket in page.of_type("AWS::S3::Bucket"):
                    if "BucketName" in page.resources[bucket]["Properties"]:
                        page.create(bucket)
        client("sesv2").create_email_identity(EmailIdentity=VERIFIED_SENDER)
        ids = function_ids(template)
        yield emulator.endpoint_url, {short: cloud.environment(logical) for short, logical in ids.items()}
    finally:
        emulator.stop()


def invoke(asset: Path, boto: Path, endpoint: str, env: dict[str, str], module: str, events: list[Any]) -> Any:
    script = f"""{INVOKE}
started = time.perf_counter()
handler = importlib.import_module({module!r}).lambda_handler
imported = time.perf_counter() - started
answers = [handler(event, Context()) for event in json.loads(sys.stdin.read())]
print(json.dumps({{"import_ms": imported * 1000, "modules": sorted(sys.modules), "answers": answers}}))
"""
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": "rehearsal",  # the emulator's; no real credentials reach the child
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        **env,
        "RUNBOOK_PATH": str(asset / "runbooks"),
    }
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, f"{asset}:{boto}"],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_handler_imports_from_the_asset_alone_and_answers(
    asset: Path, runtime_boto3: Path, emulated: tuple[str, dict[str, dict[str, str]]]
) -> None:
    endpoint, envs = emulated
    assert set(envs) == set(HANDLERS)
    alarm = state_change_event("checkout-api-prod-5xx-rate", "ALARM", datetime.now(UTC), namespace="AWS/ApiGateway")
    intake = invoke(
        asset, runtime_boto3, endpoint, envs["Intake"], HANDLERS["Intake"], [json.loads(json.dumps(alarm, default=str))]
    )
    (incident,) = intake["answers"][0]["opened"]
    # Nothing came from outside the asset but the standard library and the runtime's boto3.
    assert not [m for m in intake["modules"] if m.split(".")[0] in ("moto", "typer", "rich", "aws_cdk", "pytest")]
    steps = invoke(
        asset,
        runtime_boto3,
        endpoint,
        envs["Steps"],
        HANDLERS["Steps"],
        [
            {"step": "open", "incident_id": incident},
            {"step": "draft", "incident_id": incident, "phase": "investigating", "draft_id": "investigating"},
        ],
    )
    assert steps["answers"][0]["severity"] == "SEV2" and steps["answers"][1]["routes"]
    approvals = invoke(
        asset,
        runtime_boto3,
        endpoint,
        envs["Approvals"],
        HANDLERS["Approvals"],
        [
            url_event("GET", "https://approvals.example/approvals/nothing?a=x&e=1&s=bad"),
            url_event("GET", "https://approvals.example/desk"),
        ],
    )
    forged, desk = approvals["answers"]
    assert forged["statusCode"] in (400, 403, 404, 410)  # a forged link is refused, not a crash
    # The desk answers from the asset's own templates: the sign-in form, with its CSRF value and cookie.
    assert desk["statusCode"] == 200 and 'name="email"' in desk["body"] and 'name="csrf"' in desk["body"]
    assert any(c.startswith("clarion_pre=") for c in desk["cookies"])
    body = "protocol=email&endpoint=ana%40customer.example&components=web-app"
    subscriptions = invoke(
        asset,
        runtime_boto3,
        endpoint,
        envs["Subscriptions"],
        HANDLERS["Subscriptions"],
        [url_event("POST", "https://subscribe.example/subscribe", body)],
    )
    assert subscriptions["answers"][0]["statusCode"] == 200
    # The metrics function: from the asset alone, it charts what CloudWatch holds onto every page bucket.
    boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=endpoint).put_metric_data(
        Namespace="Ledgerly/Web",
        MetricData=[
            {
                "MetricName": "ResponseTime",
                "Dimensions": [{"Name": "Service", "Value": "web-app"}],
                "Value": 120.0,
                "Unit": "Milliseconds",
            }
        ],
    )
    scheduled = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    metrics = invoke(asset, runtime_boto3, endpoint, envs["PageMetrics"], HANDLERS["PageMetrics"], [scheduled])
    written = metrics["answers"][0]["written"]
    assert written and all(n > 0 for n in written.values()), written
    assert not [m for m in metrics["modules"] if m.split(".")[0] in ("moto", "typer", "rich", "jsii", "pytest")]
