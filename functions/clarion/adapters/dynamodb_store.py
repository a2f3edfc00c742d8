"""The incident store on one DynamoDB table.

Items (``pk`` / ``sk``)::

    INCIDENT#<id>   META              the incident (JSON in ``doc``), ``version`` for conditional writes
    INCIDENT#<id>   TL#<entry id>     one timeline entry, append-only
    INCIDENT#<id>   TOLD#<route>#<draft id>   the audience ledger: a route told by a draft
    GROUP#<group>   OPEN              which incident is open for a component group (at most one)
    ALARM#<arn>     STATE             the last state change applied for an alarm (``ts``: epoch µs)

GSI ``by_kind`` (``kind`` / ``sort``) lists incidents and maintenance windows newest first.
A :class:`~clarion.domain.incident.Change` is written with one ``TransactWriteItems``, so an
intake decision lands whole or not at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError
from pydantic import ValidationError

from clarion.adapters.aws_errors import is_transient, retry_config
from clarion.domain.approvals.links import ApprovalRequest
from clarion.domain.enums import IncidentKind
from clarion.domain.errors import ConcurrentUpdate
from clarion.domain.feedback.model import Feedback
from clarion.domain.incident import AlarmReads, AlarmRecord, Change, Incident, TimelineEntry
from clarion.domain.messaging.drafts import Draft
from clarion.domain.messaging.ledger import AudienceLedger, Told
from clarion.domain.retry import backoff

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

GSI = "by_kind"
BATCH = 100  # BatchGetItem's limit
SETTLE_ATTEMPTS = 4  # a send claim's settling write, tried again on transient errors


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """Requests that do not depend on each other go out together (boto3 clients are thread-safe)."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="clarion-io")


def _micros(at: datetime) -> str:
    return str(int(at.timestamp() * 1_000_000))


