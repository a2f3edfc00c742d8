"""CloudWatch alarm events: the two shapes AWS delivers, normalised into one :class:`AlarmEvent`.

* EventBridge "CloudWatch Alarm State Change" (metric and composite alarms, with or without
  ``alarmTags`` / ``muteDetail``), parsed with Powertools' ``EventBridgeModel`` as the envelope.
* The alarm's own Lambda action: ``{"source": "aws.cloudwatch", "alarmArn", "alarmData": {...}}``.

Everything in an alarm (name, description, reason, tags) is written by whoever can create an
alarm: it is carried as plain data and only ever rendered with escaping.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from clarion.domain.enums import AlarmState
from clarion.domain.errors import IgnoredEvent, MalformedEvent

STATE_CHANGE = "CloudWatch Alarm State Change"
DRILL_TAG = "clarion:drill"  # an alarm tagged clarion:drill=true opens a drill incident
MAX_ARN_BYTES = 1600  # CloudWatch's AlarmArn limit; DynamoDB keys built from it stay under 2048 bytes
MAX_REASON_DATA = 16_384  # CloudWatch's StateReasonData limit is 4000 characters; well above it
MAX_TEXT = 4096  # alarm descriptions are capped at 1024 by AWS; reasons run longer. Bound what we keep.


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Metric(_Loose):
    namespace: str | None = None
    name: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)


class _MetricStat(_Loose):
    metric: _Metric = _Metric()


class _MetricQuery(_Loose):
    id: str | None = None
    metric_stat: _MetricStat | None = Field(default=None, alias="metricStat")
    expression: str | None = None


class _Configuration(_Loose):
    description: str | None = None
    metrics: list[_MetricQuery] = Field(default_factory=list)
    alarm_rule: str | None = Field(default=None, alias="alarmRule")


class _State(_Loose):
    value: AlarmState
    reason: str = ""
    reason_data: str | None = Field(default=None, alias="reasonData")
    timestamp: AwareDatetime  # a time without a zone cannot be ordered against the others


class _MuteDetail(_Loose):
    mute_type: str | None = Field(default=None, alias="muteType")


class _AlarmData(_Loose):
    """Shared by EventBridge ``detail`` and the Lambda action's ``alarmData``."""

    alarm_name: str = Field(alias="alarmName", min_length=1, max_length=255)
    state: _State
    previous_state: _State | None = Field(default=None, alias="previousState")
    configuration: _Configuration = _Configuration()
    alarm_tags: dict[str, str] = Field(default_factory=dict, alias="alarmTags")
    mute_detail: _MuteDetail | None = Field(default=None, alias="muteDetail")


class _EventBridgeAlarm(EventBridgeModel):
    detail: _AlarmData


class _LambdaAction(_Loose):
    source: Literal["aws.cloudwatch"]
    alarm_arn: str = Field(alias="alarmArn", pattern=r"^arn:aws[a-z-]*:cloudwatch:")
    account_id: str = Field(alias="accountId")
    time: AwareDatetime
    region: str
    alarm_data: _AlarmData = Field(alias="alarmData")


class AlarmEvent(BaseModel):
    """One alarm state change, whichever way it arrived."""

    model_config = ConfigDict(frozen=True)

    alarm_arn: str
    alarm_name: str
    account: str
    region: str
    state: AlarmState
    previous_state: AlarmState | None = None
    reason: str = ""
    state_timestamp: datetime
    description: str = ""
    metrics: list[tuple[str | None, dict[str, str]]] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    composite: bool = False
    triggering_alarms: list[str] = Field(default_factory=list)
    muted: bool = False
    shape: Literal["eventbridge", "lambda_action", "synthetic"] = "eventbridge"
    event_id: str | None = None
    drill: bool = False

    @property
    def dedupe_key(self) -> str:
        """docs/design.md, decision 3: alarm ARN + state value + state timestamp."""
        return f"{self.alarm_arn}|{self.state.value}|{self.state_timestamp.isoformat()}"


def _identify(raw: Any) -> dict[str, str]:
    """What identifies an event in a log line, without logging the payload."""
    if not isinstance(raw, dict):
        return {"type": type(raw).__name__}
    ident: dict[str, str] = {}
    for key in ("id", "detail-type", "source", "alarmArn"):
        value = raw.get(key)
        if isinstance(value, str):
            ident[key] = value[:200]
    resources = raw.get("resources")
    if isinstance(resources, list) and resources and isinstance(resources[0], str):
        ident["alarm"] = resources[0][:300]
    return ident


def _triggering(reason_data: str | None) -> list[str]:
    if not reason_data:
        return []
    if len(reason_data) > MAX_REASON_DATA:
        raise MalformedEvent(f"state.reasonData: longer than {MAX_REASON_DATA} characters")
    try:
        data = json.loads(reason_data)
    except ValueError:
        return []
    except RecursionError:
        raise MalformedEvent("state.reasonData: nested too deeply") from None
    alarms = data.get("triggeringAlarms") if isinstance(data, dict) else None
    if not isinstance(alarms, list):
        return []
    return [a["arn"] for a in alarms if isinstance(a, dict) and isinstance(a.get("arn"), str)]


