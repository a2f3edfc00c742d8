"""Loopback servers that answer like Mastodon and a Bluesky PDS, following their documented request
and response shapes (docs.joinmastodon.org methods/statuses; the AT Protocol lexicons
com.atproto.server.createSession, com.atproto.repo.createRecord / getRecord, app.bsky.feed.post).
They validate what a client must send and keep what was posted: the local mode points the
social routes at them, and the tests use them.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import regex


@dataclass
class SocialServer:
    """``fail_next``: HTTP statuses to answer the next requests with (then normal service)."""

    token: str = "mastodon-token"  # noqa: S105 - a fake server's credential
    handle: str = "status.ledgerly.example"
    app_password: str = "abcd-efgh-ijkl-mnop"  # noqa: S105
    did: str = "did:plc:ledgerlystatus0000000000"
    statuses: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # rkey -> record
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    lose_answer_once: bool = False  # post, then answer 502 as if the response were lost
    url: str = ""
    _idempotency: dict[str, dict[str, Any]] = field(default_factory=dict)
    _server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> SocialServer:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _json(self, status: int, doc: dict[str, Any]) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                    return {}
                doc: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
                return doc

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                parts = urlsplit(self.path)
                if parts.path == "/xrpc/com.atproto.repo.getRecord":
                    if self.headers.get("Authorization") != "Bearer access-jwt":
                        return self._json(401, {"error": "AuthenticationRequired", "message": "Invalid token"})
                    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    if q.get("repo") != fake.did or q.get("collection") != "app.bsky.feed.post":
                        return self._json(400, {"error": "InvalidRequest", "message": "bad repo or collection"})
                    rec = fake.records.get(q.get("rkey", ""))
                    if rec is None:
                        return self._json(400, {"error": "RecordNotFound", "message": "Could not locate record"})
                    return self._json(200, {"uri": rec["uri"], "cid": "bafyfake", "value": rec["record"]})
                return self._json(404, {"error": "NotFound"})

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                if fake.fail_next:
                    return self._json(fake.fail_next.pop(0), {"error": "Unavailable", "message": "try later"})
                if self.path == "/api/v1/statuses":
                    return self._mastodon()
                if self.path == "/xrpc/com.atproto.server.createSession":
                    body = self._body()
                    if body.get("identifier") != fake.handle or body.get("password") != fake.app_password:
                        return self._json(
                            401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
                        )
                    return self._json(
                        200,
                        {
                            "accessJwt": "access-jwt",
                            "refreshJwt": "refresh-jwt",
                            "handle": fake.handle,
                            "did": fake.did,
                            "active": True,
                        },
                    )
                if self.path == "/xrpc/com.atproto.repo.createRecord":
                    return self._create_record()
                return self._json(404, {"error": "NotFound"})

            def _mastodon(self) -> None:
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._json(401, {"error": "The access token is invalid"})
                key = self.headers.get("Idempotency-Key", "")
                body = self._body()
                if key and key in fake._idempotency:
                    return self._json(200, fake._idempotency[key])
                text = body.get("status", "")
                if not text:
                    return self._json(422, {"error": "Validation failed: Text can't be blank"})
                if len(regex.findall(r"\X", text)) > 500:
                    return self._json(422, {"error": "Validation failed: Text character limit of 500 exceeded"})
                n = str(109_000_000_000_000_000 + len(fake.statuses))
                status = {
                    "id": n,
                    "created_at": "2026-11-23T14:00:00.000Z",
                    "visibility": body.get("visibility", "public"),
                    "language": body.get("language"),
                    "uri": f"{fake.url}/users/ledgerly/statuses/{n}",
                    "url": f"{fake.url}/@ledgerly/{n}",
                    "content": f"<p>{text}</p>",
                    "text": text,
                }
                fake.statuses.append(status)
                if key:
                    fake._idempotency[key] = status
                if fake.lose_answer_once:
                    fake.lose_answer_once = False
                    return self._json(502, {"error": "Bad gateway"})
                return self._json(200, status)

            def _create_record(self) -> None:
                if self.headers.get("Authorization") != "Bearer access-jwt":
                    return self._json(401, {"error": "AuthenticationRequired", "message": "Invalid token"})
                body = self._body()
                record = body.get("record", {})
                problems = []
                if body.get("repo") != fake.did:
                    problems.append("repo")
                if body.get("collection") != "app.bsky.feed.post" or record.get("$type") != "app.bsky.feed.post":
                    problems.append("collection")
                if not re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", body.get("rkey", "")):
                    problems.append("rkey is not a TID")
                if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", record.get("createdAt", "")):
                    problems.append("createdAt")
                text = record.get("text", "")
                if len(regex.findall(r"\X", text)) > 300 or len(text.encode()) > 3000:
                    problems.append("Record/text must not be longer than 300 graphemes")
                for facet in record.get("facets", []):
                    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
                    if text.encode()[start:end].decode() != facet["features"][0]["uri"]:
                        problems.append("facet offsets")
                if problems:
                    return self._json(400, {"error": "InvalidRequest", "message": "; ".join(problems)})
                if body["rkey"] in fake.records:
                    return self._json(400, {"error": "InvalidRequest", "message": "Record already exists"})
                uri = f"at://{fake.did}/app.bsky.feed.post/{body['rkey']}"
                fake.records[body["rkey"]] = {"uri": uri, "record": record}
                if fake.lose_answer_once:
                    fake.lose_answer_once = False
                    return self._json(502, {"error": "Bad gateway"})
                return self._json(200, {"uri": uri, "cid": "bafyfake", "validationStatus": "valid"})

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def with_local_social(runbook: Any, fake: SocialServer, secrets_client: Any) -> Any:
    """The runbook with Mastodon and Bluesky pointed at ``fake`` (configured ones included: the
    local mode never posts anywhere real), their credentials stored in the emulator's Secrets
    Manager."""
    from clarion.domain.runbooks.model import BlueskyDelivery, MastodonDelivery

    d = runbook.settings.deliveries
    secrets_client.create_secret(Name="clarion-local/mastodon-token", SecretString=fake.token)
    secrets_client.create_secret(Name="clarion-local/bluesky-app-password", SecretString=fake.app_password)
    mastodon = MastodonDelivery(
        instance_url=fake.url,
        token_secret="clarion-local/mastodon-token",  # noqa: S106 - a secret's name, not a secret
        languages=d.mastodon.languages if d.mastodon else [],
    )
    bluesky = BlueskyDelivery(
        service_url=fake.url,
        handle=fake.handle,
        app_password_secret="clarion-local/bluesky-app-password",  # noqa: S106 - a secret's name
        languages=d.bluesky.languages if d.bluesky else [],
    )
    deliveries = d.model_copy(update={"mastodon": mastodon, "bluesky": bluesky})
    return runbook.model_copy(update={"settings": runbook.settings.model_copy(update={"deliveries": deliveries})})
