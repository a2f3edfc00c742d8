"""Cold-start cost of the social channels: what importing each way of posting adds to a fresh
interpreter (a Lambda cold start), median of N runs, each in its own process.

    .venv/bin/python bench/social_imports.py [--runs 7] [--python PATH]

* ``urllib.request`` + ``json``: the two HTTP calls Clarion makes (the steps function already
  loads both for the webhooks, so in the deployed function they add nothing);
* ``clarion.adapters.social``: Clarion's Mastodon and Bluesky adapters, on top of the workflow's
  messaging module they sit beside;
* ``mastodon`` (Mastodon.py) and ``atproto`` (the AT Protocol SDK): measured when the interpreter
  given with ``--python`` has them (they are not Clarion dependencies; install them in a scratch
  venv: ``python -m venv /tmp/sdk && /tmp/sdk/bin/pip install Mastodon.py atproto``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = "import time,sys; t=time.perf_counter(); {stmt}; print((time.perf_counter()-t)*1000, len(sys.modules))"


def measure(python: str, stmt: str, runs: int, path: str = "") -> tuple[float, int] | None:
    times, modules = [], 0
    for _ in range(runs):
        code = (f"import sys; sys.path.insert(0, {path!r}); " if path else "") + PROBE.format(stmt=stmt)
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return None
        ms, count = done.stdout.split()
        times.append(float(ms))
        modules = int(count)
    return statistics.median(times), modules


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=sys.executable, help="interpreter that has Mastodon.py and atproto")
    args = parser.parse_args()
    functions = str(ROOT / "functions")
    rows = [
        ("urllib.request + json (two HTTP calls)", sys.executable, "import urllib.request, json", ""),
        (
            "clarion.adapters.social, after the messaging module",
            sys.executable,
            "import clarion.adapters.messaging; t=time.perf_counter(); import clarion.adapters.social",
            functions,
        ),
        ("Mastodon.py (import mastodon)", args.python, "import mastodon", ""),
        ("atproto SDK (import atproto)", args.python, "import atproto", ""),
    ]
    base = None
    for label, python, stmt, path in rows:
        found = measure(python, stmt, args.runs, path)
        if found is None:
            print(f"{label:55s} not installed in {python}")
            continue
        ms, modules = found
        base = base or ms
        print(f"{label:55s} {ms:8.1f} ms  ({modules} modules loaded, x{ms / base:.1f})")


if __name__ == "__main__":
    main()
