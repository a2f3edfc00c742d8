"""Publish the rendered status page to one or more S3 buckets (other regions, other domains).

Per target:

1. Read the manifest (``_clarion/manifest.json``): what was published, each tracked file's
   SHA-256 and ETag, and the renderer's state.
2. Render from a *fresh* load of the incidents; write files in stage order (assets, incident
   pages, history, JSON API, feeds, and the index last), skipping files whose content is unchanged.
3. Tracked files are written conditionally: ``If-Match`` the ETag we last wrote, or
   ``If-None-Match: *`` for a file we never wrote. The manifest goes last, ``If-Match`` its ETag.
   Any 412 means another publisher got there first: reload, re-render, retry (everything this
   attempt wrote is rewritten from the fresh state), so no update is lost.

One failing target does not stop the others; the report says which failed and why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from clarion.domain.status_page import PageIncident
from clarion.status_page.render import RenderState, SiteFile, SiteRenderer

if TYPE_CHECKING:
    pass

MANIFEST = "_clarion/manifest.json"
MAX_ATTEMPTS = 5


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


class StatusPagePublisher:
    def __init__(self, renderer: SiteRenderer, targets: list[S3Target]) -> None:
        if not targets:
            raise ValueError("at least one publish target is needed")
        self.renderer = renderer
        self.targets = targets

    def publish(self, load: Callable[[], list[PageIncident]], now: Callable[[], datetime]) -> PublishReport:
        return PublishReport([self._publish_target(t, load, now) for t in self.targets])

    def _publish_target(
        self, target: S3Target, load: Callable[[], list[PageIncident]], now: Callable[[], datetime]
    ) -> TargetReport:
        report = TargetReport(target.name)
        rewrite: set[str] = set()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            report.attempts = attempt
            try:
                self._attempt(target, load, now, report, rewrite)
                report.ok = True
                return report
            except PublishConflict as exc:
                report.error = str(exc)
                rewrite |= set(report.written)
                report.written = []
                continue
            except (ClientError, BotoCoreError) as exc:
                report.error = f"{type(exc).__name__}: {exc}"
                return report
        report.error = f"gave up after {MAX_ATTEMPTS} conflicting publishes: {report.error}"
        return report

    def _read_manifest(self, target: S3Target, report: TargetReport) -> tuple[dict[str, Any], str | None]:
        report.requests += 1
        try:
            obj = target.client.get_object(Bucket=target.bucket, Key=target.key(MANIFEST))
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return {"files": {}, "state": {}}, None
            raise
        data: dict[str, Any] = json.loads(obj["Body"].read())
        return data, obj["ETag"]

    def _put(self, target: S3Target, file: SiteFile, report: TargetReport, condition: dict[str, str]) -> str:
        report.requests += 1
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
            if _status(exc) == 412 or _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise PublishConflict(f"{file.path} changed under us ({_code(exc)})") from exc
            raise
        return str(resp["ETag"])

    def _attempt(
        self,
        target: S3Target,
        load: Callable[[], list[PageIncident]],
        now: Callable[[], datetime],
        report: TargetReport,
        rewrite: set[str],
    ) -> None:
        manifest, manifest_etag = self._read_manifest(target, report)
        files_meta: dict[str, dict[str, str]] = dict(manifest.get("files", {}))
        state = RenderState.from_json(manifest.get("state", {}))
        # After a conflict, render everything from the fresh state: every page the lost attempt
        # wrote is among them and is rewritten even where its content looks unchanged.
        result = self.renderer.render(load(), now(), state, force=bool(rewrite))
        for file in result.files:
            meta = files_meta.get(file.path)
            if meta and meta.get("sha") == file.sha and file.path not in rewrite:
                report.unchanged += 1
                continue
            if not file.tracked:
                self._put(target, file, report, {})
            elif meta:
                etag = self._put(target, file, report, {"IfMatch": meta["etag"]})
                files_meta[file.path] = {"sha": file.sha, "etag": etag}
            else:
                etag = self._put(target, file, report, {"IfNoneMatch": "*"})
                files_meta[file.path] = {"sha": file.sha, "etag": etag}
            report.written.append(file.path)
        body = json.dumps({"files": files_meta, "state": result.state.to_json()}, separators=(",", ":")).encode()
        condition = {"IfMatch": manifest_etag} if manifest_etag else {"IfNoneMatch": "*"}
        self._put(
            target,
            SiteFile(MANIFEST, body, "application/json", "no-store", 99),
            report,
            condition,
        )
