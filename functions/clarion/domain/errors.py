"""Domain errors, defined once and mapped to responses, log lines and metrics at the edge.

ClarionError
├── EventError            an input event we will not act on
│   ├── MalformedEvent    cannot be read: counted, logged with its identifiers, not retried
│   └── IgnoredEvent      readable but not ours (another detail-type): logged, not counted as error
├── RunbookError          a runbook set that does not validate
├── ConcurrentUpdate      a conditional write lost a race; the caller reloads and retries
├── TransientError        AWS throttled, answered 5xx or dropped the connection beyond the client's
│                         own retries: the state machine retries the step (its Retry names it)
├── ChannelError          a delivery failed; ``transient`` says whether another try may succeed
└── NotFound              an incident, approval or resource that does not exist
"""

from __future__ import annotations


class ClarionError(Exception):
    """Base of every error Clarion raises on purpose."""


class EventError(ClarionError):
    def __init__(self, message: str, ident: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.ident = ident or {}


class MalformedEvent(EventError):
    pass


class IgnoredEvent(EventError):
    pass


class ConcurrentUpdate(ClarionError):
    pass


class TransientError(ClarionError):
    """The name Step Functions' ``Retry`` blocks list: raise it for errors worth another try."""


class ChannelError(ClarionError):
    """A delivery failed. ``transient`` failures (throttling, 5xx) are retried with backoff."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class NotFound(ClarionError):
    pass


class RunbookError(ClarionError):
    """Carries every problem found, each already placed at file:line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
