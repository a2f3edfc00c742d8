"""Environment of the Lambda functions, validated at cold start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class IntakeSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=3, alias="TABLE_NAME")
    idempotency_table_name: str = Field(min_length=3, alias="IDEMPOTENCY_TABLE_NAME")
    state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:", alias="STATE_MACHINE_ARN")
    runbook_path: Path = Field(alias="RUNBOOK_PATH")
    idempotency_ttl_seconds: int = Field(default=86400, ge=60, alias="IDEMPOTENCY_TTL_SECONDS")


T = TypeVar("T", bound=BaseModel)


def load_settings(model: type[T], environ: dict[str, str] | None = None) -> T:
    env = dict(os.environ if environ is None else environ)
    try:
        return model.model_validate(env)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RuntimeError(f"{model.__name__}: environment is not set up: {problems}") from None
