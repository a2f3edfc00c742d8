"""Signed per-update feedback tokens.

The status page's form and the links in customer emails carry the incident, the update (the draft
that published it), its phase, the language, an expiry, optionally a reader tag (a recipient, where a
message went to one person), and an HMAC-SHA256 over all of them with the key approval links use,
under its own label so one can never stand in for the other. Nothing else makes a vote count: a
forged or altered token is refused before anything is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict

from clarion.domain.approvals.links import LinkProblem
from clarion.domain.enums import Phase

TOKEN_TTL = timedelta(days=60)  # long enough for a reader who opens an old email
FIELDS = ("i", "u", "p", "l", "r", "e")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")
_LANG = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
_READER = re.compile(r"^[a-f0-9]{0,32}$")


class FeedbackToken(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    update_id: str
    phase: Phase
    language: str
    reader: str = ""  # a recipient's tag where the message went to one person; "" on shared texts
    expires_at: datetime


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "|".join(("feedback", *parts)).encode(), hashlib.sha256).hexdigest()


def reader_tag(key: bytes, recipient: str) -> str:
    """A recipient's tag: stable, and says nothing about the address."""
    return _mac(key, "recipient", recipient.strip().lower())[:24]


def sign(key: bytes, token: FeedbackToken) -> dict[str, str]:
    fields = {
        "i": token.incident_id,
        "u": token.update_id,
        "p": token.phase.value,
        "l": token.language,
        "r": token.reader,
        "e": str(int(token.expires_at.timestamp())),
    }
    return {**fields, "s": _mac(key, *(fields[f] for f in FIELDS))}


def issue(
    key: bytes,
    incident_id: str,
    update_id: str,
    phase: Phase,
    language: str,
    published_at: datetime,
    reader: str = "",
) -> dict[str, str]:
    """The signed fields for one update, valid for ``TOKEN_TTL`` after it was published."""
    token = FeedbackToken(
        incident_id=incident_id,
        update_id=update_id,
        phase=phase,
        language=language,
        reader=reader,
        expires_at=published_at + TOKEN_TTL,
    )
    return sign(key, token)


def link(base_url: str, fields: dict[str, str], vote: str) -> str:
    """A link for emails: GET shows a page that asks to confirm with a POST; it never counts."""
    return f"{base_url.rstrip('/')}/feedback?{urlencode({**fields, 'v': vote})}"


def verify(key: bytes, params: dict[str, str], now: datetime) -> FeedbackToken | LinkProblem:
    """The token the fields carry, or what is wrong with them."""
    i, u, p, lang, r, e, s = (params.get(f, "") for f in (*FIELDS, "s"))
    if not (
        _ID.match(i)
        and _ID.match(u)
        and p in {ph.value for ph in Phase}
        and _LANG.match(lang)
        and _READER.match(r)
        and e.isdigit()
        and len(e) < 12
        and len(s) == 64
    ):
        return LinkProblem.MALFORMED
    if not hmac.compare_digest(_mac(key, i, u, p, lang, r, e), s):
        return LinkProblem.FORGED
    expires = datetime.fromtimestamp(int(e), tz=UTC)
    if expires <= now:
        return LinkProblem.EXPIRED
    return FeedbackToken(incident_id=i, update_id=u, phase=Phase(p), language=lang, reader=r, expires_at=expires)


def reader_id(key: bytes, token: FeedbackToken, source: str, user_agent: str) -> str:
    """Who answered, as far as one update is concerned: the recipient's tag where the message went to
    one person, otherwise a keyed hash of the source address and browser (never stored in clear)."""
    basis = f"tag:{token.reader}" if token.reader else f"src:{source}|{user_agent[:200]}"
    return _mac(key, "reader", token.incident_id, token.update_id, basis)[:32]
