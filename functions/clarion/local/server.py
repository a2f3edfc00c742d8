"""The local mode's web server on 127.0.0.1: the approval page and the desk (through the real
Powertools app of the web package), the feedback endpoint (its own Powertools app), the status page
(read from the emulated bucket) and the outbox (every message each channel sent, approval and sign-in
emails included)."""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading
from datetime import UTC, datetime
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from clarion.domain.enums import IncidentKind
from clarion.handlers.feedback_api import build_app as build_feedback_app
from clarion.local.context import LocalLambdaContext
from clarion.local.environment import LocalEnvironment
from clarion.local.moto_glue import sent_emails
from clarion.web.app import build_app
from clarion.web.render import human_time, language_label, render
from clarion.web.security import headers

_LINK = re.compile(r'href="(http://127\.0\.0\.1:\d+/approvals/[^"]+)"')
_ANY_LINK = re.compile(r'href="(http://127\.0\.0\.1:\d+/(?:approvals|desk)/[^"]+)"')


def outbox(env: LocalEnvironment) -> list[dict[str, Any]]:
    """Every message sent, oldest first: channel deliveries and internal notices from the incident
    timelines, approval emails from the emulator's SES."""
    store = env.store()
    rows: list[dict[str, Any]] = []
    for kind in (IncidentKind.INCIDENT, IncidentKind.MAINTENANCE):
        for inc in store.list_incidents(limit=500, kind=kind):
            for e in store.timeline(inc.id):
                if e.kind == "message_sent":
                    for m in e.data.get("messages", []):
                        rows.append(
                            {
                                "at": e.at.isoformat(),
                                "incident": inc.id,
                                "channel": e.data["route"],
                                "audience": m["audience"],
                                "language": m["language"],
                                "subject": m.get("subject") or "",
                                "body": m["body"],
                            }
                        )
                elif e.kind == "internal_notice":
                    rows.append(
                        {
                            "at": e.at.isoformat(),
                            "incident": inc.id,
                            "channel": "internal",
                            "audience": "team",
                            "language": "en",
                            "subject": "",
                            "body": e.summary,
                        }
                    )
    emails = []
    for mail in sent_emails(env.names.account, env.names.region):
        link = _ANY_LINK.search(mail["body"])
        url = unescape(link.group(1)) if link else ""
        emails.append(
            {
                "at": "",
                "incident": "",
                "channel": "email (SES)",
                "audience": ("approvers" if "/approvals/" in url else "desk sign-in") if url else "support",
                "language": "en",
                "subject": mail["subject"],
                "body": url or re.sub(r"<[^>]+>", "", unescape(mail["body"]))[:2000],
                "to": mail["to"],
                "link": url,
            }
        )
    # Emails (approval and sign-in links: what a person in local mode looks for) first, newest first;
    # then what the channels sent, newest first.
    return emails[::-1] + sorted(rows, key=lambda r: str(r["at"]), reverse=True)


def approval_links(env: LocalEnvironment) -> list[str]:
    """The approval links emailed so far, oldest first (what an approver would click)."""
    links = []
    for mail in sent_emails(env.names.account, env.names.region):
        found = _LINK.search(mail["body"])
        if found:
            links.append(unescape(found.group(1)))
    return links


def outbox_html(rows: list[dict[str, Any]], live: bool = True) -> str:
    now = datetime.now(UTC)
    shown = []
    for r in rows:
        at = datetime.fromisoformat(r["at"]) if r.get("at") else None
        link = r.get("link", "")
        shown.append(
            {
                **r,
                "at_human": human_time(at, now),
                "language_label": language_label(r.get("language", "")),
                "to": r.get("to") or [],
                "link": link,
                "link_text": "Open the approval page" if "/approvals/" in link else "Sign in to the desk",
            }
        )
    return render("outbox.html.j2", rows=shown, live=live)


