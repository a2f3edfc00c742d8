"""The Powertools observability objects, made once and imported everywhere.

Tracer is left out on purpose: importing it loads the X-Ray SDK (about 450 ms measured here), more
than the intake's whole cold-start budget. The functions run with Lambda's active tracing, which
records each invocation without the SDK.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE = "clarion"
NAMESPACE = "Clarion"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
