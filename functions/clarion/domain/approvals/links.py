"""Approval links and decisions (docs/design.md, decision 2).

A link carries an opaque approval id, the approver it was sent to, an expiry and an HMAC-SHA256
signature over all three; never the task token, which stays in the store. GET and HEAD only ever
show a confirmation page; a decision needs a POST carrying a CSRF value that is itself an HMAC
bound to the approval and the approver, which only that page contains. Comparison is constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field


class LinkProblem(StrEnum):
    FORGED = "forged"  # signature does not match: 403
    EXPIRED = "expired"  # past its expiry: 410
    MALFORMED = "malformed"  # parameters missing or unreadable: 400


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # escalated to others, or the workflow moved on (timeout)
    TIMED_OUT = "timed_out"


class Approver(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    email: str


class ApprovalRequest(BaseModel):
    """What the store keeps about one request. ``task_token`` never leaves the store and the
    workflow step that created it."""

    model_config = ConfigDict(frozen=True)

    id: str
    incident_id: str
    draft_id: str
    task_token: str = Field(repr=False)
    approvers: list[Approver]
    level: int = 0  # 0: approvers, 1: escalation
    created_at: datetime
    expires_at: datetime
    status: ApprovalStatus = ApprovalStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str = ""


def new_approval_id() -> str:
    return secrets.token_urlsafe(18)


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()


def sign_link(key: bytes, approval_id: str, approver: int, expires_at: datetime) -> dict[str, str]:
    exp = str(int(expires_at.timestamp()))
    return {"a": str(approver), "e": exp, "s": _mac(key, "link", approval_id, str(approver), exp)}


def link_url(base_url: str, key: bytes, approval_id: str, approver: int, expires_at: datetime) -> str:
    query = urlencode(sign_link(key, approval_id, approver, expires_at))
    return f"{base_url.rstrip('/')}/approvals/{approval_id}?{query}"


def verify_link(
    key: bytes, approval_id: str, params: dict[str, str], now: datetime
) -> tuple[int, None] | tuple[None, LinkProblem]:
    """The approver index the link was issued to, or what is wrong with it."""
    a, e, s = params.get("a", ""), params.get("e", ""), params.get("s", "")
    if not (a.isdigit() and e.isdigit() and len(a) < 4 and len(e) < 12 and len(s) == 64 and len(approval_id) < 64):
        return None, LinkProblem.MALFORMED
    if not hmac.compare_digest(_mac(key, "link", approval_id, a, e), s):
        return None, LinkProblem.FORGED
    if datetime.fromtimestamp(int(e), tz=UTC) <= now:
        return None, LinkProblem.EXPIRED
    return int(a), None


def csrf_token(key: bytes, approval_id: str, approver: int) -> str:
    return _mac(key, "csrf", approval_id, str(approver))


def verify_csrf(key: bytes, approval_id: str, approver: int, token: str) -> bool:
    return hmac.compare_digest(csrf_token(key, approval_id, approver), token or "")


Decision = Literal["approve", "reject"]
