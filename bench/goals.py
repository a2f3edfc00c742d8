"""Run the scale and first-notice benches with ``--json`` and check their goals; exit 1 if one fails.

    .venv/bin/python bench/goals.py [--sizes 100,1000,10000] [--runs 3]

Goals:
* ``bench/page_update.py``: <= 40 AWS requests per status page update at every N,
  requests(largest N) / requests(smallest N) <= 1.2, and the oldest incident reachable from the
  history pages;
* ``bench/first_notice.py``: <= 12 sequential AWS round trips from the alarm event to the first
  customer-visible publish;
* ``bench/alarm_storm.py``: conflicts <= 10 % of events, and no event giving up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def lines(script: str, *args: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, str(BENCH / script), "--json", *args], capture_output=True, text=True, check=True
    )
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    checks: list[tuple[str, bool, str]] = []

    pages = lines("page_update.py", "--sizes", args.sizes)
    for row in pages:
        print(json.dumps(row))
        checks.append((f"page update at N={row['n']}: <= 40 requests", row["requests"] <= 40, str(row["requests"])))
        checks.append((f"page update at N={row['n']}: oldest incident reachable", row["history_reachable"], ""))
    ratio = pages[-1]["requests"] / pages[0]["requests"]
    checks.append((f"requests({pages[-1]['n']}) / requests({pages[0]['n']}) <= 1.2", ratio <= 1.2, f"{ratio:.2f}"))

    (first,) = lines("first_notice.py", "--runs", str(args.runs))
    print(json.dumps(first))
    trips = first["critical_path_round_trips"]
    checks.append(("first notice: <= 12 sequential round trips", trips <= 12, str(trips)))

    (storm,) = lines("alarm_storm.py")
    print(json.dumps(storm))
    rate = storm["conflict_rate"]
    checks.append(("alarm storm: conflicts <= 10 % of events", rate <= 0.10, str(rate)))
    checks.append(("alarm storm: no event gave up", storm["gave_up"] == 0, str(storm["gave_up"])))

    for name, ok, value in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({value})" if value else ""))
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
