"""The audience ledger: who was told about an incident, by which approved draft (docs/design.md, decision 10).

One rule, kept here and nowhere else:

* An **opening** (``investigating``, ``maintenance_scheduled``) goes to every route the severity
  policy names.
* A **follow-up** of an open incident (``update``, ``identified``, ``monitoring``) goes to the routes
  already told. A route the policy names that was never told (a severity raise adds it, or the opening
  was rejected or held) first gets a message that stands on its own as an opening, never a bare
  follow-up.
* A **closing** (``resolved``, ``postmortem``, ``checkin``, maintenance ``in progress``,
  ``completed``, ``cancelled``) goes only to routes that were told. When no route was told, it stays on the internal
  channel.

A route counts as told once a message of an approved (or policy pre-approved) draft was delivered on
it; the workflow records that in the same write as the ``message_sent`` timeline entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from clarion.domain.enums import Audience, Channel, IncidentStatus, Phase

OPENINGS = frozenset({Phase.INVESTIGATING, Phase.MAINTENANCE_SCHEDULED})
FOLLOW_UPS = frozenset({Phase.UPDATE, Phase.IDENTIFIED, Phase.MONITORING})
CLOSINGS = frozenset(set(Phase) - OPENINGS - FOLLOW_UPS)

#: Phases whose messages go out without asking, by default: they follow what approvers already saw
#: (and reach only where that went), or a person announced them by scheduling the window. The
#: post-incident report (``postmortem``) and the check-in are new texts: asked for unless a severity's
#: ``pre_approved`` names them.
DEFAULT_PRE_APPROVED = (
    Phase.RESOLVED,
    Phase.MAINTENANCE_SCHEDULED,
    Phase.MAINTENANCE_IN_PROGRESS,
    Phase.MAINTENANCE_COMPLETED,
    Phase.MAINTENANCE_CANCELLED,
)


class Told(BaseModel):
    """One route told about an incident by one draft."""

    model_config = ConfigDict(frozen=True)

    route: str
    draft_id: str
    phase: Phase
    at: datetime
    approved_by: str  # an approver's address, "policy:timeout" (holding statement) or "policy" (pre-approved)
    messages: list[str] = Field(default_factory=list)  # audience/channel/language keys sent on the route

    @property
    def pairs(self) -> set[tuple[Audience, Channel]]:
        out = set()
        for key in self.messages:
            audience, channel, _lang = key.removeprefix("opening/").split("/", 2)
            out.add((Audience(audience), Channel(channel)))
        return out


@dataclass(frozen=True)
class AudienceLedger:
    entries: tuple[Told, ...] = ()

    @property
    def routes(self) -> set[str]:
        return {t.route for t in self.entries}

    @property
    def pairs(self) -> set[tuple[Audience, Channel]]:
        """Audience and template channel of everything told so far."""
        out: set[tuple[Audience, Channel]] = set()
        for t in self.entries:
            out |= t.pairs
        return out

    def told(self, route: str) -> bool:
        return any(t.route == route for t in self.entries)


@dataclass(frozen=True)
class RoutePlan:
    """Where one draft goes: ``routes`` get the phase's own text, ``openings`` (routes never told)
    get an opening first, ``left_out`` get nothing (never told, and the phase is no opening)."""

    routes: list[str]
    openings: list[str]
    left_out: list[str]


def plan(phase: Phase, policy_routes: list[str], ledger: AudienceLedger) -> RoutePlan:
    told = ledger.routes
    if phase in OPENINGS:
        return RoutePlan(routes=list(policy_routes), openings=[], left_out=[])
    # Those told keep hearing, even if the severity has since dropped the route from the policy.
    kept = [r for r in policy_routes if r in told] + sorted(told - set(policy_routes))
    new = [r for r in policy_routes if r not in told]
    if phase in FOLLOW_UPS:
        return RoutePlan(routes=kept, openings=new, left_out=[])
    return RoutePlan(routes=kept, openings=[], left_out=new)


def opening_phase(phase: Phase, status: IncidentStatus) -> Phase:
    """The template a route never told gets instead of ``phase``: the opening of the incident's
    current state, which says what, since when, the workaround and the next update."""
    if phase in OPENINGS:
        return phase
    return {
        IncidentStatus.IDENTIFIED: Phase.IDENTIFIED,
        IncidentStatus.MONITORING: Phase.MONITORING,
    }.get(status, Phase.INVESTIGATING)


def needs_approval(phase: Phase, required: bool, pre_approved: list[Phase], has_openings: bool) -> bool:
    """Approval per the severity policy. An opening to a route never told is always asked for when the
    policy asks at all: pre-approval only covers routes an approved opening already reached."""
    if not required:
        return False
    return has_openings or phase not in pre_approved or phase is Phase.INVESTIGATING
