"""How long one execution may monitor before it continues as new.

Step Functions keeps at most 25,000 events in an execution's history; past that the execution fails.
A regular-update cycle of the incident state machine (Check, the cadence Wait, Recheck, Draft, the
Publish Map and the choices between them) writes a fixed number of events plus a fixed number per
route the Map publishes to. Both were measured on the ASL (``tests/integration/test_history_budget.py``
measures them again on every run), so the number of cycles per execution follows from the number of
routes instead of being a guess."""

from __future__ import annotations

HISTORY_LIMIT = 25_000
# Measured: four Lambda tasks (5 events each), the Wait, two Pass and four Choice states (2 each), the Map (4).
EVENTS_PER_CYCLE = 38
EVENTS_PER_ROUTE = 7  # measured: a Map iteration (started, succeeded) around one Lambda task (5 events)
# What the execution writes besides its cycles: the opening (first draft, an approval wait and its
# escalation, retries of failed tasks) and the close (resolution draft, post-mortem), with room to spare.
RESERVE = 2_000


def events_per_cycle(routes: int) -> int:
    return EVENTS_PER_CYCLE + EVENTS_PER_ROUTE * max(routes, 0)


def cycles_per_execution(routes: int, limit: int = HISTORY_LIMIT, reserve: int = RESERVE) -> int:
    """Regular-update cycles one execution may run with ``routes`` routes and stay under ``limit``."""
    return max(1, (limit - reserve) // events_per_cycle(routes))
