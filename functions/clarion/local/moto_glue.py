"""Everything that reaches into moto lives here (docs/design.md, decision 9).

moto is pinned to ``>=5.2.5,<5.3`` in pyproject.toml. ``check_moto()`` fails loudly when the
installed moto is outside that range or lacks what this module relies on, and
``tests/integration/test_moto_glue.py`` runs it, so a moto upgrade that changes the internals
breaks one test with a clear message instead of the demo at random.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import urllib.request
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

SUPPORTED = ((5, 2, 5), (5, 3, 0))  # [low, high)


class MotoMismatch(RuntimeError):
    pass


def check_moto() -> str:
    """The moto version, if it is one this module was written against; otherwise ``MotoMismatch``."""
    found = version("moto")
    parts = tuple(int(p) for p in found.split(".")[:3] if p.isdigit())
    if not (SUPPORTED[0] <= parts < SUPPORTED[1]):
        raise MotoMismatch(
            f"moto {found} is installed; clarion.local.moto_glue supports >=5.2.5,<5.3. "
            "Reinstall with `make venv` or review moto_glue.py against the new moto."
        )
    try:
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        for attr in ("start", "stop", "get_host_and_port"):
            if not hasattr(ThreadedMotoServer, attr):
                raise MotoMismatch(f"moto {found}: ThreadedMotoServer.{attr} is gone")
    except ImportError as exc:
        raise MotoMismatch(f"moto {found} lacks the server extra: pip install 'moto[server]' ({exc})") from exc
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class EmbeddedMoto:
    """A moto server on 127.0.0.1, in a thread of this process."""

    def __init__(self, port: int | None = None) -> None:
        check_moto()
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        self.port = port or free_port()
        # Step Functions' interpreter calls the server back on MOTO_PORT (NOTES.md): set it first.
        os.environ["MOTO_PORT"] = str(self.port)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedMoto:
        # werkzeug logs every request at INFO; the emulator's traffic is not the user's output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        # moto's backends are global to the process: start from nothing, whatever ran before.
        self.reset()
        return self

    def stop(self) -> None:
        # Executions still running (a monitoring loop's Wait) fail when the server goes away: that
        # is the shutdown, not an error worth printing.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        self._server.stop()

    def _post(self, path: str, body: dict[str, object] | None = None) -> None:
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(f"{self.endpoint_url}{path}", data=data, method="POST")  # noqa: S310 - loopback
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            resp.read()

    def configure(self, *, execute_state_machines: bool) -> None:
        """moto's documented runtime configuration endpoint."""
        self._post(
            "/moto-api/config",
            {
                "stepfunctions": {"execute_state_machine": execute_state_machines},
                "lambda": {"use_docker": False},
            },
        )

    def reset(self) -> None:
        self._post("/moto-api/reset")

    def __enter__(self) -> EmbeddedMoto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- Lambda tasks run in-process --------------------------------------------------------------

Dispatch = Callable[[str, dict[str, Any]], dict[str, Any]]
_dispatch: Dispatch | None = None
_patched = False


def route_lambda_invokes(dispatch: Dispatch | None) -> None:
    """Every Lambda invoke (direct, or a Step Functions Task) runs ``dispatch(function_name, event)``
    in this process. An exception becomes a Lambda function error whose ``errorType`` is the
    exception's class name, as on AWS, so the state machine's Retry and Catch see it.

    Relies on moto's "simple" Lambda backend (``use_docker: False``): its ``invoke`` is replaced.
    """
    global _dispatch, _patched
    _dispatch = dispatch
    if _patched:
        return
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        if _dispatch is None:
            raise MotoMismatch("a Lambda was invoked but no in-process dispatch is installed")
        name = function_name.rsplit(":function:", 1)[-1].split(":")[0]
        event = json.loads(body) if body else {}
        try:
            result = _dispatch(name, event)
        except Exception as exc:  # mirror Lambda: the error goes back to the caller as data
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)[:4000]}).encode()
        return json.dumps(result, default=str).encode()

    setattr(LambdaSimpleBackend, "invoke", invoke)  # noqa: B010 - the documented seam of this module
    _patched = True


# --- what the emulator delivered ----------------------------------------------------------------


def sent_emails(account: str, region: str) -> list[dict[str, Any]]:
    """Emails sent through SES (v1 or v2) in the emulator: SES v2 keeps the HTML part as body."""
    from moto.ses.models import ses_backends

    return [
        {
            "id": m.id,
            "from": getattr(m, "source", ""),
            "to": getattr(m, "destinations", {}),
            "subject": getattr(m, "subject", ""),
            "body": getattr(m, "body", ""),
        }
        for m in ses_backends[account][region].sent_messages
    ]


def sns_notifications(account: str, region: str) -> list[dict[str, Any]]:
    """Messages published to SNS topics in the emulator."""
    from moto.sns.models import sns_backends

    out = []
    for arn, topic in sns_backends[account][region].topics.items():
        for message_id, message, subject, attributes, _group in topic.sent_notifications:
            out.append(
                {
                    "topic": arn,
                    "id": message_id,
                    "message": message,
                    "subject": subject,
                    "attributes": attributes,
                }
            )
    return out
