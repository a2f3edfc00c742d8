"""What the feedback endpoint does with a request.

* GET and HEAD (a link in an email, or a scanner following it) only check the token and show a page
  asking the reader to confirm with a POST: they never count, whoever sends them.
* A POST counts once per reader and update: a conditional write keyed on the update and the reader.
  A replay (the same reader again) is refused with 409 and the first answer stands.
* Every source address has a rate limit, checked before anything else, so a flood of forged or
  replayed requests costs one counter update each and nothing more.
* A comment is optional, at most ``COMMENT_MAX`` characters (longer ones are refused, never cut, and
  the page keeps the text so the reader can shorten it), stored for the team, never published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from clarion.domain.approvals.links import LinkProblem
from clarion.domain.feedback.model import COMMENT_MAX, Feedback, clean_comment
from clarion.domain.feedback.tokens import FeedbackToken, reader_id, verify
from clarion.ports import FeedbackStore

RATE_LIMIT = 20  # requests per source address per window
RATE_WINDOW = timedelta(hours=1)
MAX_FORM = 8_000  # bytes of a form: a comment of COMMENT_MAX characters fits several times over


class Outcome(StrEnum):
    ASK = "ask"  # GET/HEAD: a page asking to confirm; nothing counted
    COUNTED = "counted"
    ALREADY = "already"
    FORGED = "forged"
    EXPIRED = "expired"
    MALFORMED = "malformed"
    LIMITED = "limited"
    TOO_LONG = "too_long"
    NO_VOTE = "no_vote"


STATUS = {
    Outcome.ASK: 200,
    Outcome.COUNTED: 200,
    Outcome.ALREADY: 409,
    Outcome.FORGED: 403,
    Outcome.EXPIRED: 410,
    Outcome.MALFORMED: 400,
    Outcome.LIMITED: 429,
    Outcome.TOO_LONG: 413,
    Outcome.NO_VOTE: 400,
}
_PROBLEM = {
    LinkProblem.FORGED: Outcome.FORGED,
    LinkProblem.EXPIRED: Outcome.EXPIRED,
    LinkProblem.MALFORMED: Outcome.MALFORMED,
}


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    token: FeedbackToken | None = None
    fields: dict[str, str] = field(default_factory=dict)  # the signed fields, to show the form again
    vote: str = ""
    comment: str = ""
    via: str = "page"

    @property
    def status(self) -> int:
        return STATUS[self.outcome]


@dataclass
class FeedbackCollector:
    store: FeedbackStore
    key: Callable[[], bytes]
    clock: Callable[[], datetime]

    def _signed(self, params: dict[str, str]) -> dict[str, str]:
        return {k: params[k] for k in ("i", "u", "p", "l", "r", "e", "s") if k in params}

    def view(self, params: dict[str, str]) -> Result:
        """GET or HEAD: check the token, offer the form. Writes nothing, counts nothing."""
        found = verify(self.key(), params, self.clock())
        if isinstance(found, LinkProblem):
            return Result(_PROBLEM[found])
        vote = params.get("v", "")
        return Result(
            Outcome.ASK,
            found,
            self._signed(params),
            vote=vote if vote in ("yes", "no") else "",
            via="email",
        )

    def submit(self, form: dict[str, str], source: str, user_agent: str = "") -> Result:
        now = self.clock()
        if not self.store.hit(f"feedback:{source[:64]}", now.strftime("%Y%m%d%H"), RATE_LIMIT, now + RATE_WINDOW):
            return Result(Outcome.LIMITED)
        key = self.key()
        found = verify(key, form, now)
        if isinstance(found, LinkProblem):
            return Result(_PROBLEM[found])
        fields = self._signed(form)
        vote = form.get("vote", "")
        via = "email" if form.get("via") == "email" else "page"
        comment = clean_comment(form.get("comment", ""))
        if vote not in ("yes", "no"):
            return Result(Outcome.NO_VOTE, found, fields, comment=comment, via=via)
        if len(comment) > COMMENT_MAX:
            return Result(Outcome.TOO_LONG, found, fields, vote=vote, comment=comment, via=via)
        answer = Feedback(
            incident_id=found.incident_id,
            update_id=found.update_id,
            phase=found.phase,
            language=found.language,
            reader=reader_id(key, found, source, user_agent),
            vote=vote,
            comment=comment,
            via=via,
            at=now,
        )
        if not self.store.record(answer):
            return Result(Outcome.ALREADY, found, fields, vote=vote, via=via)
        return Result(Outcome.COUNTED, found, fields, vote=vote, comment=comment, via=via)
