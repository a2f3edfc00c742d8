"""The deployment's settings: one frozen object, read from cdk.json's ``clarion`` context (or
``-c clarion=...`` / a test's context) and validated before anything is built."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ClarionConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    env_name: str = Field(default="prod", pattern=r"^[a-z][a-z0-9-]{0,15}$")
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    status_page_region: str = Field(default="us-west-2", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    runbook_path: str = "runbooks"
    ops_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    log_retention_days: int = Field(default=90, ge=1)
    lambda_memory_mb: int = Field(default=512, ge=128, le=10240)
    sender_email: str = Field(
        default="status@example.com",
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="SES identity that sends approval requests and copies (verify it)",
    )

    @property
    def prefix(self) -> str:
        return f"Clarion-{self.env_name}"

    @property
    def state_machine_name(self) -> str:
        return f"{self.prefix}-incident"

    @classmethod
    def from_context(cls, raw: Any) -> ClarionConfig:
        if raw is None:
            raw = {}
        if isinstance(raw, str):  # -c clarion='{"env_name": "dev"}'
            import json

            raw = json.loads(raw)
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"cdk.json context 'clarion' is invalid: {problems}") from None
