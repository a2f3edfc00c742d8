"""Publish the rendered status page to one or more S3 buckets (other regions, other domains).

The protocol converges: whatever single write failed last time (any file, any error), the next
publish repairs the whole site, and two publishers never give up on each other's leftovers.

Per target and attempt:

1. Read the manifest (``_clarion/manifest.json``): each tracked file's SHA-256 and the ETag we
   wrote, and the renderer's state (what changed since the last *complete* publish).
2. List the bucket's *current* ETags of the tracked files (one ``ListObjectsV2`` per folder they
   live in). The bucket is the truth, not the manifest: a file whose live ETag is not the one the
   manifest recorded was written by an attempt that never finished, so it is rewritten.
3. Render from a *fresh* load of the incidents; write in stages (assets, incident pages, history,
   JSON API, feeds, and the two ``index.html`` last), the files of one stage in parallel, the next
   stage only once the previous one is complete, so a reader never follows a link to a page that
   is not there yet. A tracked file is skipped only when the bucket holds exactly what the manifest
   says and that is what we would write.
4. Tracked files are written conditionally against the bucket's live ETag (``If-Match``, or
   ``If-None-Match: *`` for a file that is not there): a 412 means another publisher wrote since
   we listed; reload, re-list, re-render and retry, so no update is lost.
5. The manifest goes last, ``If-Match`` the ETag we read. Its renderer state advances only here,
   so the incident and history pages of an attempt that failed are rendered again next time.

A transient error (5xx, throttling, a dropped connection) ends the attempt; the next attempt
starts from the bucket as it is. One failing target does not stop the others; the report says
which failed and why.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from clarion.adapters.aws_errors import describe, is_transient
from clarion.domain.page_index import PageInput
from clarion.status_page.render import PageRenderer, RenderState, SiteFile

MANIFEST = "_clarion/manifest.json"
MAX_ATTEMPTS = 5
WORKERS = 8  # PUTs in flight per stage


class PublishConflict(Exception):
    pass


@dataclass(frozen=True)
class S3Target:
    name: str
    bucket: str
    client: Any  # S3Client
    prefix: str = ""

    def key(self, path: str) -> str:
        return f"{self.prefix.strip('/')}/{path}" if self.prefix.strip("/") else path


@dataclass
class TargetReport:
    target: str
    ok: bool = False
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    attempts: int = 0
    error: str = ""
    requests: int = 0
    repaired: list[str] = field(default_factory=list)  # files a previous attempt left behind


@dataclass
class PublishReport:
    targets: list[TargetReport]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.targets)

    @property
    def failed(self) -> list[TargetReport]:
        return [t for t in self.targets if not t.ok]


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _conflict(exc: ClientError) -> bool:
    return _status(exc) == 412 or _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict")


class StatusPagePublisher:
    def __init__(
        self, renderer: PageRenderer, targets: list[S3Target], workers: int = WORKERS, attempts: int = MAX_ATTEMPTS
    ) -> None:
        if not targets:
            raise ValueError("at least one publish target is needed")
        self.renderer = renderer
        self.targets = targets
        self.workers = max(1, workers)
        self.attempts = max(1, attempts)

    def publish(self, load: Callable[[], PageInput], now: Callable[[], datetime]) -> PublishReport:
        return PublishReport([self._publish_target(t, load, now) for t in self.targets])

    def _publish_target(
        self, target: S3Target, load: Callable[[], PageInput], now: Callable[[], datetime]
    ) -> TargetReport:
        report = TargetReport(target.name)
        rewrite: set[str] = set()
        for attempt in range(1, self.attempts + 1):
            report.attempts = attempt
            try:
                self._attempt(target, load, now, report, rewrite)
                report.ok = True
                report.error = ""
                return report
            except PublishConflict as exc:
                report.error = str(exc)
            except (ClientError, BotoCoreError) as exc:
                report.error = describe(exc)
                if not is_transient(exc):
                    return report
            # What this attempt wrote may be older than what a concurrent publisher wrote since:
            # the next attempt rewrites it from the fresh state, even where it looks unchanged.
            rewrite |= set(report.written)
            report.written = []
        report.error = f"gave up after {self.attempts} attempts: {report.error}"
        return report

    # --- reading the bucket --------------------------------------------------------------------

    def _read_manifest(self, target: S3Target, report: TargetReport) -> tuple[dict[str, Any], str | None]:
        report.requests += 1
        try:
            obj = target.client.get_object(Bucket=target.bucket, Key=target.key(MANIFEST))
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return {"files": {}, "state": {}}, None
            raise
        try:
            data: dict[str, Any] = json.loads(obj["Body"].read())
        except ValueError:
            data = {"files": {}, "state": {}}  # unreadable: publish everything, then replace it
        return data, obj["ETag"]

    def _live_etags(self, target: S3Target, paths: list[str], report: TargetReport) -> dict[str, str]:
        """The bucket's current ETag of every object in the folders ``paths`` live in (site paths)."""
        folders = sorted({posixpath.dirname(p) for p in paths})
        out: dict[str, str] = {}
        base = target.key("")  # "" or "prefix/"
        for folder in folders:
            prefix = target.key(folder + "/") if folder else base
            token: dict[str, str] = {}
            while True:
                report.requests += 1
                page = target.client.list_objects_v2(Bucket=target.bucket, Prefix=prefix, Delimiter="/", **token)
                for obj in page.get("Contents", []):
                    out[obj["Key"][len(base) :]] = str(obj["ETag"])
                if not page.get("IsTruncated"):
                    break
                token = {"ContinuationToken": page["NextContinuationToken"]}
        return out

    # --- writing -------------------------------------------------------------------------------

    def _put(self, target: S3Target, file: SiteFile, condition: dict[str, str]) -> str:
        try:
            resp = target.client.put_object(
                Bucket=target.bucket,
                Key=target.key(file.path),
                Body=file.body,
                ContentType=file.content_type,
                CacheControl=file.cache_control,
                **condition,
            )
        except ClientError as exc:
            if _conflict(exc):
                raise PublishConflict(f"{file.path} changed under us ({_code(exc)})") from exc
            raise
        return str(resp["ETag"])

    def _write_stage(
        self, target: S3Target, jobs: list[tuple[SiteFile, dict[str, str]]], report: TargetReport
    ) -> dict[str, str]:
        """Write one stage's files, in parallel; raise the first error once all have finished."""
        report.requests += len(jobs)
        if len(jobs) <= 1 or self.workers == 1:
            results = [self._try_put(target, f, c) for f, c in jobs]
        else:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs))) as pool:
                results = list(pool.map(lambda job: self._try_put(target, *job), jobs))
        etags: dict[str, str] = {}
        errors: list[BaseException] = []
        for (file, _), (etag, error) in zip(jobs, results, strict=True):
            if error is None:
                etags[file.path] = etag
                report.written.append(file.path)
            else:
                errors.append(error)
        if errors:
            # A conflict wins over other errors: it is the one that says "retry from fresh state".
            raise next((e for e in errors if isinstance(e, PublishConflict)), errors[0])
        return etags

    def _try_put(self, target: S3Target, file: SiteFile, condition: dict[str, str]) -> tuple[str, BaseException | None]:
        try:
            return self._put(target, file, condition), None
        except (PublishConflict, ClientError, BotoCoreError) as exc:
            return "", exc

    def _attempt(
        self,
        target: S3Target,
        load: Callable[[], PageInput],
        now: Callable[[], datetime],
        report: TargetReport,
        rewrite: set[str],
    ) -> None:
        manifest, manifest_etag = self._read_manifest(target, report)
        known: dict[str, dict[str, str]] = dict(manifest.get("files", {}))
        state = RenderState.from_json(manifest.get("state", {}))
        # After a failed attempt, render everything from the fresh state: every page the lost
        # attempt wrote is among them and is rewritten even where its content looks unchanged.
        result = self.renderer.render(load(), now(), state, force=bool(rewrite))
        live = self._live_etags(target, [f.path for f in result.files if f.tracked], report)
        # Files another renderer publishes (the metrics function's charts, or the page beside them)
        # keep their entries: this render neither wrote nor checked them.
        rendered = {f.path for f in result.files}
        files_meta: dict[str, dict[str, str]] = {p: m for p, m in known.items() if p not in rendered}
        for _, group in groupby(result.files, key=lambda f: f.stage):
            jobs: list[tuple[SiteFile, dict[str, str]]] = []
            for file in group:
                current = live.get(file.path)
                meta = known.get(file.path)
                if not file.tracked:
                    jobs.append((file, {}))
                    continue
                settled = meta is not None and current is not None and meta.get("etag") == current
                if settled and meta is not None and meta.get("sha") == file.sha and file.path not in rewrite:
                    files_meta[file.path] = meta
                    report.unchanged += 1
                    continue
                if meta is not None and not settled:
                    report.repaired.append(file.path)
                jobs.append((file, {"IfMatch": current} if current else {"IfNoneMatch": "*"}))
            shas = {f.path: f.sha for f, _ in jobs if f.tracked}
            for path, etag in self._write_stage(target, jobs, report).items():
                if path in shas:
                    files_meta[path] = {"sha": shas[path], "etag": etag}
        body = json.dumps({"files": files_meta, "state": result.state.to_json()}, separators=(",", ":")).encode()
        condition = {"IfMatch": manifest_etag} if manifest_etag else {"IfNoneMatch": "*"}
        report.requests += 1
        self._put(target, SiteFile(MANIFEST, body, "application/json", "no-store", 99), condition)
