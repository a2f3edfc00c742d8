"""Which AWS errors are worth another try, and how hard each client retries on its own.

Three layers, from the inside out:

1. botocore retries every call (``retry_config``): adaptive mode for the clients that fan out
   (S3 page writes, SNS, SES), standard mode for the rest, with a budget that fits the step.
2. A transient error that outlasts them is raised as :class:`TransientError` (``transient``),
   the name the state machine's ``Retry`` blocks list, so Step Functions retries the step.
3. Anything else is caught by the state's ``Catch``, told to the internal channel and the
   dead-letter queue, and the workflow continues where that is safe.
"""

from __future__ import annotations

from typing import Any, Literal

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from clarion.domain.errors import ChannelError, ClarionError, TransientError

THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = THROTTLING | {
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
    "KMSInternalException",
}
CONNECTION_ERRORS = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectTimeoutError)

# Per client: (mode, total attempts). Page writes and fan-out sends use adaptive mode, which also
# slows the client down when AWS throttles it; a step's Lambda timeout bounds the rest.
Mode = Literal["standard", "adaptive"]
RETRY_BUDGETS: dict[str, tuple[Mode, int]] = {
    "s3": ("adaptive", 6),
    "sns": ("adaptive", 5),
    "sesv2": ("adaptive", 5),
    "dynamodb": ("standard", 6),
    "stepfunctions": ("standard", 5),
    "sqs": ("standard", 5),
}
DEFAULT_BUDGET: tuple[Mode, int] = ("standard", 4)


def retry_config(service: str) -> Config:
    mode, attempts = RETRY_BUDGETS.get(service, DEFAULT_BUDGET)
    return Config(
        retries={"mode": mode, "max_attempts": attempts},
        connect_timeout=5,
        read_timeout=20,
    )


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    """A throttle, a 5xx or a dropped connection: the same call may well succeed a moment later.

    Also when wrapped by a library that re-raises every error as its own (Powertools parameters
    raise ``GetParameterError`` for a throttled ``GetSecretValue``), and a channel's own verdict
    (``ChannelError(transient=True)``). Clarion's other errors are final: they already are the
    verdict on whatever caused them (``ChannelFailed`` after a channel's retries, for one)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TransientError):
            return True
        if isinstance(current, ChannelError):
            return current.transient
        if isinstance(current, ClarionError):
            return False
        if isinstance(current, ClientError):
            status = int(current.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            return error_code(current) in TRANSIENT_CODES or status >= 500 or status == 429
        if isinstance(current, CONNECTION_ERRORS):
            return True
        current = current.__cause__ or current.__context__
    return False


def describe(exc: BaseException) -> str:
    """One line naming the error, without request ids or the raw response."""
    if isinstance(exc, ClientError):
        op = getattr(exc, "operation_name", "") or "call"
        msg = str(exc.response.get("Error", {}).get("Message", ""))[:300]
        return f"{op}: {error_code(exc)}" + (f" ({msg})" if msg else "")
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {exc}"[:400]
    return f"{type(exc).__name__}: {exc}"[:400]


def transient(exc: BaseException) -> TransientError:
    """The error to raise from a step so the state machine's Retry takes it."""
    return TransientError(describe(exc))


def with_retries(service: str, **kwargs: Any) -> dict[str, Any]:
    """``boto3.client(service, **with_retries(service, region_name=...))``."""
    return {**kwargs, "config": retry_config(service)}
