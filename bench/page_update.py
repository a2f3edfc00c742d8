"""The deployed status page path at scale: one update through the real delivery, counted in AWS requests.

    .venv/bin/python bench/page_update.py [--sizes 100,1000,10000] [--json]

For each N: N incidents are stored through the real DynamoDB store on the emulator (moto, in
process), the page is published once (the first build), then one incident gets one update through
the real status page delivery (the one the deployed workflow uses), which records it and publishes
to S3. Reported for that one update: AWS requests by service, wall time, files written, and whether
the oldest incident is still linked from the history pages (walked from ``history/index.html``).

The page itself is held constant: the newest 100 incidents lie in the last 120 days (same uptime
bars, recent days, feeds); the rest of the history lies further back. moto's Query reads the whole
table for every call, so on the emulator seconds grow with N even for a constant request count:
requests are the number that carries over to DynamoDB. Goals: <= 40 requests per update at every
N, and requests(10,000) / requests(100) <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

import boto3  # noqa: E402
from clarion.adapters.dynamodb_page_store import DynamoDBPageStore  # noqa: E402
from clarion.adapters.dynamodb_store import DynamoDBIncidentStore, table_definition  # noqa: E402
from clarion.domain.enums import ComponentStatus, IncidentStatus, Severity  # noqa: E402
from clarion.domain.incident import Change, Incident, IncidentWrite, TimelineEntry  # noqa: E402
from clarion.domain.messaging.drafts import Draft  # noqa: E402
from clarion.domain.status_page import PageUpdate  # noqa: E402
from clarion.handlers.runtime import PageTarget, Wiring, build  # noqa: E402
from clarion.runbook_loader import load_runbook  # noqa: E402
from moto import mock_aws  # noqa: E402

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
TABLE = "clarion-bench"
BUCKET = "clarion-bench-page"
REGION = "us-east-1"
MANIFEST = "_clarion/manifest.json"


class Requests:
    """Counts API calls per service on every client it hands out (``before-parameter-build`` fires
    once per operation, retries excluded)."""

    def __init__(self) -> None:
        self.on = False
        self.by_service: Counter[str] = Counter()
        self.files: set[str] = set()

    def _count(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if not self.on:
            return
        service = model.service_model.service_name
        self.by_service[service] += 1
        if service == "s3" and model.name == "PutObject" and params.get("Key") != MANIFEST:
            self.files.add(params["Key"])

    def client(self, service: str, region: str | None = None) -> Any:
        c = boto3.client(service, region_name=region or REGION)
        c.meta.events.register("before-parameter-build.*.*", self._count)
        return c


def incidents(runbook: Any, n: int) -> list[tuple[Incident, list[tuple[datetime, str, dict[str, str]]]]]:
    """N resolved incidents, oldest first, with their page updates (at, status, body per language);
    the newest 100 in the last 120 days."""
    comps = [c.id for c in runbook.components.components]
    out = []
    for k in range(n):
        back = n - k
        started = NOW - timedelta(days=1.2 * back) if back <= 100 else NOW - timedelta(days=120 + (back - 100) * 0.5)
        resolved = started + timedelta(minutes=45)
        comp = comps[k % len(comps)]
        group = runbook.component(comp).group
        inc = Incident(
            id=f"{group}-{started.strftime('%Y%m%dT%H%M%S')}-{k:06d}",
            group=group,
            title={"en": f"Elevated errors {k}", "es": f"Errores elevados {k}"},
            status=IncidentStatus.RESOLVED,
            severity=Severity.SEV3,
            components={comp: ComponentStatus.PARTIAL_OUTAGE},
            started_at=started,
            created_at=started,
            updated_at=resolved,
            resolved_at=resolved,
            version=1,
        )
        updates = [
            (started + timedelta(minutes=2), "investigating", {"en": "We are looking into it.", "es": "Lo revisamos."}),
            (resolved, "resolved", {"en": "This is resolved.", "es": "Está resuelto."}),
        ]
        out.append((inc, updates))
    return out


def active_incident(runbook: Any) -> Incident:
    comp = runbook.components.components[0]
    return Incident(
        id=f"{comp.group}-active",
        group=comp.group,
        title={"en": "Checkout errors", "es": "Errores en el pago"},
        status=IncidentStatus.IDENTIFIED,
        severity=Severity.SEV2,
        components={comp.id: ComponentStatus.MAJOR_OUTAGE},
        started_at=NOW - timedelta(hours=1),
        created_at=NOW - timedelta(hours=1),
        updated_at=NOW - timedelta(minutes=30),
        version=1,
    )


def seed(store: DynamoDBIncidentStore, pages: DynamoDBPageStore, stored: list[Any]) -> None:
    """Store each incident, and put each of its updates on the page model, through the real stores
    (as the delivery does, without publishing)."""
    for inc, updates in stored:
        store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)]))
        for i, (at, status, body) in enumerate(updates):
            update = PageUpdate(id=f"{inc.id}-{i}", status=status, body=body, created_at=at)
            entry = TimelineEntry(at=at, kind="page_update", actor="workflow", summary=f"Status page: {status}")
            pages.record(inc, update, entry, at)


def draft_for(incident: Incident, n: int) -> Draft:
    return Draft.model_validate(
        {
            "id": f"update-{n}",
            "incident_id": incident.id,
            "phase": "update",
            "created_at": NOW.isoformat(),
            "messages": [
                {
                    "audience": "customers",
                    "channel": "status_page",
                    "language": lang,
                    "body": text,
                }
                for lang, text in (("en", f"Update {n}: a fix is rolling out."), ("es", f"Actualización {n}."))
            ],
            "routes": ["status_page"],
            "approval_required": False,
        }
    )


def history_reachable(s3: Any, oldest_id: str) -> bool:
    """Walk the history pages from ``history/index.html`` by their "older" links; True if one links
    the oldest incident."""
    key, seen = "history/index.html", set()
    while key and key not in seen:
        seen.add(key)
        try:
            html = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        except s3.exceptions.NoSuchKey:
            return False
        if f"incidents/{oldest_id}.html" in html:
            return True
        links = re.findall(r'href="[./]*history/(\d+\.html)"', html)
        older = [x for x in links if "history/" + x not in seen]
        # the older link is the lower page number
        key = "history/" + min(older, key=lambda x: int(x.split(".")[0])) if older else ""
    return False


def no_table_copies() -> None:
    """moto backs up the whole table for every item of a transaction, to roll back a failed one: that
    makes seeding 10,000 incidents quadratic. No write in this bench fails its condition, so the
    backup is skipped (tables are handed back as they are); requests are counted all the same."""
    import copy

    import moto.dynamodb.models as models

    class _Copy:
        @staticmethod
        def deepcopy(obj: Any) -> Any:
            return obj if isinstance(obj, models.Table) else copy.deepcopy(obj)

    models.copy = _Copy  # type: ignore[assignment]


def measure(n: int) -> dict[str, Any]:
    runbook = load_runbook(ROOT / "runbooks")
    counter = Requests()
    with mock_aws():
        ddb = counter.client("dynamodb")
        ddb.create_table(**table_definition(TABLE))
        s3 = counter.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        sns = counter.client("sns")
        topics = {
            k: sns.create_topic(Name=f"t-{k}")["TopicArn"] for k in ("customers", "technical", "chat", "internal")
        }
        wiring = Wiring(
            table=TABLE,
            state_machine_arn=f"arn:aws:states:{REGION}:123456789012:stateMachine:bench",
            approval_base_url="https://approve.example.com",
            sender="status@example.com",
            topics=topics,
            page_targets=[PageTarget(name="primary", bucket=BUCKET)],
        )
        clock = [NOW]
        service, _ = build(runbook, wiring, counter.client, lambda: b"k" * 32, clock=lambda: clock[0])
        delivery = service.deliveries["status_page"]
        store = DynamoDBIncidentStore(TABLE, ddb)
        stored = incidents(runbook, n)
        pages = DynamoDBPageStore(TABLE, ddb)
        seed(store, pages, stored)
        active = active_incident(runbook)
        opening = (active.started_at, "investigating", {"en": "Investigating.", "es": "Lo revisamos."})
        seed(store, pages, [(active, [opening])])
        first = time.perf_counter()
        delivery.deliver("status_page", draft_for(active, 0), active)  # the first build
        first_seconds = time.perf_counter() - first

        clock[0] = NOW + timedelta(minutes=5)
        counter.on = True
        start = time.perf_counter()
        delivery.deliver("status_page", draft_for(active, 1), active)
        seconds = time.perf_counter() - start
        counter.on = False
        reachable = history_reachable(s3, stored[0][0].id) if stored else True
    return {
        "n": n,
        "requests": sum(counter.by_service.values()),
        "by_service": dict(sorted(counter.by_service.items())),
        "seconds": round(seconds, 3),
        "files_written": len(counter.files),
        "history_reachable": reachable,
        "first_build_seconds": round(first_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated incident counts")
    parser.add_argument("--json", action="store_true", help="one JSON line per N")
    args = parser.parse_args()
    from clarion.handlers.observability import logger

    logger.setLevel("ERROR")
    no_table_copies()
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        row = measure(n)
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(
                f"N={row['n']:>6}: {row['requests']:>5} requests {row['by_service']}, {row['seconds']:.2f} s, "
                f"{row['files_written']} files, oldest incident reachable: {row['history_reachable']}",
                flush=True,
            )
    if not args.json and len(rows) > 1:
        print(
            f"requests({rows[-1]['n']}) / requests({rows[0]['n']}) = {rows[-1]['requests'] / rows[0]['requests']:.2f}"
        )


if __name__ == "__main__":
    main()
