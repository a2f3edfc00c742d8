"""A reader's answer and the counts made from answers. Comments are kept for the team only: no public
artifact ever shows them, and every surface that does (the desk, the CLI, reports) escapes them."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from clarion.domain.enums import Phase

Vote = Literal["yes", "no"]
Via = Literal["page", "email"]
COMMENT_MAX = 500  # characters


class Feedback(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    update_id: str
    phase: Phase
    language: str
    reader: str  # a keyed hash (see ``tokens.reader_id``), never an address
    vote: Vote
    comment: str = ""
    via: Via = "page"
    at: datetime


def clean_comment(text: str) -> str:
    """Line breaks kept, other control and format characters dropped, outer space trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return kept.strip()


class Tally(BaseModel):
    yes: int = 0
    no: int = 0
    comments: int = 0

    @property
    def responses(self) -> int:
        return self.yes + self.no

    def add(self, fb: Feedback) -> None:
        if fb.vote == "yes":
            self.yes += 1
        else:
            self.no += 1
        if fb.comment:
            self.comments += 1

    def to_json(self) -> dict[str, Any]:
        share = round(100 * self.yes / self.responses) if self.responses else None
        return {
            "responses": self.responses,
            "yes": self.yes,
            "no": self.no,
            "comments": self.comments,
            "helpful_percent": share,
        }


def counts(items: Iterable[Feedback]) -> dict[str, Any]:
    """One incident's counts, in all and per update (``incident show --json``'s ``feedback``)."""
    total = Tally()
    updates: dict[str, Tally] = {}
    phases: dict[str, str] = {}
    for fb in items:
        total.add(fb)
        updates.setdefault(fb.update_id, Tally()).add(fb)
        phases[fb.update_id] = fb.phase.value
    return {
        **total.to_json(),
        "updates": {u: {"phase": phases[u], **t.to_json()} for u, t in sorted(updates.items())},
    }


def by_phase(items: Iterable[Feedback]) -> dict[str, Tally]:
    """Counts per phase across incidents: which templates help readers, which do not."""
    out: dict[str, Tally] = {}
    for fb in items:
        out.setdefault(fb.phase.value, Tally()).add(fb)
    return dict(sorted(out.items()))
