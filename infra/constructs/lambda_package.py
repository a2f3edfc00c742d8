"""The one code package every Clarion function runs: ``functions/clarion``, the runbook set and
the runtime dependencies, bundled locally with pip (no Docker on the build machine)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "functions"
RUNTIME = lambda_.Runtime.PYTHON_3_14
PLATFORM = "manylinux2014_x86_64"
ARCHITECTURE = lambda_.Architecture.X86_64
# boto3 comes with the Lambda runtime.
_SKIP = ("boto3",)


def requirements() -> list[str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return [d for d in deps if not d.lower().startswith(_SKIP)]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def source_hash(runbook_dir: Path) -> str:
    """Changes to the code, the runbooks or the dependency list change the asset."""
    h = hashlib.sha256()
    for root in (FUNCTIONS / "clarion", runbook_dir):
        for path in _files(root):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    h.update("\n".join(requirements()).encode())
    return h.hexdigest()


@jsii.implements(ILocalBundling)
class PipBundler:
    def __init__(self, runbook_dir: Path) -> None:
        self.runbook_dir = runbook_dir

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        version = RUNTIME.name.removeprefix("python")
        subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-compile",
                "--platform",
                PLATFORM,
                "--implementation",
                "cp",
                "--python-version",
                version,
                "--only-binary=:all:",
                "--target",
                output_dir,
                *requirements(),
            ],
            check=True,
        )
        out = Path(output_dir)
        shutil.copytree(
            FUNCTIONS / "clarion",
            out / "clarion",
            ignore=shutil.ignore_patterns("__pycache__"),
            dirs_exist_ok=True,
        )
        shutil.copytree(self.runbook_dir, out / "runbooks", dirs_exist_ok=True)
        return True


def lambda_code(runbook_dir: Path) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(FUNCTIONS),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_hash(runbook_dir),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-local-bundling-only"),
            local=PipBundler(runbook_dir),
        ),
    )
