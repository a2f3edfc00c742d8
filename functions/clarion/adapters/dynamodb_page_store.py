"""The status page's model in the incident table, maintained incrementally (``clarion.domain.page_index``).

Items (``pk`` / ``sk``)::

    PAGE#INDEX       META          the page index (JSON in ``doc``), ``version`` for conditional writes
    INCIDENT#<id>    PAGE          the incident's page summary (JSON in ``doc``); ``kind`` = ``page``
                                   puts it on the ``by_kind`` index, read only for a full rebuild
    PAGE#HISTORY     P#<page>      one history page: a ``r<slot>`` attribute per row (JSON), ``v``

One page update reads two items (the index and the incident's summary, one ``BatchGetItem``) and
writes, in one ``TransactWriteItems``: the ``page_update`` timeline entry, the summary, the index
(conditional on its version) and, when the incident's history row changed, its history page. A
publish then reads the index and the summaries it shows (one ``BatchGetItem`` in the usual case)
and the history pages whose rows changed. None of it grows with the history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from clarion.adapters.dynamodb_store import BATCH, GSI, _Table, first_error, timeline_put
from clarion.domain.errors import ConcurrentUpdate
from clarion.domain.incident import Incident, TimelineEntry
from clarion.domain.page_index import (
    FEED_ENTRIES,
    Folded,
    HistoryRow,
    PageIndex,
    fold,
    page_of,
    refreshed_summary,
    updated_summary,
)
from clarion.domain.retry import backoff
from clarion.domain.status_page import PageIncident, PageUpdate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

INDEX_KEY = {"pk": {"S": "PAGE#INDEX"}, "sk": {"S": "META"}}
HISTORY_PK = "PAGE#HISTORY"
SUMMARY_KIND = "page"
MAX_ATTEMPTS = 8


def _summary_key(incident_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"INCIDENT#{incident_id}"}, "sk": {"S": "PAGE"}}


def _history_key(page: int) -> dict[str, Any]:
    return {"pk": {"S": HISTORY_PK}, "sk": {"S": f"P#{page:07d}"}}


class DynamoDBPageStore(_Table):
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(table_name, client)
        self.sleep = sleep
        self._known: PageIndex | None = None  # the index as this process last saw it: a guess, never trusted
        self.unreadable: list[str] = []  # summaries the last read left out, with what is wrong

    def _summary(self, item: dict[str, Any]) -> PageIncident | None:
        """A stored summary, or None (named in ``unreadable``) when it cannot be read."""
        try:
            return PageIncident.model_validate_json(item["doc"]["S"])
        except (ValueError, KeyError) as exc:
            self.unreadable.append(f"{item.get('pk', {}).get('S', '?')}: {first_error(exc)}")
            return None

    # --- reads ---------------------------------------------------------------------------------

    def _batch_get(
        self, keys: list[dict[str, Any]], sleep: Callable[[float], None] | None = None
    ) -> list[dict[str, Any]]:
        return super()._batch_get(keys, sleep or self.sleep)

    def _read(self, summary_ids: Iterable[str]) -> tuple[PageIndex, dict[str, PageIncident]]:
        """The index and the summaries of ``summary_ids``, in one request when they fit."""
        ids = list(dict.fromkeys(summary_ids))
        items = self._batch_get([INDEX_KEY, *(_summary_key(i) for i in ids)])
        index = PageIndex()
        summaries: dict[str, PageIncident] = {}
        self.unreadable = []
        for item in items:
            if item["pk"]["S"] == "PAGE#INDEX":
                index = PageIndex.model_validate_json(item["doc"]["S"])
            elif (inc := self._summary(item)) is not None:
                summaries[inc.id] = inc
        self._known = index
        return index, summaries

    def load(self) -> StorePage:
        """A fresh read of what the page shows (call it after reading the bucket's manifest)."""
        guess = self._known.shown_ids() if self._known else []
        index, summaries = self._read(guess[: BATCH - 1])
        missing = [i for i in index.shown_ids() if i not in summaries]
        if missing:
            more = self._batch_get([_summary_key(i) for i in missing])
            for item in more:
                if (inc := self._summary(item)) is not None:
                    summaries[inc.id] = inc
        wanted = set(index.shown_ids())
        return StorePage(self, index, {k: v for k, v in summaries.items() if k in wanted})

    def history_rows(self, pages: Iterable[int]) -> dict[int, list[HistoryRow]]:
        wanted = sorted(set(pages))
        out: dict[int, list[HistoryRow]] = {p: [] for p in wanted}
        for item in self._batch_get([_history_key(p) for p in wanted]):
            page = int(item["sk"]["S"].removeprefix("P#"))
            rows = sorted(
                (
                    (int(name[1:]), value["S"])
                    for name, value in item.items()
                    if name.startswith("r") and name[1:].isdigit()
                ),
            )
            out[page] = [HistoryRow.model_validate_json(doc) for _, doc in rows]
        return out

    def all_summaries(self) -> list[PageIncident]:
        """Every incident ever published (a full rebuild only): the ``by_kind`` index, page by page."""
        out: list[PageIncident] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": GSI,
            "KeyConditionExpression": "kind = :k",
            "ExpressionAttributeValues": {":k": {"S": SUMMARY_KIND}},
        }
        while True:
            page = self.client.query(**kwargs)
            out.extend(inc for i in page["Items"] if (inc := self._summary(i)) is not None)
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- the write -----------------------------------------------------------------------------

    def record(
        self,
        incident: Incident,
        update: PageUpdate,
        entry: TimelineEntry,
        now: datetime,
        next_update_at: datetime | None = None,
    ) -> Folded:
        """Put ``update`` on the incident's page summary and fold it into the page index, with
        ``entry`` on the incident's timeline, in one transaction (a retried update replaces itself
        and writes no second entry). Lost races are retried after a jittered, growing pause."""
        for attempt in range(MAX_ATTEMPTS):
            index, summaries = self._read([incident.id])
            previous = summaries.get(incident.id)
            folded = fold(index, previous, updated_summary(previous, incident, update, next_update_at), now)
            again = previous is not None and any(u.id == update.id for u in previous.updates)
            try:
                self._commit(folded, index.version, None if again else entry)
                self._known = folded.index.model_copy(update={"version": index.version + 1})
                return folded
            except ConcurrentUpdate:
                self.sleep(backoff(attempt))
        raise ConcurrentUpdate(f"page update of {incident.id} lost {MAX_ATTEMPTS} races in a row")

    def refresh(self, incident: Incident, now: datetime) -> bool:
        """Bring the incident's page summary in line with the incident when it changed without a
        page update (maintenance cancelled): its name, status and end. False if the page never
        showed it."""
        for attempt in range(MAX_ATTEMPTS):
            index, summaries = self._read([incident.id])
            previous = summaries.get(incident.id)
            if previous is None:
                return False
            current = refreshed_summary(previous, incident, now)
            try:
                self._commit(fold(index, previous, current, now), index.version, None)
                return True
            except ConcurrentUpdate:
                self.sleep(backoff(attempt))
        raise ConcurrentUpdate(f"page refresh of {incident.id} lost {MAX_ATTEMPTS} races in a row")

    def _commit(self, folded: Folded, expected: int, entry: TimelineEntry | None) -> None:
        t = self.table
        summary = folded.summary
        index = folded.index.model_copy(update={"version": expected + 1})
        index_put: dict[str, Any] = {
            "TableName": t,
            "Item": {**INDEX_KEY, "version": {"N": str(expected + 1)}, "doc": {"S": index.model_dump_json()}},
        }
        if expected == 0:
            index_put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            index_put["ConditionExpression"] = "version = :v"
            index_put["ExpressionAttributeValues"] = {":v": {"N": str(expected)}}
        items: list[Any] = []
        if entry is not None:
            items.append(timeline_put(t, summary.id, entry))
        items += [
            {
                "Put": {
                    "TableName": t,
                    "Item": {
                        **_summary_key(summary.id),
                        "kind": {"S": SUMMARY_KIND},
                        "sort": {"S": f"{summary.started_at.isoformat()}#{summary.id}"},
                        "doc": {"S": summary.model_dump_json()},
                    },
                }
            },
            {"Put": index_put},
        ]
        if folded.row is not None and summary.slot is not None:
            items.append(
                {
                    "Update": {
                        "TableName": t,
                        "Key": _history_key(page_of(summary.slot)),
                        "UpdateExpression": "SET #r = :row ADD v :one",
                        "ExpressionAttributeNames": {"#r": f"r{summary.slot}"},
                        "ExpressionAttributeValues": {":row": {"S": folded.row.model_dump_json()}, ":one": {"N": "1"}},
                    }
                }
            )
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in (
                "TransactionCanceledException",
                "ConditionalCheckFailedException",
                "TransactionConflictException",
            ):
                raise ConcurrentUpdate(f"page index changed under us ({code})") from exc
            raise


class StorePage:
    """One consistent read of the page model, as the renderer reads it (a ``PageSource``)."""

    def __init__(self, store: DynamoDBPageStore, index: PageIndex, shown: dict[str, PageIncident]) -> None:
        self.store = store
        self._index = index
        self._shown = shown

    def index(self) -> PageIndex:
        return self._index

    def shown(self) -> dict[str, PageIncident]:
        return self._shown

    def changed_since(self, since: datetime | None) -> list[PageIncident]:
        feed = self._index.feed
        window_full = len(feed) >= FEED_ENTRIES and (since is None or feed[0].at >= since)
        if since is None or window_full:
            # More changed than the feed holds (or a full rebuild): read every summary. The
            # by_kind index is eventually consistent, so the summaries just read win.
            every = {i.id: i for i in self.store.all_summaries()}
            every.update(self._shown)
            return [i for i in every.values() if since is None or i.updated_at >= since]
        return [i for i in self._shown.values() if i.updated_at >= since]

    def history_keys(self) -> list[str]:
        return [str(v) for v in self._index.history_versions]

    def history_rows(self, pages: Iterable[int]) -> dict[int, list[HistoryRow]]:
        return self.store.history_rows(pages)
