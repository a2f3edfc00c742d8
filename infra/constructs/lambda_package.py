"""The one code package every Clarion function runs: ``functions/clarion`` (without the operator's
command line and the local mode, which no function imports), the runbook set and the runtime
dependencies, bundled locally with pip (no Docker on the build machine).

Bytecode: Lambda's ``/var/task`` is read-only, so a package without ``__pycache__`` is compiled on
every cold start. ``.pyc`` files are specific to one Python version, so they are compiled only by an
interpreter of the runtime's version (``python3.14`` on the PATH); without one the asset ships
sources only, and the synth says so."""

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
# Parts of the package no function imports (a test imports every handler from the built asset).
LEFT_OUT = ("cli", "local")


def requirements() -> list[str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return [d for d in deps if not d.lower().startswith(_SKIP)]


def runtime_version() -> str:
    return RUNTIME.name.removeprefix("python")


def bytecode_compiler(version: str | None = None) -> str | None:
    """An interpreter that writes bytecode the runtime loads, if this machine has one."""
    wanted = version or runtime_version()
    if f"{sys.version_info.major}.{sys.version_info.minor}" == wanted:
        return sys.executable
    return shutil.which(f"python{wanted}")


def _shipped(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return "__pycache__" not in parts and not (root.name == "clarion" and parts[0] in LEFT_OUT)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and _shipped(p, root))


def source_hash(runbook_dir: Path, compiled: bool = False) -> str:
    """Changes to the shipped code, the runbooks, the dependency list or the bytecode change the asset."""
    h = hashlib.sha256()
    for root in (FUNCTIONS / "clarion", runbook_dir):
        for path in _files(root):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    h.update("\n".join(requirements()).encode())
    if compiled:
        h.update(f"bytecode for python{runtime_version()}".encode())
    return h.hexdigest()


def _ignore_left_out(directory: str, names: list[str]) -> set[str]:
    left_out = set(LEFT_OUT) if Path(directory).resolve() == (FUNCTIONS / "clarion").resolve() else set()
    return {n for n in names if n == "__pycache__" or n in left_out}


@jsii.implements(ILocalBundling)
class PipBundler:
    """``python_version`` other than the runtime's is for tests that import the asset here."""

    def __init__(self, runbook_dir: Path, python_version: str | None = None) -> None:
        self.runbook_dir = runbook_dir
        self.python_version = python_version or runtime_version()

    def try_bundle(self, output_dir: str, *, image: DockerImage | None = None, **_: object) -> bool:
        self.build(Path(output_dir))
        return True

    def build(self, out: Path) -> bool:
        """The asset's files into ``out``; whether they include bytecode."""
        version = self.python_version
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
                str(out),
                *requirements(),
            ],
            check=True,
        )
        shutil.copytree(FUNCTIONS / "clarion", out / "clarion", ignore=_ignore_left_out, dirs_exist_ok=True)
        shutil.copytree(self.runbook_dir, out / "runbooks", dirs_exist_ok=True)
        compiler = bytecode_compiler(version)
        if compiler is None:
            print(f"Lambda asset: no python{version} here, so no bytecode; functions compile at cold start")
            return False
        # unchecked-hash: the files never change in /var/task, so the runtime need not stat the sources.
        subprocess.run(  # noqa: S603 - an interpreter of the runtime's version, fixed arguments
            [compiler, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(out)],
            check=True,
        )
        return True


def lambda_code(runbook_dir: Path) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(FUNCTIONS),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_hash(runbook_dir, compiled=bytecode_compiler() is not None),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-local-bundling-only"),
            local=PipBundler(runbook_dir),
        ),
    )