def table_definition(name: str) -> dict[str, Any]:
    """``CreateTable`` arguments: the one definition the local mode and tests use; the CDK app
    declares the same keys (``infra``)."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "kind", "AttributeType": "S"},
            {"AttributeName": "sort", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI,
                "KeySchema": [
                    {"AttributeName": "kind", "KeyType": "HASH"},
                    {"AttributeName": "sort", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


class _Table:
    """One table, one client: what every store here shares."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table = table_name
        self.client: DynamoDBClient = client or boto3.client("dynamodb", config=retry_config("dynamodb"))

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
        return item.get("Item")

    def _batch_get(
        self, keys: list[dict[str, Any]], sleep: Callable[[float], None] = time.sleep
    ) -> list[dict[str, Any]]:
        """Every item of ``keys`` that exists, consistently read, in one request per hundred keys;
        unprocessed keys are asked again after a pause."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH):
            request: dict[str, Any] = {self.table: {"Keys": keys[start : start + BATCH], "ConsistentRead": True}}
            attempt = 0
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                items.extend(resp.get("Responses", {}).get(self.table, []))
                request = dict(resp.get("UnprocessedKeys") or {})
                if request:
                    sleep(backoff(attempt))
                    attempt += 1
        return items


def timeline_put(table: str, incident_id: str, entry: TimelineEntry) -> TransactWriteItemTypeDef:
    """A timeline entry as one item of a transaction (``INCIDENT#<id>`` / ``TL#<entry id>``)."""
    return {
        "Put": {
            "TableName": table,
            "Item": {
                "pk": {"S": f"INCIDENT#{incident_id}"},
                "sk": {"S": f"TL#{entry.entry_id}"},
                "doc": {"S": entry.model_dump_json()},
            },
        }
    }


def first_error(exc: Exception) -> str:
    """What is wrong with a record that does not validate, in one line."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return f"{type(exc).__name__}: {exc}"[:200]


class DynamoDBIncidentStore(_Table):
    unreadable: list[str]  # records the last listing skipped, each with what is wrong with it

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        super().__init__(table_name, client)
        self.unreadable = []

    # --- reads ---------------------------------------------------------------------------------

    def get_alarm(self, alarm_arn: str) -> AlarmRecord | None:
        item = self._get(f"ALARM#{alarm_arn}", "STATE")
        return AlarmRecord.model_validate_json(item["doc"]["S"]) if item else None

    def get_open_incident_id(self, group: str) -> str | None:
        item = self._get(f"GROUP#{group}", "OPEN")
        return item["incident_id"]["S"] if item else None

    def get_incident(self, incident_id: str) -> Incident | None:
        item = self._get(f"INCIDENT#{incident_id}", "META")
        return Incident.model_validate_json(item["doc"]["S"]) if item else None

    def get_incidents(self, incident_ids: list[str]) -> dict[str, Incident]:
        keys = [{"pk": {"S": f"INCIDENT#{i}"}, "sk": {"S": "META"}} for i in dict.fromkeys(incident_ids)]
        found = [Incident.model_validate_json(item["doc"]["S"]) for item in self._batch_get(keys)] if keys else []
        return {i.id: i for i in found}

    def read_for_alarm(self, alarm_arn: str, groups: list[str], maintenance_at: datetime | None) -> AlarmReads:
        """One ``BatchGetItem`` for the alarm record and the groups' open-incident pointers (the
        maintenance query beside it), then one for the incidents they point to, if any."""
        windows = _pool().submit(self.maintenance_active, maintenance_at) if maintenance_at is not None else None
        keys = [{"pk": {"S": f"ALARM#{alarm_arn}"}, "sk": {"S": "STATE"}}]
        keys += [{"pk": {"S": f"GROUP#{g}"}, "sk": {"S": "OPEN"}} for g in dict.fromkeys(groups)]
        record: AlarmRecord | None = None
        pointers: dict[str, str] = {}
        for item in self._batch_get(keys):
            if item["pk"]["S"].startswith("ALARM#"):
                record = AlarmRecord.model_validate_json(item["doc"]["S"])
            else:
                pointers[item["pk"]["S"].removeprefix("GROUP#")] = item["incident_id"]["S"]
        incidents = self.get_incidents(list(pointers.values())) if pointers else {}
        return AlarmReads(
            record=record,
            open_incidents={g: incidents[i] for g, i in pointers.items() if i in incidents},
            maintenance=windows.result() if windows is not None else [],
        )

    def _docs(self, incident_id: str, prefix: str) -> list[str]:
        docs: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"INCIDENT#{incident_id}"}, ":prefix": {"S": prefix}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            docs.extend(i["doc"]["S"] for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                return docs
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        return [TimelineEntry.model_validate_json(doc) for doc in self._docs(incident_id, "TL#")]

    def ledger(self, incident_id: str) -> AudienceLedger:
        told = [Told.model_validate_json(doc) for doc in self._docs(incident_id, "TOLD#")]
        return AudienceLedger(tuple(sorted(told, key=lambda t: (t.at, t.route))))

    def incident_and_ledger(self, incident_id: str) -> tuple[Incident | None, AudienceLedger]:
        """The incident's ``GetItem`` and its ledger's ``Query`` side by side: one round trip."""
        ledger = _pool().submit(self.ledger, incident_id)
        return self.get_incident(incident_id), ledger.result()

    def _by_kind(self, kind: IncidentKind, limit: int) -> list[Incident]:
        out: list[Incident] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": GSI,
            "KeyConditionExpression": "kind = :k",
            "ExpressionAttributeValues": {":k": {"S": kind.value}},
            "ScanIndexForward": False,
        }
        self.unreadable = []
        while len(out) < limit:
            page = self.client.query(**kwargs)
            for item in page["Items"]:
                try:
                    out.append(Incident.model_validate_json(item["doc"]["S"]))
                except (ValueError, KeyError) as exc:  # one bad record must not hide the others
                    self.unreadable.append(f"{item.get('pk', {}).get('S', '?')}: {first_error(exc)}")
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return out[:limit]

    def list_incidents(
        self, *, open_only: bool = False, limit: int = 100, kind: IncidentKind = IncidentKind.INCIDENT
    ) -> list[Incident]:
        found = self._by_kind(kind, limit if not open_only else 1000)
        if open_only:
            found = [i for i in found if i.resolved_at is None]
        return found[:limit]

    def maintenance_active(self, at: datetime) -> list[Incident]:
        return [m for m in self._by_kind(IncidentKind.MAINTENANCE, 200) if m.in_window(at)]

    # --- the one write -------------------------------------------------------------------------

    def commit(self, change: Change) -> None:
        items = self._items(change)
        if not items:
            return
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in (
                "TransactionCanceledException",
                "ConditionalCheckFailedException",
                "TransactionConflictException",
            ):
                raise ConcurrentUpdate(
                    f"conditional write lost a race: {exc.response['Error'].get('Message', code)}"
                ) from exc
            raise

    def _items(self, change: Change) -> list[TransactWriteItemTypeDef]:
        items: list[TransactWriteItemTypeDef] = []
        t = self.table
        if change.alarm is not None:
            a = change.alarm
            put: dict[str, Any] = {
                "TableName": t,
                "Item": {
                    "pk": {"S": f"ALARM#{a.alarm_arn}"},
                    "sk": {"S": "STATE"},
                    "ts": {"N": _micros(a.state_timestamp)},
                    "doc": {"S": a.model_dump_json()},
                },
            }
            if change.alarm_expected_timestamp is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "ts = :ts"
                put["ExpressionAttributeValues"] = {":ts": {"N": _micros(change.alarm_expected_timestamp)}}
            items.append({"Put": put})  # type: ignore[typeddict-item]
        for w in change.incidents:
            inc = w.incident
            put = {
                "TableName": t,
                "Item": {
                    "pk": {"S": f"INCIDENT#{inc.id}"},
                    "sk": {"S": "META"},
                    "version": {"N": str(inc.version)},
                    "kind": {"S": inc.kind.value},
                    "sort": {"S": f"{(inc.scheduled_for or inc.started_at).isoformat()}#{inc.id}"},
                    "doc": {"S": inc.model_dump_json()},
                },
            }
            if w.expected_version == 0:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "version = :v"
                put["ExpressionAttributeValues"] = {":v": {"N": str(w.expected_version)}}
            items.append({"Put": put})  # type: ignore[typeddict-item]
        for group, incident_id in change.open_groups:
            items.append(
                {
                    "Put": {
                        "TableName": t,
                        "Item": {
                            "pk": {"S": f"GROUP#{group}"},
                            "sk": {"S": "OPEN"},
                            "incident_id": {"S": incident_id},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        for group, incident_id in change.close_groups:
            items.append(
                {
                    "Delete": {
                        "TableName": t,
                        "Key": {"pk": {"S": f"GROUP#{group}"}, "sk": {"S": "OPEN"}},
                        "ConditionExpression": "incident_id = :id",
                        "ExpressionAttributeValues": {":id": {"S": incident_id}},
                    }
                }
            )
        for group, incident_id in change.still_open:
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": t,
                        "Key": {"pk": {"S": f"GROUP#{group}"}, "sk": {"S": "OPEN"}},
                        "ConditionExpression": "incident_id = :id",
                        "ExpressionAttributeValues": {":id": {"S": incident_id}},
                    }
                }
            )
        items += [timeline_put(t, incident_id, entry) for incident_id, entry in change.timeline]
        for incident_id, told in change.told:
            items.append(
                {
                    "Put": {
                        "TableName": t,
                        "Item": {
                            "pk": {"S": f"INCIDENT#{incident_id}"},
                            "sk": {"S": f"TOLD#{told.route}#{told.draft_id}"},
                            "doc": {"S": told.model_dump_json()},
                        },
                    }
                }
            )
        return items


class DynamoDBWorkflowStore(_Table):
    """Drafts, approvals, send claims and documents, in the incident table::

    INCIDENT#<id>   DRAFT#<draft id>    a draft (JSON)
    INCIDENT#<id>   DOC#<name>          a document, e.g. the post-mortem draft (markdown)
    APPROVAL#<id>   META                an approval request, ``status`` for conditional writes
    SEND#<key>      META                a send claim: ``status`` sending/sent/failed, ``lease`` (epoch s)
    """

    def _conditional(self, **kwargs: Any) -> bool:
        try:
            self.client.put_item(TableName=self.table, **kwargs)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise

    def create_draft(self, draft: Draft, entry: TimelineEntry) -> Draft:
        """The draft (if it is new) and its timeline entry, in one transaction."""
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": {
                                "pk": {"S": f"INCIDENT#{draft.incident_id}"},
                                "sk": {"S": f"DRAFT#{draft.id}"},
                                "doc": {"S": draft.model_dump_json()},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    timeline_put(self.table, draft.incident_id, entry),
                ]
            )
            return draft
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
        existing = self.get_draft(draft.incident_id, draft.id)
        if existing is None:  # cancelled for another reason (a conflicting write): let the step retry
            raise ConcurrentUpdate(f"draft {draft.id} of {draft.incident_id} could not be written")
        return existing

    def claim_sends(self, keys: list[str], now: datetime, lease_seconds: int = 300) -> dict[str, bool]:
        """Claim several sends at once. If any claim fails, the ones taken are released before the
        error is raised: a claim left ``sending`` would make the retry take its send as done."""

        def claim(key: str) -> bool | Exception:
            try:
                return self.claim_send(key, now, lease_seconds)
            except Exception as exc:
                return exc

        results = dict(zip(keys, map(claim, keys) if len(keys) <= 1 else _pool().map(claim, keys), strict=True))
        failed = [r for r in results.values() if isinstance(r, Exception)]
        if failed:
            for key, taken in results.items():
                if taken is True:
                    self.finish_send(key, ok=False, detail="not sent: another claim of the batch failed")
            raise failed[0]
        return {k: bool(v) for k, v in results.items()}

    def save_draft(self, draft: Draft, *, create: bool = False) -> Draft:
        item = {
            "pk": {"S": f"INCIDENT#{draft.incident_id}"},
            "sk": {"S": f"DRAFT#{draft.id}"},
            "doc": {"S": draft.model_dump_json()},
        }
        if not create:
            self.client.put_item(TableName=self.table, Item=item)
            return draft
        if self._conditional(Item=item, ConditionExpression="attribute_not_exists(pk)"):
            return draft
        existing = self.get_draft(draft.incident_id, draft.id)
        assert existing is not None
        return existing

    def get_draft(self, incident_id: str, draft_id: str) -> Draft | None:
        item = self._get(f"INCIDENT#{incident_id}", f"DRAFT#{draft_id}")
        return Draft.model_validate_json(item["doc"]["S"]) if item else None

    def _approval_item(self, request: ApprovalRequest) -> dict[str, Any]:
        return {
            "pk": {"S": f"APPROVAL#{request.id}"},
            "sk": {"S": "META"},
            "status": {"S": request.status.value},
            "doc": {"S": request.model_dump_json()},
        }

    def save_approval(self, request: ApprovalRequest) -> None:
        self.client.put_item(TableName=self.table, Item=self._approval_item(request))

    def get_approval(self, approval_id: str) -> ApprovalRequest | None:
        item = self._get(f"APPROVAL#{approval_id}", "META")
        return ApprovalRequest.model_validate_json(item["doc"]["S"]) if item else None

    def transition_approval(self, updated: ApprovalRequest) -> bool:
        return self._conditional(
            Item=self._approval_item(updated),
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":pending": {"S": "pending"}},
        )

    def claim_send(self, key: str, now: datetime, lease_seconds: int = 300) -> bool:
        t = int(now.timestamp())
        return self._conditional(
            Item={
                "pk": {"S": f"SEND#{key}"},
                "sk": {"S": "META"},
                "status": {"S": "sending"},
                "lease": {"N": str(t + lease_seconds)},
            },
            ConditionExpression="attribute_not_exists(pk) OR #s = :failed OR (#s = :sending AND lease < :now)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":failed": {"S": "failed"},
                ":sending": {"S": "sending"},
                ":now": {"N": str(t)},
            },
        )

    def finish_send(self, key: str, *, ok: bool, detail: str) -> None:
        """Settle a claim. Tried again on a transient error (the write is the same each time): a claim
        left ``sending`` makes every retry within its lease take the send as done, so an unsent
        message whose release was lost would never go out."""
        item = {
            "pk": {"S": f"SEND#{key}"},
            "sk": {"S": "META"},
            "status": {"S": "sent" if ok else "failed"},
            "detail": {"S": detail[:2000]},
            "lease": {"N": "0"},
        }
        for attempt in range(1, SETTLE_ATTEMPTS + 1):
            try:
                self.client.put_item(TableName=self.table, Item=item)
                return
            except Exception as exc:
                if attempt == SETTLE_ATTEMPTS or not is_transient(exc):
                    raise

    def save_document(self, incident_id: str, name: str, text: str) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={"pk": {"S": f"INCIDENT#{incident_id}"}, "sk": {"S": f"DOC#{name}"}, "text": {"S": text}},
        )

    def get_document(self, incident_id: str, name: str) -> str | None:
        item = self._get(f"INCIDENT#{incident_id}", f"DOC#{name}")
        return item["text"]["S"] if item else None


class _RateLimits(_Table):
    """Per-source request counters (``RATE#<source>#<window>``), expiring through TTL."""

    def hit(self, source: str, window: str, limit: int, expires: datetime) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": f"RATE#{source}#{window}"}, "sk": {"S": "META"}},
                UpdateExpression="ADD #c :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(#c) OR #c < :limit",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":exp": {"N": str(int(expires.timestamp()))},
                },
            )
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise


