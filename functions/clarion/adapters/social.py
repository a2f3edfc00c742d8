"""Mastodon and Bluesky, posting the customer social text: ``social:mastodon:<lang>`` and
``social:bluesky:<lang>``.

Two plain HTTPS calls each, with the standard library's ``urllib`` (already loaded for the
webhooks): Mastodon.py and the atproto SDK would add their import time (measured in
``bench/social_imports.py``) to every cold start of the function that sends every channel.

* Mastodon: ``POST {instance}/api/v1/statuses`` with ``Authorization: Bearer <token>`` and an
  ``Idempotency-Key`` derived from (incident, draft, route), so a retry after a lost response does
  not post twice (Mastodon keeps the key for an hour).
* Bluesky: ``com.atproto.server.createSession`` (handle + app password) then
  ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` with a record key derived from
  (incident, draft, route); before creating, ``com.atproto.repo.getRecord`` asks whether that key
  exists, so a retry returns the first post instead of a second one. Links get ``facets`` (Bluesky
  does not link URLs in the text by itself).

429 and 5xx are transient (the workflow retries with backoff); other 4xx are permanent. Texts over
the network's limit are refused before any call: the lint and the approval page should have caught
them, and a post cut short would mislead.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from clarion.domain.enums import Audience, Channel
from clarion.domain.errors import ChannelError
from clarion.domain.incident import Incident
from clarion.domain.messaging.drafts import Draft
from clarion.domain.messaging.social import LIMITS, URL, graphemes
from clarion.domain.runbooks.model import BlueskyDelivery, MastodonDelivery

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # AT Protocol's base32-sortable


def post_key(incident: Incident, draft: Draft, route: str) -> str:
    return hashlib.sha256(f"{incident.id}|{draft.id}|{route}".encode()).hexdigest()


def record_key(key: str) -> str:
    """A valid TID (13 base32-sortable characters, first bit zero) derived from the post key."""
    value = int(key[:16], 16) & ((1 << 63) - 1)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


class HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


def _call(
    method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str], timeout: float
) -> dict[str, Any]:
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    all_headers = {"Accept": "application/json", "User-Agent": "Clarion", **headers}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310 - configured
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            answer: dict[str, Any] = json.loads(resp.read() or b"{}")
            return answer
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read() or b"{}")
        except ValueError:
            detail = {}
        raise HttpError(exc.code, detail if isinstance(detail, dict) else {}) from exc


def _failure(what: str, exc: Exception) -> ChannelError:
    if isinstance(exc, HttpError):
        said = exc.body.get("message") or exc.body.get("error") or ""
        return ChannelError(
            f"{what}: HTTP {exc.status}" + (f" ({said})" if said else ""),
            transient=exc.status == 429 or exc.status >= 500,
        )
    return ChannelError(f"{what}: {type(exc).__name__}: {exc}", transient=True)  # connection, timeout


def _text(draft: Draft, route: str, network: str) -> tuple[str, str]:
    lang = route.split(":")[2]
    msg = draft.message(Audience.CUSTOMERS, Channel.SOCIAL, lang)
    if msg is None:
        raise ChannelError(f"{route}: the draft has no customer social text in {lang}", transient=False)
    length = graphemes(msg.body)
    if length > LIMITS[network]:
        raise ChannelError(
            f"{route}: the post has {length} characters, over {network}'s limit of {LIMITS[network]}", transient=False
        )
    return msg.body, lang


class Mastodon:
    def __init__(self, config: MastodonDelivery, secret: Callable[[str], str], timeout: float = 10) -> None:
        self.config = config
        self.secret = secret
        self.timeout = timeout

    def post(self, route: str, draft: Draft, incident: Incident) -> str:
        text, lang = _text(draft, route, "mastodon")
        url = self.config.instance_url.rstrip("/") + "/api/v1/statuses"
        headers = {
            "Authorization": f"Bearer {self.secret(self.config.token_secret)}",
            "Idempotency-Key": post_key(incident, draft, route),
        }
        body = {"status": text, "visibility": self.config.visibility, "language": lang[:2]}
        try:
            status = _call("POST", url, body, headers, self.timeout)
        except (HttpError, urllib.error.URLError, TimeoutError, OSError) as exc:
            raise _failure("Mastodon", exc) from exc
        return str(status.get("url") or status.get("id") or "posted")


class Bluesky:
    def __init__(
        self,
        config: BlueskyDelivery,
        secret: Callable[[str], str],
        clock: Callable[[], datetime],
        timeout: float = 10,
    ) -> None:
        self.config = config
        self.secret = secret
        self.clock = clock
        self.timeout = timeout

    def _xrpc(self, method: str, nsid: str, body: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        url = f"{self.config.service_url.rstrip('/')}/xrpc/{nsid}"
        query = kw.pop("query", None)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return _call(method, url, body, kw.pop("headers", {}), self.timeout)

    def post(self, route: str, draft: Draft, incident: Incident) -> str:
        text, lang = _text(draft, route, "bluesky")
        rkey = record_key(post_key(incident, draft, route))
        try:
            session = self._xrpc(
                "POST",
                "com.atproto.server.createSession",
                {"identifier": self.config.handle, "password": self.secret(self.config.app_password_secret)},
            )
            auth = {"Authorization": f"Bearer {session['accessJwt']}"}
            did = session["did"]
            where = {"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey}
            try:
                existing = self._xrpc("GET", "com.atproto.repo.getRecord", query=where, headers=auth)
                return str(existing["uri"])  # posted by an earlier attempt whose answer was lost
            except HttpError as exc:
                if exc.status != 400 or exc.body.get("error") != "RecordNotFound":
                    raise
            record: dict[str, Any] = {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": self.clock().isoformat().replace("+00:00", "Z"),
                "langs": [lang],
            }
            facets = link_facets(text)
            if facets:
                record["facets"] = facets
            created = self._xrpc("POST", "com.atproto.repo.createRecord", {**where, "record": record}, headers=auth)
        except (HttpError, urllib.error.URLError, TimeoutError, OSError, KeyError) as exc:
            if isinstance(exc, KeyError):
                raise ChannelError(f"Bluesky: unexpected answer, no {exc}", transient=False) from exc
            raise _failure("Bluesky", exc) from exc
        return str(created["uri"])


def link_facets(text: str) -> list[dict[str, Any]]:
    """Rich-text facets for the links in a post: byte offsets in UTF-8, as the lexicon defines them."""
    facets = []
    for match in URL.finditer(text):
        start = len(text[: match.start()].encode())
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": start + len(match.group().encode())},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group()}],
            }
        )
    return facets


class SocialDelivery:
    """The ``social`` route prefix: ``social:<network>:<language>``."""

    def __init__(self, mastodon: Mastodon | None, bluesky: Bluesky | None) -> None:
        self.networks: dict[str, Mastodon | Bluesky] = {
            name: poster for name, poster in (("mastodon", mastodon), ("bluesky", bluesky)) if poster
        }

    def deliver(self, route: str, draft: Draft, incident: Incident) -> str:
        parts = route.split(":")
        if len(parts) != 3 or parts[1] not in self.networks:
            raise ChannelError(f"{route}: no social network {parts[1:2]} is configured", transient=False)
        return self.networks[parts[1]].post(route, draft, incident)
