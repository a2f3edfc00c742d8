"""Later supersedes earlier: once a newer draft of an incident has gone out (say the resolution),
an older draft still waiting (say the first "investigating" notice, pending approval) must never
reach anyone. Its approval links answer 410 and its routes are skipped, so no customer receives an
earlier phase after a later one."""

from __future__ import annotations

from clarion.domain.messaging.drafts import Draft
from clarion.ports import IncidentStore, WorkflowStore


def superseded_by(store: IncidentStore, wstore: WorkflowStore, draft: Draft) -> Draft | None:
    """The newer draft of the same incident already sent on some route, if there is one."""
    seen: set[str] = set()
    for entry in store.timeline(draft.incident_id):
        if entry.kind != "message_sent":
            continue
        other = str(entry.data.get("draft_id") or "")
        if not other or other == draft.id or other in seen:
            continue
        seen.add(other)
        later = wstore.get_draft(draft.incident_id, other)
        if later is not None and later.created_at > draft.created_at:
            return later
    return None