class DynamoDBSubscriptionStore(_RateLimits):
    """Rate-limit counters and SMS opt-in codes, in the incident table, expiring through TTL::

    RATE#<source>#<hour>   META   ``count``
    OPTIN#<phone>          META   the hashed code, the filter policy, tries
    """

    def save_code(self, phone: str, record: dict[str, Any], expires: datetime) -> None:
        import json

        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": f"OPTIN#{phone}"},
                "sk": {"S": "META"},
                "doc": {"S": json.dumps(record)},
                "expires_at": {"N": str(int(expires.timestamp()))},
            },
        )

    def load_code(self, phone: str) -> dict[str, Any] | None:
        import json

        item = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": f"OPTIN#{phone}"}, "sk": {"S": "META"}}, ConsistentRead=True
        ).get("Item")
        return json.loads(item["doc"]["S"]) if item else None

    def drop_code(self, phone: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": {"S": f"OPTIN#{phone}"}, "sk": {"S": "META"}})


class DynamoDBDeskStore(DynamoDBSubscriptionStore):
    """The desk's rate-limit counters (as the subscribe endpoint's) and used sign-in links, in the
    incident table, expiring through TTL::

    ONCE#<key>   META   a single-use value that was used (a sign-in link's nonce)
    """

    def claim_once(self, key: str, expires: datetime) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": f"ONCE#{key}"},
                    "sk": {"S": "META"},
                    "expires_at": {"N": str(int(expires.timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise


class DynamoDBFeedbackStore(_RateLimits):
    """Readers' answers, beside their incident, and the endpoint's rate-limit counters::

    INCIDENT#<id>   FB#<update id>#<reader>   one answer (JSON in ``doc``), written once
    RATE#feedback:<source>#<hour>   META      ``count``
    """

    def record(self, feedback: Feedback) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": f"INCIDENT#{feedback.incident_id}"},
                    "sk": {"S": f"FB#{feedback.update_id}#{feedback.reader}"},
                    "doc": {"S": feedback.model_dump_json()},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise

    def feedback(self, incident_id: str) -> list[Feedback]:
        out: list[Feedback] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :fb)",
            "ExpressionAttributeValues": {":pk": {"S": f"INCIDENT#{incident_id}"}, ":fb": {"S": "FB#"}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            out.extend(Feedback.model_validate_json(i["doc"]["S"]) for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