def _normalise(
    data: _AlarmData,
    arn: str,
    account: str,
    region: str,
    shape: Literal["eventbridge", "lambda_action"],
    eid: str | None,
) -> AlarmEvent:
    if len(arn.encode()) > MAX_ARN_BYTES:
        raise MalformedEvent(f"alarm ARN: longer than {MAX_ARN_BYTES} bytes (CloudWatch's limit)")
    metrics = [
        (q.metric_stat.metric.namespace, dict(q.metric_stat.metric.dimensions))
        for q in data.configuration.metrics
        if q.metric_stat is not None
    ]
    return AlarmEvent(
        alarm_arn=arn,
        alarm_name=data.alarm_name,
        account=account,
        region=region,
        state=data.state.value,
        previous_state=data.previous_state.value if data.previous_state else None,
        reason=data.state.reason[:MAX_TEXT],
        state_timestamp=data.state.timestamp,
        description=(data.configuration.description or "")[:MAX_TEXT],
        metrics=metrics,
        tags={k[:128]: v[:256] for k, v in data.alarm_tags.items()},
        composite=data.configuration.alarm_rule is not None,
        triggering_alarms=_triggering(data.state.reason_data),
        muted=data.mute_detail is not None and data.mute_detail.mute_type is not None,
        drill=data.alarm_tags.get(DRILL_TAG, "").lower() == "true",
        shape=shape,
        event_id=eid,
    )


def parse_alarm_event(raw: Any) -> AlarmEvent:
    """Normalise either event shape.

    Raises :class:`IgnoredEvent` for well-formed events that are not alarm state changes (for
    example "CloudWatch Alarm Configuration Change") and :class:`MalformedEvent` for anything else
    that cannot be read. Never raises anything else.
    """
    ident = _identify(raw)
    if not isinstance(raw, dict):
        raise MalformedEvent("event is not a JSON object", ident)
    try:
        return _parse(raw, ident)
    except MalformedEvent as exc:
        raise MalformedEvent(exc.message, ident) from None
    except RecursionError:
        raise MalformedEvent("event: nested too deeply", ident) from None


def _parse(raw: dict[str, Any], ident: dict[str, str]) -> AlarmEvent:
    try:
        if "detail-type" in raw:
            if raw.get("source") != "aws.cloudwatch":
                raise IgnoredEvent(f"source {str(raw.get('source'))[:64]!r} is not aws.cloudwatch", ident)
            if raw.get("detail-type") != STATE_CHANGE:
                raise IgnoredEvent(f"detail-type {str(raw.get('detail-type'))[:64]!r} is not handled", ident)
            eb = _EventBridgeAlarm.model_validate(raw)
            if not eb.resources or not eb.resources[0].startswith("arn:"):
                raise MalformedEvent("resources holds no alarm ARN", ident)
            return _normalise(eb.detail, eb.resources[0], eb.account, eb.region, "eventbridge", eb.id)
        if "alarmData" in raw:
            la = _LambdaAction.model_validate(raw)
            return _normalise(la.alarm_data, la.alarm_arn, la.account_id, la.region, "lambda_action", None)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        raise MalformedEvent(f"{where}: {first['msg']} ({exc.error_count()} problem(s))", ident) from None
    raise MalformedEvent("neither an EventBridge alarm event nor an alarm Lambda-action payload", ident)


def state_change_event(
    alarm_name: str,
    state: AlarmState | str,
    at: datetime,
    *,
    account: str = "123456789012",
    region: str = "us-east-1",
    namespace: str | None = None,
    metric: str = "Errors",
    dimensions: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    reason: str = "",
    description: str = "",
    previous: AlarmState | str = AlarmState.OK,
) -> dict[str, Any]:
    """An EventBridge "CloudWatch Alarm State Change" event as AWS sends it, for drills, the demo
    and tests."""
    state = AlarmState(state)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"
    arn = f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name}"
    detail: dict[str, Any] = {
        "alarmName": alarm_name,
        "state": {
            "value": state.value,
            "reason": reason or f"Threshold crossed: {alarm_name}",
            "timestamp": stamp,
        },
        "previousState": {"value": AlarmState(previous).value, "reason": "", "timestamp": stamp},
        "configuration": {
            "description": description,
            "metrics": [
                {
                    "id": "m1",
                    "metricStat": {
                        "metric": {
                            "namespace": namespace or "Clarion/Synthetic",
                            "name": metric,
                            "dimensions": dimensions or {},
                        },
                        "period": 60,
                        "stat": "Sum",
                    },
                    "returnData": True,
                }
            ],
        },
    }
    if tags:
        detail["alarmTags"] = dict(tags)
    return {
        "version": "0",
        "id": f"{short_id(arn, state.value, stamp)}",
        "detail-type": STATE_CHANGE,
        "source": "aws.cloudwatch",
        "account": account,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [arn],
        "detail": detail,
    }


def short_id(*parts: str) -> str:
    """A UUID-shaped id derived from ``parts``: the same event gets the same id."""
    return str(uuid.UUID(hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]))
