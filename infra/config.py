"""The deployment's settings: one frozen object, read from cdk.json's ``clarion`` context (or
``-c clarion=...`` / a test's context) and validated before anything is built."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


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
    function_url_concurrency: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="reserved concurrency of each public function URL (approvals, subscriptions): a flood of "
        "requests is throttled there instead of taking the account's concurrency from the pipeline; 0 "
        "reserves none (an account whose concurrency quota is 10 cannot reserve any)",
    )
    page_replica_region: str | None = Field(
        default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", description="a second bucket; CloudFront fails over to it"
    )
    cloudfront: bool = True
    page_noncurrent_days: int = Field(
        default=30, ge=1, description="days a replaced status page file's old version is kept (S3 lifecycle)"
    )
    page_domain: str | None = Field(default=None, description="custom domain for the page, e.g. status.example.com")
    page_certificate_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:acm:us-east-1:",
        description="ACM certificate (us-east-1) for page_domain",
    )
    sender_email: str = Field(
        default="status@example.com",
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="SES identity that sends approval requests and copies (verify it)",
    )

    @property
    def prefix(self) -> str:
        return f"Clarion-{self.env_name}"

    def page_bucket_name(self, region: str, account: str) -> str:
        """Deterministic, so the pipeline can publish to buckets in other regions' stacks."""
        return f"clarion-{self.env_name}-page-{account}-{region}"

    @property
    def page_regions(self) -> list[str]:
        return [self.status_page_region] + ([self.page_replica_region] if self.page_replica_region else [])

    @property
    def state_machine_name(self) -> str:
        return f"{self.prefix}-incident"

    @model_validator(mode="after")
    def _domain_needs_certificate(self) -> ClarionConfig:
        if bool(self.page_domain) != bool(self.page_certificate_arn):
            raise ValueError("page_domain and page_certificate_arn go together")
        if self.page_replica_region == self.status_page_region:
            raise ValueError("page_replica_region must differ from status_page_region")
        return self

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
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'clarion'}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            raise ValueError(f"cdk.json context 'clarion' is invalid: {problems}") from None
