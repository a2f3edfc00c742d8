"""One place for what keeps the web pages safe: response headers, signed values, the desk's session
cookie and CSRF values.

Every signature is HMAC-SHA256 with the key of the approval links (Secrets Manager), separated by a
purpose label so a value signed for one use (a sign-in link, a session, a CSRF value) never passes for
another. Comparisons are constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

SESSION_COOKIE = "clarion_desk"
PRE_SESSION_COOKIE = "clarion_pre"  # binds the sign-in form's CSRF value before a session exists
SESSION_LIFETIME = timedelta(hours=8)
SIGN_IN_LIFETIME = timedelta(minutes=15)


def headers(script_hashes: tuple[str, ...] = ()) -> dict[str, str]:
    """Headers of every page people use: never cached (pages hold signed links and CSRF values), never
    framed, no referrer (a signed link must not leak to another site), nothing loaded from elsewhere.
    Scripts run only when their hash is listed (the pages work without them)."""
    scripts = " ".join(f"'sha256-{h}'" for h in script_hashes)
    return {
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'" + (f"; script-src {scripts}" if scripts else "")
        ),
    }


def script_hash(source: str) -> str:
    return base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


def mac(key: bytes, purpose: str, *parts: str) -> str:
    return hmac.new(key, "|".join((purpose, *parts)).encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


# --- sign-in links ----------------------------------------------------------------------------------


def sign_in_params(key: bytes, email: str, now: datetime, nonce: str | None = None) -> dict[str, str]:
    """The query of an emailed sign-in link: who, until when, a single-use nonce, the signature."""
    exp = str(int((now + SIGN_IN_LIFETIME).timestamp()))
    n = nonce or secrets.token_urlsafe(18)
    u = _b64(email.lower())
    return {"u": u, "e": exp, "n": n, "s": mac(key, "signin", u, exp, n)}


@dataclass(frozen=True)
class SignIn:
    email: str
    nonce: str
    expires_at: datetime


def verify_sign_in(key: bytes, params: dict[str, str], now: datetime) -> tuple[SignIn | None, str]:
    """The sign-in a link carries, or why it is refused: ``malformed``, ``forged`` or ``expired``."""
    u, e, n, s = (params.get(k, "") for k in ("u", "e", "n", "s"))
    if not (u and n and e.isdigit() and len(e) < 12 and len(s) == 64 and len(u) < 400 and len(n) < 64):
        return None, "malformed"
    if not same(mac(key, "signin", u, e, n), s):
        return None, "forged"
    expires = datetime.fromtimestamp(int(e), tz=UTC)
    if expires <= now:
        return None, "expired"
    email = _unb64(u)
    if email is None:
        return None, "malformed"
    return SignIn(email, n, expires), ""


# --- sessions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    email: str
    sid: str  # random per sign-in: CSRF values are bound to it
    expires_at: datetime


def session_value(key: bytes, email: str, now: datetime, sid: str | None = None) -> str:
    sid = sid or secrets.token_urlsafe(16)
    exp = str(int((now + SESSION_LIFETIME).timestamp()))
    body = f"{_b64(email.lower())}.{sid}.{exp}"
    return f"{body}.{mac(key, 'session', body)}"


def read_session(key: bytes, value: str, now: datetime) -> Session | None:
    """The session a cookie value proves, or None (tampered, expired, unreadable)."""
    parts = value.split(".")
    if len(parts) != 4 or len(value) > 600:
        return None
    body, signature = ".".join(parts[:3]), parts[3]
    if not same(mac(key, "session", body), signature):
        return None
    u, sid, exp = parts[:3]
    if not exp.isdigit() or datetime.fromtimestamp(int(exp), tz=UTC) <= now:
        return None
    email = _unb64(u)
    return Session(email, sid, datetime.fromtimestamp(int(exp), tz=UTC)) if email else None


def csrf_for(key: bytes, binding: str) -> str:
    """The CSRF value of forms shown to one session (or one pre-session cookie)."""
    return mac(key, "csrf", binding)


def cookie(name: str, value: str, *, secure: bool, max_age: int, path: str = "/desk") -> Cookie:
    """A cookie for the desk: HttpOnly, SameSite=Strict, Secure when served over HTTPS."""
    return Cookie(
        name=name,
        value=value,
        path=path,
        secure=secure,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.STRICT_MODE,
    )


def cookies_of(values: list[str]) -> dict[str, str]:
    """Cookies of a request (a function URL event lists them as ``name=value`` strings)."""
    jar: dict[str, str] = {}
    for raw in values:
        for part in raw.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name and name not in jar:
                jar[name] = value
    return jar