class LocalServer:
    def __init__(self, env: LocalEnvironment, port: int = 0) -> None:
        self.env = env
        self._app: Any = None
        self._feedback_app: Any = None
        handler = self._handler()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def app(self) -> Any:
        if self._app is None:
            assert self.env.desk is not None, "wire() the environment before serving approvals"
            approvals, desk = self.env.desk, self.env.web_desk
            self._app = build_app(lambda: approvals, (lambda: desk) if desk is not None else None)
        return self._app

    def feedback_app(self) -> Any:
        if self._feedback_app is None:
            assert self.env.feedback is not None, "wire() the environment before serving feedback"
            pages = self.env.feedback
            self._feedback_app = build_feedback_app(lambda: pages)
        return self._feedback_app

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(
                self,
                status: int,
                body: bytes,
                ctype: str,
                headers: dict[str, str] | None = None,
                cookies: list[str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                given = dict(headers or {})
                # A HEAD answer names the length its GET would have (the app sets it); otherwise the body's.
                length = next((given.pop(k) for k in list(given) if k.lower() == "content-length"), str(len(body)))
                self.send_header("Content-Length", length)
                for k, v in given.items():
                    self.send_header(k, v)
                for c in cookies or []:
                    self.send_header("Set-Cookie", c)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _approval(self) -> None:
                self._lambda(server.app(), "clarion-approvals")

            def _feedback(self) -> None:
                self._lambda(server.feedback_app(), "clarion-feedback")

            def _lambda(self, app: Any, function: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                # As a function URL does: text bodies as they are, anything else base64-encoded.
                try:
                    body, encoded = raw.decode("utf-8"), False
                except UnicodeDecodeError:
                    body, encoded = base64.b64encode(raw).decode(), True
                event = {
                    "version": "2.0",
                    "rawPath": parts.path,
                    "rawQueryString": parts.query,
                    # plain HTTP on loopback: cookies go without Secure (a deployed function URL is HTTPS)
                    "headers": {**{k.lower(): v for k, v in self.headers.items()}, "x-forwarded-proto": "http"},
                    "queryStringParameters": dict(parse_qsl(parts.query)) or None,
                    "cookies": [c.strip() for c in (self.headers.get("Cookie") or "").split(";") if c.strip()],
                    "requestContext": {
                        "http": {
                            "method": self.command,
                            "path": parts.path,
                            "protocol": "HTTP/1.1",
                            "sourceIp": self.client_address[0],
                            "userAgent": self.headers.get("User-Agent", ""),
                        },
                        "requestId": "local",
                        "domainName": "127.0.0.1",
                        "domainPrefix": "local",
                        "stage": "$default",
                        "routeKey": "$default",
                        "accountId": "anonymous",
                        "apiId": "local",
                        "time": "",
                        "timeEpoch": 0,
                    },
                    "routeKey": "$default",
                    "body": body,
                    "isBase64Encoded": encoded,
                }
                try:
                    resp = app.resolve(event, LocalLambdaContext(function))
                except Exception as exc:
                    import traceback

                    traceback.print_exc()
                    return self._send(500, f"internal error: {type(exc).__name__}".encode(), "text/plain")
                headers = {k: v for k, v in (resp.get("headers") or {}).items() if k.lower() != "content-type"}
                self._send(
                    resp["statusCode"],
                    (resp.get("body") or "").encode(),
                    resp["headers"].get("Content-Type", "text/html"),
                    headers,
                    resp.get("cookies") or [],
                )

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_POST(self) -> None:
                if self.path.startswith(("/approvals/", "/desk")):
                    self._approval()
                elif urlsplit(self.path).path == "/feedback":
                    self._feedback()
                else:
                    self._send(405, b"method not allowed", "text/plain")

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/approvals/") or path == "/desk" or path.startswith("/desk/"):
                    return self._approval()
                if path == "/feedback":
                    return self._feedback()
                html = "text/html; charset=utf-8"
                if path in ("/", "/index.html"):
                    return self._send(200, render("local_index.html.j2").encode(), html, headers())
                if path == "/outbox":  # holds signed links: never cached, never framed, no referrer
                    # The page's own banner script may run and read the page's summary (same origin).
                    own = headers()
                    own["Content-Security-Policy"] += "; script-src 'self'; connect-src 'self'"
                    return self._send(200, outbox_html(outbox(server.env)).encode(), html, own)
                if path == "/faults.json":
                    return self._send(200, json.dumps(server.env.faults.summary()).encode(), "application/json")
                if path == "/outbox.json":
                    return self._send(200, json.dumps(outbox(server.env)).encode(), "application/json", headers())
                if path.startswith("/page/"):
                    key = path.removeprefix("/page/") or "index.html"
                    if key.endswith("/"):
                        key += "index.html"
                    try:
                        s3 = server.env.client("s3", inject=False)  # the reader, not the pipeline
                        obj = s3.get_object(Bucket=server.env.names.page_bucket, Key=key)
                    except Exception:
                        return self._send(404, b"not published (yet)", "text/plain")
                    return self._send(200, obj["Body"].read(), obj.get("ContentType", "application/octet-stream"))
                return self._send(404, b"not found", "text/plain")

        return Handler
