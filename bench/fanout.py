"""Fan-out: time and AWS requests to send one update to 10 components x 2 languages x all channels.

    .venv/bin/python bench/fanout.py [--runs 5]

One SEV1 incident over 10 components (every channel of the policy: status page, SNS per audience,
chat, support copy) with every optional delivery configured: direct SMS to 3 numbers, voice to 1,
push to 2 devices, WhatsApp to 2 numbers, SES customer email to 3 addresses, a Slack webhook.
SNS, SES, S3 and DynamoDB run on the embedded emulator; End User Messaging (not in moto) answers
through botocore's Stubber; the webhook is a loopback server. Every AWS request is counted with a
boto3 event hook. The routes are published one after another by the real steps code, the way the
state machine's Map calls them (there in parallel).
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

from botocore.stub import Stubber  # noqa: E402
from clarion.domain.enums import ComponentStatus, Severity  # noqa: E402
from clarion.domain.incident import Change, Incident, IncidentWrite  # noqa: E402
from clarion.domain.runbooks.model import (  # noqa: E402
    Component,
    ComponentGroup,
    ComponentsFile,
    Deliveries,
    EmailDelivery,
    PushDelivery,
    Runbook,
    SmsDelivery,
    VoiceDelivery,
    Webhook,
    WhatsAppDelivery,
)
from clarion.handlers.observability import logger  # noqa: E402
from clarion.local.environment import LocalEnvironment  # noqa: E402
from clarion.local.moto_glue import EmbeddedMoto  # noqa: E402
from clarion.runbook_loader import load_runbook  # noqa: E402

STUBBED = {"pinpoint-sms-voice-v2", "pinpoint", "socialmessaging"}


def runbook_for_bench(hook_url: str) -> Runbook:
    rb = load_runbook(ROOT / "runbooks")
    group = ComponentGroup(id="bench", name={"en": "Bench services", "es": "Servicios de prueba"})
    extra = [
        Component(id=f"svc-{i}", group="bench", name={"en": f"Service {i}", "es": f"Servicio {i}"}) for i in range(10)
    ]
    phones = ["+12025550101", "+12025550102", "+12025550103"]
    deliveries = Deliveries(
        sms=SmsDelivery(origination_identity="+12025550100", recipients=phones),
        voice=VoiceDelivery(origination_identity="+12025550100", recipients=phones[:1]),
        push=PushDelivery(application_id="app", addresses={"tok-1": "APNS", "tok-2": "GCM"}),
        whatsapp=WhatsAppDelivery(phone_number_id="pn", template="incident_update", recipients=phones[:2]),
        email=EmailDelivery(
            recipients=["a@c.example", "b@c.example", "c@c.example"],
            unsubscribe_url="https://status.ledgerly.example/unsubscribe",
        ),
        webhooks=[Webhook(name="ops", kind="slack", audience="technical", url=hook_url)],
    )
    sms = rb.settings.sms.model_copy(update={"max_segments": 6})  # ten component names make a long SMS
    settings = rb.settings.model_copy(update={"deliveries": deliveries, "sms": sms})
    components = ComponentsFile(groups=[*rb.components.groups, group], components=[*rb.components.components, *extra])
    return rb.model_copy(update={"settings": settings, "components": components})


class Hook(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()


def one_run(counts: Counter[str]) -> tuple[float, int, int]:
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    runbook = runbook_for_bench(f"http://127.0.0.1:{hook.server_address[1]}/hook")
    with EmbeddedMoto() as emulator:
        env = LocalEnvironment(emulator)
        env.provision(execute_workflows=False)
        env.session.events.register(
            "before-parameter-build", lambda event_name, **_: counts.update([event_name.split(".")[1]])
        )
        real = env.client
        # The wiring makes one client per delivery, SMS before voice (runtime._configured_deliveries).
        canned = {
            "pinpoint-sms-voice-v2": [
                ("send_text_message", {"MessageId": "m"}),
                ("send_voice_message", {"MessageId": "v"}),
            ],
            "pinpoint": [("send_messages", {"MessageResponse": {"ApplicationId": "app", "Result": {}}})],
            "socialmessaging": [("send_whatsapp_message", {"messageId": "w"})],
        }

        def client(service: str, region: str | None = None) -> Any:
            c = real(service, region)
            if service in STUBBED:
                method, resp = canned[service].pop(0)
                stub = Stubber(c)
                for _ in range(50):
                    stub.add_response(method, resp)
                stub.activate()
            return c

        env.client = client  # type: ignore[method-assign]
        steps, _ = env.wire(runbook, approval_base_url="http://127.0.0.1:9", time_scale=1.0)
        now = datetime.now(UTC)
        inc = Incident(
            id="bench-1",
            group="bench",
            title={"en": "Bench", "es": "Bench"},
            severity=Severity.SEV1,
            components={f"svc-{i}": ComponentStatus.MAJOR_OUTAGE for i in range(10)},
            started_at=now,
            created_at=now,
            updated_at=now,
            version=1,
        )
        steps.store.commit(Change(incidents=[IncidentWrite(incident=inc, expected_version=0)]))
        counts.clear()
        start = time.perf_counter()
        draft = steps.draft("bench-1", "update", "u1")
        paused = time.perf_counter()
        # What the approver's click writes; not part of the fan-out, so neither timed nor counted.
        before = Counter(counts)
        drafted = steps.wstore.get_draft("bench-1", "u1")
        assert drafted is not None
        steps.wstore.save_draft(drafted.model_copy(update={"status": "approved", "approved_by": "bench"}))
        counts.subtract(Counter(counts) - before)
        resumed = time.perf_counter()
        for route in draft["routes"]:
            steps.publish_route("bench-1", "u1", route)
        elapsed = (paused - start) + (time.perf_counter() - resumed)
        sent = len([e for e in steps.store.timeline("bench-1") if e.kind == "message_sent"])
    hook.shutdown()
    return elapsed, sum(counts.values()), sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logger.setLevel("ERROR")
    results, last = [], Counter[str]()
    for _ in range(args.runs):
        counts: Counter[str] = Counter()
        results.append(one_run(counts))
        last = counts
    times = [r[0] * 1000 for r in results]
    print(
        f"one update, 10 components x 2 languages x all channels ({results[0][2]} routes), "
        f"median of {len(times)}: {statistics.median(times):.0f} ms, {results[0][1]} AWS requests"
    )
    print("  requests by operation: " + ", ".join(f"{k} {v}" for k, v in sorted(last.items())))


if __name__ == "__main__":
    main()
