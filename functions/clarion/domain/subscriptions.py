"""Self-service subscriptions from the status page's form (works without JavaScript).

* Email: SNS's own confirmation email is the double opt-in.
* SMS: a six-digit code is sent; the subscription is made only when it comes back (hashed at rest,
  ten minutes, five tries).
* Every subscription carries a filter policy: the chosen components (none chosen: all), the
  language, and never drills.
* Answers never say whether an address was already subscribed, and each source address has a
  rate limit. Unsubscribing is in every message: SNS emails carry an unsubscribe link, and an SMS
  reply STOP opts out (SNS keeps the opt-out list).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from clarion.domain.messaging.sms import count_segments
from clarion.domain.runbooks.model import Runbook, localized

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
RATE_LIMIT = 5  # requests per source per window
RATE_WINDOW = timedelta(hours=1)
CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 5


class SubscriptionStore(Protocol):
    def hit(self, source: str, window: str, limit: int, expires: datetime) -> bool:
        """Count a request; False once ``limit`` requests came from ``source`` in ``window``."""
        ...

    def save_code(self, phone: str, record: dict[str, Any], expires: datetime) -> None: ...

    def load_code(self, phone: str) -> dict[str, Any] | None: ...

    def drop_code(self, phone: str) -> None: ...


@dataclass(frozen=True)
class Answer:
    """What the endpoint answers; the web package renders it (the domain holds no HTML)."""

    status: int
    page: str  # the status page's name: the heading
    text: str
    lang: str = "en"
    confirm: str = ""  # the phone number whose code the form asks for
    error: bool = False


def filter_policy(components: list[str], language: str) -> dict[str, list[str]]:
    policy = {"language": [language], "drill": ["false"]}
    if components:
        policy["components"] = sorted(components)
    return policy


@dataclass
class SubscriptionDesk:
    runbook: Runbook
    topic_arn: str
    sns: Any
    store: SubscriptionStore
    send_sms: Callable[[str, str], None] | None  # (phone, text); None where the deployment sends no SMS
    key: Callable[[], bytes]
    clock: Callable[[], datetime]

    def _answer(self, status: int, text: str, lang: str = "en", confirm: str = "", error: bool = False) -> Answer:
        return Answer(status, self.runbook.settings.page.name, text, lang, confirm, error)

    def _limited(self, source: str) -> bool:
        now = self.clock()
        window = now.strftime("%Y%m%d%H")
        return not self.store.hit(source[:64], window, RATE_LIMIT, now + RATE_WINDOW)

    def _hash(self, phone: str, code: str) -> str:
        return hmac.new(self.key(), f"{phone}|{code}".encode(), hashlib.sha256).hexdigest()

    def subscribe(self, form: dict[str, Any], source: str) -> Answer:
        if self._limited(source):
            return self._answer(429, "Too many requests from your address. Please try again later.", error=True)
        settings = self.runbook.settings
        protocol = str(form.get("protocol", ""))
        endpoint = str(form.get("endpoint", "")).strip()
        language = str(form.get("language") or settings.default_language)
        raw = form.get("components", [])
        components = [raw] if isinstance(raw, str) else list(raw)
        known = {c.id for c in self.runbook.components.components}
        if protocol not in ("email", "sms"):
            return self._answer(400, "Choose email or SMS.", error=True)
        if language not in settings.languages:
            return self._answer(400, f"Choose a language: {', '.join(settings.languages)}.", error=True)
        if any(c not in known for c in components) or len(components) > len(known):
            return self._answer(400, "Choose components from the list on the status page.", error=True)
        policy = json.dumps(filter_policy(components, language))
        if protocol == "email":
            if len(endpoint) > 254 or not EMAIL.match(endpoint):
                return self._answer(400, "That is not an email address we can write to.", lang=language, error=True)
            self.sns.subscribe(
                TopicArn=self.topic_arn,
                Protocol="email",
                Endpoint=endpoint,
                Attributes={"FilterPolicy": policy},
                ReturnSubscriptionArn=True,
            )
            return self._answer(
                200,
                "If this address can receive email, a confirmation link is on its way. "
                "Follow it to start receiving updates.",
                lang=language,
            )
        if self.send_sms is None:
            return self._answer(
                400, "Updates by SMS are not offered here; subscribe by email.", lang=language, error=True
            )
        if not E164.match(endpoint):
            return self._answer(
                400, "Write the phone number in international form, e.g. +447700900123.", lang=language, error=True
            )
        code = f"{secrets.randbelow(1_000_000):06d}"
        now = self.clock()
        self.store.save_code(
            endpoint,
            {"hash": self._hash(endpoint, code), "policy": policy, "tries": 0, "expires": (now + CODE_TTL).isoformat()},
            now + CODE_TTL,
        )
        text = f"{settings.page.name}: your code is {code}. It expires in 10 minutes."
        assert count_segments(text).segments <= 2
        self.send_sms(endpoint, text)
        return self._answer(
            200, "If this number can receive SMS, a code is on its way. Enter it here.", lang=language, confirm=endpoint
        )

    def confirm(self, form: dict[str, Any], source: str) -> Answer:
        if self._limited(source):
            return self._answer(429, "Too many requests from your address. Please try again later.", error=True)
        phone = str(form.get("phone", "")).strip()
        code = str(form.get("code", "")).strip()
        record = self.store.load_code(phone) if E164.match(phone) else None
        wrong = self._answer(
            400,
            "That code is not right, or it has expired. Ask for a new one.",
            error=True,
            confirm=phone if record else "",
        )
        if record is None or datetime.fromisoformat(record["expires"]) <= self.clock():
            return wrong
        if not hmac.compare_digest(record["hash"], self._hash(phone, code)):
            record["tries"] += 1
            if record["tries"] >= CODE_TRIES:
                self.store.drop_code(phone)
            else:
                self.store.save_code(phone, record, datetime.fromisoformat(record["expires"]))
            return wrong
        self.store.drop_code(phone)
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sms",
            Endpoint=phone,
            Attributes={"FilterPolicy": record["policy"]},
            ReturnSubscriptionArn=True,
        )
        return self._answer(200, "Subscribed. Reply STOP to any message to stop.")


def subscribe_form_components(runbook: Runbook, language: str) -> list[tuple[str, str]]:
    default = runbook.settings.default_language
    return [(c.id, localized(c.name, language, default)) for c in runbook.components.components]
