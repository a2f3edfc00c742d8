"""AWS faults on demand, so a team can rehearse its pipeline under them.

A fault is written ``SERVICE.OPERATION=ERROR[xCOUNT][@NTH]``:

- ``SERVICE`` is the boto3 client name (``s3``, ``sns``, ``sesv2``, ``dynamodb``, ``stepfunctions``, ...),
  ``OPERATION`` the API operation (``PutObject``, ``Publish``, ...);
- ``ERROR`` is ``500`` (an internal error), ``throttle`` (the service's throttling answer) or
  ``connection`` (the connection drops);
- ``xCOUNT`` fails that many calls in a row (default 1), starting at the ``@NTH`` call of that
  operation (default 1).

``s3.PutObject=500x1@5`` fails the fifth PutObject once. A fault is the answer the code sees after
botocore's own retries, i.e. AWS kept failing: it is injected on botocore's ``before-call`` event of
the clients the local mode builds, so it exercises Clarion's own layers (the publisher's repair,
the state machine's Retry and Catch, the dead-letter queue), not only botocore's.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import EndpointConnectionError

ERRORS = ("500", "throttle", "connection")
_SPEC = re.compile(
    r"^(?P<service>[a-z0-9-]+)\.(?P<op>[A-Z][A-Za-z0-9]+)=(?P<error>[a-z0-9]+?)(?:x(?P<count>\d+))?(?:@(?P<nth>\d+))?$"
)


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class Fault:
    service: str
    operation: str
    error: str
    count: int = 1
    nth: int = 1

    @classmethod
    def parse(cls, text: str) -> Fault:
        m = _SPEC.match(text.strip())
        if not m:
            raise FaultSpecError(
                f"fault {text!r}: expected SERVICE.OPERATION=ERROR[xCOUNT][@NTH], e.g. s3.PutObject=500x1@5"
            )
        error = m["error"]
        if error not in ERRORS:
            raise FaultSpecError(f"fault {text!r}: ERROR must be one of {', '.join(ERRORS)}, not {error!r}")
        count, nth = int(m["count"] or 1), int(m["nth"] or 1)
        if count < 1 or nth < 1:
            raise FaultSpecError(f"fault {text!r}: COUNT and NTH start at 1")
        return cls(m["service"], m["op"], error, count, nth)

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}={self.error}x{self.count}@{self.nth}"

    def hits(self, call: int) -> bool:
        return self.nth <= call < self.nth + self.count


@dataclass
class Injected:
    fault: str
    call: int
    operation: str


@dataclass
class FaultInjector:
    """Counts the calls of each faulted operation across every client it is attached to."""

    faults: list[Fault]
    calls: dict[tuple[str, str], int] = field(default_factory=dict)
    injected: list[Injected] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_specs(cls, specs: list[str] | tuple[str, ...]) -> FaultInjector:
        return cls([Fault.parse(s) for s in specs])

    def __bool__(self) -> bool:
        return bool(self.faults)

    def attach(self, client: Any, service: str) -> Any:
        """Register on ``client`` (built for boto3 service ``service``); returns the client."""
        ops = {f.operation for f in self.faults if f.service == service}
        if not ops:
            return client
        service_id = client.meta.service_model.service_id.hyphenize()
        for op in ops:
            client.meta.events.register(
                f"before-call.{service_id}.{op}",
                lambda service=service, op=op, **kw: self._before_call(service, op, client, kw),
                unique_id=f"clarion-fault-{service}-{op}",
            )
        return client

    def _before_call(self, service: str, op: str, client: Any, kw: dict[str, Any]) -> Any:
        with self._lock:
            n = self.calls.get((service, op), 0) + 1
            self.calls[(service, op)] = n
            fault = next((f for f in self.faults if f.service == service and f.operation == op and f.hits(n)), None)
            if fault is None:
                return None
            self.injected.append(Injected(str(fault), n, f"{service}.{op}"))
        url = str(client.meta.endpoint_url)
        if fault.error == "connection":
            raise EndpointConnectionError(endpoint_url=url)
        status, code = _answer(service, fault.error)
        parsed = {
            "Error": {"Code": code, "Message": f"injected fault {fault} (call {n})"},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
        }
        return AWSResponse(url, status, HTTPHeaders(), None), parsed

    def summary(self) -> dict[str, Any]:
        return {
            "faults": [str(f) for f in self.faults],
            "injected": [{"fault": i.fault, "operation": i.operation, "call": i.call} for i in self.injected],
            "calls": {f"{s}.{o}": n for (s, o), n in sorted(self.calls.items())},
        }


def _answer(service: str, error: str) -> tuple[int, str]:
    if error == "throttle":
        if service == "s3":
            return 503, "SlowDown"
        if service == "sns":
            return 400, "Throttling"
        return 400, "ThrottlingException"
    if service == "s3":
        return 500, "InternalError"
    if service == "dynamodb":
        return 500, "InternalServerError"
    return 500, "InternalFailure"
