"""The Lambda asset: its size, and the cold import of every handler from it, with and without
bytecode (ratio in one run).

    .venv/bin/python bench/asset.py [--runs 7]

The asset is built by the same bundler as ``cdk synth``, for this interpreter's Python (bytecode is
version-specific; the build machine compiles for the runtime only when it has that Python). "Before"
is the asset as it was: sources only, with ``clarion/cli`` and ``clarion/local``. Each import runs in
a fresh interpreter (``-I -S -B``: no bytecode is written, as ``/var/task`` is read-only) whose
path holds only the asset and boto3, as in Lambda.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))

from infra.constructs.lambda_package import FUNCTIONS, PipBundler  # noqa: E402

HANDLERS = [
    "clarion.handlers.intake",
    "clarion.handlers.workflow_steps",
    "clarion.handlers.approval_api",
    "clarion.handlers.subscriptions",
]


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cold_import(asset: Path, boto: Path, module: str) -> float:
    code = (
        f"import sys; sys.path[:0] = [{str(asset)!r}, {str(boto)!r}]; import time; t = time.perf_counter(); "
        f"import {module}; print((time.perf_counter() - t) * 1000)"
    )
    out = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    with tempfile.TemporaryDirectory() as tmp:
        after = Path(tmp) / "after"
        PipBundler(ROOT / "runbooks", python_version=version).build(after)
        before = Path(tmp) / "before"
        shutil.copytree(after, before, ignore=shutil.ignore_patterns("__pycache__"))
        for part in ("cli", "local"):
            shutil.copytree(
                FUNCTIONS / "clarion" / part, before / "clarion" / part, ignore=shutil.ignore_patterns("__pycache__")
            )
        boto = Path(tmp) / "runtime"
        boto.mkdir()
        site = Path(__import__("boto3").__file__).parents[1]
        for name in ("boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six.py"):
            (boto / name).symlink_to(site / name)
        print(
            f"asset size: before {size(before) / 1e6:.1f} MB (sources only, with cli/ and local/), "
            f"after {size(after) / 1e6:.1f} MB (without them, with bytecode for Python {version}); "
            f"clarion/ {size(before / 'clarion') / 1e3:.0f} KB -> {size(after / 'clarion') / 1e3:.0f} KB"
        )
        for module in HANDLERS:
            # Alternate, so both see the same machine load.
            b, a = [], []
            for _ in range(args.runs):
                b.append(cold_import(before, boto, module))
                a.append(cold_import(after, boto, module))
            mb, ma = statistics.median(b), statistics.median(a)
            print(
                f"cold import {module}: before {mb:.0f} ms, after {ma:.0f} ms "
                f"(ratio {mb / ma:.2f}, median of {args.runs})"
            )


if __name__ == "__main__":
    main()
