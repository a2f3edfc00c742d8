"""Render the static status page: HTML per language, the Statuspage-compatible JSON API, feeds.

Work grows with what changed, not with the history: incident pages are rendered only for
incidents updated since the last publish (or when the page's chrome changed), history pages only
when their rows changed. History pages are numbered oldest first (page 1 holds the first 25
incidents ever), so adding an incident changes only the newest page. ``RenderState`` carries what
the last publish knew; the publisher keeps it in the bucket's manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cached_property
from importlib import resources
from typing import Any, Protocol
from urllib.parse import urlparse

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from clarion.domain.enums import ComponentStatus, IncidentStatus, MaintenanceStatus, Phase
from clarion.domain.feedback.tokens import issue
from clarion.domain.messaging.i18n import (
    format_day,
    format_percent,
    format_time,
    join_list,
    status_label,
    zone,
    zone_name,
)
from clarion.domain.metrics import WINDOWS, MetricsSnapshot, Window, chart_title, charted, summarize, summary_text
from clarion.domain.metrics import words as metric_words
from clarion.domain.page_index import (
    API_INCIDENTS,
    RECENT_DAYS,
    HistoryRow,
    PageIndex,
    PageSource,
    as_source,
)
from clarion.domain.runbooks.model import Component, Runbook, localized
from clarion.domain.status_page import (
    POSTMORTEM,
    PageIncident,
    Uptime,
    component_statuses,
    overall,
    uptime_by_component,
)
from clarion.status_page.charts import chart_svg
from clarion.status_page.embed import BADGE_COLOURS, BANNER_PATH, badge_svg, banner_js, embed_text
from clarion.status_page.markdown import render_markdown
from clarion.status_page.text import ICONS, LANGUAGE_NAMES, day_count, page_text

TEMPLATE_VERSION = "6"  # 6: the feedback form and the post-incident report

SHORT_CACHE = "public, max-age=30, stale-while-revalidate=30"
LONG_CACHE = "public, max-age=31536000, immutable"
HTML = "text/html; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
SVG = "image/svg+xml"
METRICS_JSON = "api/v2/metrics.json"

# Publish order: a reader never sees a link to a page that does not exist yet.
STAGE_ASSET, STAGE_DETAIL, STAGE_HISTORY, STAGE_API, STAGE_FEED, STAGE_INDEX = range(6)


@dataclass(frozen=True)
class SiteFile:
    path: str
    body: bytes
    content_type: str
    cache_control: str
    stage: int
    tracked: bool = True  # False: incident pages, rewritten only when their incident changes

    @cached_property
    def sha(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass
class RenderState:
    chrome: str = ""
    published_at: datetime | None = None
    history_keys: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "chrome": self.chrome,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "history_keys": self.history_keys,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenderState:
        at = data.get("published_at")
        return cls(
            data.get("chrome", ""),
            datetime.fromisoformat(at) if at else None,
            dict(data.get("history_keys", {})),
        )


@dataclass
class RenderResult:
    files: list[SiteFile]
    state: RenderState
    rendered_incident_pages: int = 0
    rendered_history_pages: int = 0


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(at: datetime | None, language: str, time_zone: str) -> Markup:
    """A time as the page's readers read it: their language, the zone the runbook names for it."""
    if at is None:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(iso(at), format_time(at, language, time_zone))


def _began(inc: PageIncident) -> bool:
    """Whether the page may say the incident or window started: an upcoming window has not, and one
    called off before its start never did."""
    if not inc.is_maintenance:
        return True
    running = (MaintenanceStatus.IN_PROGRESS.value, MaintenanceStatus.VERIFYING.value)
    if any(u.status in running for u in inc.updates) or inc.status in running:
        return True
    return inc.status == MaintenanceStatus.COMPLETED.value and not inc.cancelled


@dataclass(frozen=True)
class FeedbackForms:
    """Where the incident pages' "Was this update helpful?" form posts, and the signing key."""

    endpoint: str  # the feedback endpoint's base URL; the form posts to <endpoint>/feedback
    key: Callable[[], bytes]

    @property
    def action(self) -> str:
        return f"{self.endpoint.rstrip('/')}/feedback"


class SiteRenderer:
    def __init__(self, runbook: Runbook, feedback: FeedbackForms | None = None) -> None:
        self.runbook = runbook
        self.feedback = feedback
        self.settings = runbook.settings
        self.default = self.settings.default_language
        self.env = Environment(
            loader=PackageLoader("clarion.status_page", "templates"),
            autoescape=select_autoescape(["html", "j2", "xml"], default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(icons=ICONS, iso=iso, rfc822=lambda at: format_datetime(at, usegmt=True))
        css = (resources.files("clarion.status_page") / "templates" / "style.css").read_bytes()
        self.css_path = f"assets/style.{hashlib.sha256(css).hexdigest()[:12]}.css"
        self.css = css
        comp_doc = runbook.components.model_dump_json()
        self.chrome = hashlib.sha256(
            f"{TEMPLATE_VERSION}|{self.settings.model_dump_json()}|{comp_doc}|{self.css_path}|"
            f"{feedback.action if feedback else ''}".encode()
        ).hexdigest()[:16]
        self.base = self.settings.page.url.rstrip("/") + "/"
        self.host = urlparse(self.base).hostname or "status"
        self.component_ids = [c.id for c in runbook.components.components]

    # --- helpers -----------------------------------------------------------------------------

    def prefix(self, lang: str) -> str:
        return "" if lang == self.default else f"{lang}/"

    def _name(self, text: Any, lang: str) -> str:
        return localized(text, lang, self.default)

    def _status_label(self, value: str, lang: str) -> str:
        if value == POSTMORTEM:
            return page_text(lang)["report"]
        for enum in (IncidentStatus, MaintenanceStatus, ComponentStatus):
            try:
                return status_label(enum(value), lang)
            except ValueError:
                continue
        return value

    def _view(self, inc: PageIncident, lang: str) -> dict[str, Any]:
        tz = self.settings.time_zone(lang)
        names = [self._name(self.runbook.component(c).name, lang) for c in inc.components if c in self.component_ids]
        cancelled = page_text(lang)["cancelled"] if inc.cancelled else None
        updates: list[dict[str, Any]] = [
            {
                "status_label": cancelled
                if cancelled and u.status == MaintenanceStatus.COMPLETED.value
                else self._status_label(u.status, lang),
                "created_at": u.created_at,
                "body": u.body.get(lang) or u.body.get(self.default, ""),
            }
            for u in reversed(inc.updates)
        ]
        feed_html = "".join(
            f"<p><strong>{escape(u['status_label'])}</strong> · {escape(format_time(u['created_at'], lang, tz))}<br>"
            f"{escape(u['body'])}</p>"
            for u in updates
        )
        report = inc.report.get(lang) or inc.report.get(self.default, "")
        report_html = render_markdown(report) if report else Markup("")
        if report:
            feed_html = f"<h3>{escape(page_text(lang)['report'])}</h3>{report_html}" + feed_html
        window = ""
        if inc.scheduled_for and inc.scheduled_until:
            window = page_text(lang)["window_range"].format(
                start=format_time(inc.scheduled_for, lang, tz), end=format_time(inc.scheduled_until, lang, tz)
            )
        return {
            "id": inc.id,
            "name": inc.name.get(lang) or inc.name.get(self.default, inc.id),
            "status_label": cancelled or self._status_label(inc.status, lang),
            "component_names": join_list(names, lang),
            "updates": updates,
            "next_update_at": inc.next_update_at if inc.unresolved and not inc.is_maintenance else None,
            "window": window,
            "started_at": inc.started_at,
            "began_at": inc.started_at if _began(inc) else None,  # "Started" only once it has
            "resolved_at": None if cancelled else inc.resolved_at,  # a window called off never ran
            "created_at": inc.created_at,
            "updated_at": inc.updated_at,
            "feed_html": feed_html,
            "report_html": report_html,
            "report_at": inc.report_at,
        }

    def _row_view(self, row: HistoryRow, lang: str) -> dict[str, Any]:
        return {
            "id": row.id,
            "name": row.name.get(lang) or row.name.get(self.default, row.id),
            "status_label": self._status_label(row.status, lang),
            "started_at": row.started_at,
        }

    def _feedback_form(self, inc: PageIncident, lang: str) -> dict[str, Any] | None:
        """The form for the newest update, in the page's language (static: the token is signed at render
        time from the update's own publish time, so re-rendering gives the same page)."""
        if self.feedback is None or inc.is_maintenance or not inc.updates:
            return None
        latest = inc.updates[-1]
        if not latest.draft_id:
            return None
        try:
            phase = Phase(latest.phase)
        except ValueError:
            phase = Phase.UPDATE
        fields = issue(self.feedback.key(), inc.id, latest.draft_id, phase, lang, latest.created_at)
        return {"action": self.feedback.action, "fields": fields}

    def _page_ctx(self, lang: str, path: str, now: datetime, root: str) -> dict[str, Any]:
        tz = self.settings.time_zone(lang)
        return {
            "lang": lang,
            "stamp": lambda at: _stamp(at, lang, tz),
            "zone_name": zone_name(tz, lang),
            "t": page_text(lang),
            "page": self.settings.page,
            "root": root,
            "lang_prefix": self.prefix(lang),
            "path": path,
            "css": self.css_path,
            "generated_at": now,
            "languages": [
                {"code": code, "name": LANGUAGE_NAMES.get(code, code), "prefix": self.prefix(code)}
                for code in self.settings.languages
            ],
            "base": self.base,
            "host": self.host,
        }

    def _html(self, template: str, lang: str, path: str, now: datetime, **ctx: Any) -> bytes:
        depth = path.count("/") + (1 if lang != self.default else 0)
        root = "../" * depth
        return self.env.get_template(template).render(**self._page_ctx(lang, path, now, root), **ctx).encode()

    # --- the site ----------------------------------------------------------------------------

    def render(
        self,
        page: PageSource | list[PageIncident],
        now: datetime,
        state: RenderState | None = None,
        *,
        force: bool = False,
        metrics: MetricsSnapshot | None = None,
    ) -> RenderResult:
        """Render what changed since ``state`` (everything when forced, on the first publish, or when
        the page's chrome changed). ``page``: the page model (or incidents held in memory). ``metrics``:
        also draw the charts and ``api/v2/metrics.json`` (the preview and the local mode; deployed, the
        scheduled metrics function writes them, see ``ChartRenderer``)."""
        source = as_source(page, now)
        index = source.index()
        shown = source.shown()
        state = state or RenderState()
        full = force or state.chrome != self.chrome or state.published_at is None
        new_state = RenderState(self.chrome, now, {})
        files: list[SiteFile] = [SiteFile(self.css_path, self.css, "text/css; charset=utf-8", LONG_CACHE, STAGE_ASSET)]
        result = RenderResult(files, new_state)

        # Incident pages: only what changed since the last publish.
        changed = source.changed_since(None if full else state.published_at)
        for inc in sorted(changed, key=lambda i: (i.started_at, i.id)):
            result.rendered_incident_pages += 1
            for lang in self.settings.languages:
                path = f"incidents/{inc.id}.html"
                body = self._html(
                    "incident.html.j2",
                    lang,
                    path,
                    now,
                    inc=self._view(inc, lang),
                    feedback=self._feedback_form(inc, lang),
                )
                files.append(SiteFile(self.prefix(lang) + path, body, HTML, SHORT_CACHE, STAGE_DETAIL, False))

        # History pages: oldest first, fixed rows; rendered exactly when their key changed.
        pages = index.pages
        keys = source.history_keys()
        dirty: list[int] = []
        for number in range(1, pages + 1):
            key = f"{keys[number - 1] if number <= len(keys) else ''}|{number == pages}"
            new_state.history_keys[str(number)] = key
            if full or state.history_keys.get(str(number)) != key:
                dirty.append(number)
        rows_of = source.history_rows(dirty) if dirty else {}
        for number in dirty:
            result.rendered_history_pages += 1
            newest = number == pages
            for lang in self.settings.languages:
                views = [self._row_view(r, lang) for r in reversed(rows_of.get(number, []))]
                for name in [f"{number}.html"] + (["index.html"] if newest else []):
                    body = self._html(
                        "history.html.j2",
                        lang,
                        f"history/{name}",
                        now,
                        rows=views,
                        number=number,
                        newer=f"{number + 1}.html" if number < pages else None,
                        older=f"{number - 1}.html" if number > 1 else None,
                    )
                    files.append(
                        SiteFile(f"{self.prefix(lang)}history/{name}", body, HTML, SHORT_CACHE, STAGE_HISTORY, False)
                    )

        live = sorted((shown[i] for i in index.live if i in shown), key=lambda i: (i.started_at, i.id))
        recent = sorted(
            [*live, *(shown[r.id] for r in index.recent if r.id in shown and r.id not in index.live)],
            key=lambda i: (i.started_at, i.id),
        )
        unresolved = [i for i in live if not i.is_maintenance]
        # The index, the API and the feeds: small, always rendered, written only if they changed.
        statuses = component_statuses(self.component_ids, live, now)
        uptime = uptime_by_component(self.component_ids, unresolved, now, base=index.uptime)
        files.extend(self._api(index, shown, live, statuses, now))
        files.extend(self._embeds(statuses))
        if metrics is not None:
            files.extend(self.metric_files(metrics))
        latest = [shown[r.id] for r in reversed(index.feed) if r.id in shown]
        for lang in self.settings.languages:
            entries = [self._view(i, lang) for i in latest]
            for ext, ctype in (
                ("atom", "application/atom+xml; charset=utf-8"),
                ("rss", "application/rss+xml; charset=utf-8"),
            ):
                body = (
                    self.env.get_template(f"history.{ext}.j2")
                    .render(**self._page_ctx(lang, f"history.{ext}", now, ""), entries=entries)
                    .encode()
                )
                files.append(SiteFile(f"{self.prefix(lang)}history.{ext}", body, ctype, SHORT_CACHE, STAGE_FEED))
            files.append(
                SiteFile(
                    f"{self.prefix(lang)}index.html",
                    self._index(lang, recent, statuses, uptime, now, metrics),
                    HTML,
                    SHORT_CACHE,
                    STAGE_INDEX,
                )
            )
        if self.settings.page.subscribe_url:
            from clarion.domain.subscriptions import subscribe_form_components

            action = self.settings.page.subscribe_url.rstrip("/") + "/subscribe"
            for lang in self.settings.languages:
                body = self._html(
                    "subscribe.html.j2",
                    lang,
                    "subscribe.html",
                    now,
                    action=action,
                    components=subscribe_form_components(self.runbook, lang),
                )
                files.append(SiteFile(f"{self.prefix(lang)}subscribe.html", body, HTML, SHORT_CACHE, STAGE_DETAIL))
        files.sort(key=lambda f: f.stage)
        return result

    def _index(
        self,
        lang: str,
        recent: list[PageIncident],
        statuses: dict[str, ComponentStatus],
        uptime: dict[str, Uptime],
        now: datetime,
        metrics: MetricsSnapshot | None = None,
    ) -> bytes:
        t = page_text(lang)
        indicator, key = overall(statuses)
        css = "maint" if key == "under_maintenance" else indicator
        icon = ICONS[
            "under_maintenance"
            if key == "under_maintenance"
            else {
                "none": "operational",
                "minor": "degraded_performance",
                "major": "partial_outage",
                "critical": "major_outage",
            }[indicator]
        ]
        active = [self._view(i, lang) for i in reversed(recent) if i.unresolved and not i.is_maintenance]
        maintenance = [self._view(i, lang) for i in recent if i.is_maintenance and i.maintenance_state(now) != "done"]
        groups = []
        for g in self.runbook.components.groups:
            comps = []
            for c in self.runbook.components.components:
                if c.group != g.id:
                    continue
                st = statuses[c.id]
                if c.only_show_if_degraded and st is ComponentStatus.OPERATIONAL:
                    continue
                up = uptime[c.id]
                counts = up.counts
                bad_days = [
                    day_count(status.value, counts[status], lang)
                    for status in (
                        ComponentStatus.MAJOR_OUTAGE,
                        ComponentStatus.PARTIAL_OUTAGE,
                        ComponentStatus.DEGRADED_PERFORMANCE,
                    )
                    if counts.get(status)
                ]
                percent = f"{format_percent(up.percent, lang)} {t['uptime']}"
                comps.append(
                    {
                        "name": self._name(c.name, lang),
                        "status": st.value,
                        "status_label": status_label(st, lang),
                        "uptime_percent": percent,
                        "uptime_days": join_list(bad_days, lang),
                        "uptime_text": "; ".join([percent, *bad_days]),
                        "bars": _bars(up),
                        "charts": self._chart_refs(c, lang, metrics),
                    }
                )
            if comps:
                groups.append({"name": self._name(g.name, lang), "components": comps})
        days = []
        past = [i for i in recent if not i.is_maintenance and not i.unresolved]
        tz = zone(self.settings.time_zone(lang))
        for n in range(RECENT_DAYS):
            moment = now - timedelta(days=n)
            day = moment.astimezone(tz).date()  # the reader's calendar day
            on_day = [self._view(i, lang) for i in reversed(past) if i.started_at.astimezone(tz).date() == day]
            days.append({"label": format_day(moment, lang, self.settings.time_zone(lang)), "incidents": on_day})
        return self._html(
            "index.html.j2",
            lang,
            "index.html",
            now,
            banner={"css": css, "text": t[key], "icon": icon},
            legend=[
                {"status": s.value, "label": status_label(s, lang)}
                for s in (
                    ComponentStatus.OPERATIONAL,
                    ComponentStatus.DEGRADED_PERFORMANCE,
                    ComponentStatus.PARTIAL_OUTAGE,
                    ComponentStatus.MAJOR_OUTAGE,
                )
            ],
            active=active,
            maintenance=maintenance,
            groups=groups,
            past_days=days,
        )

    # --- metrics ------------------------------------------------------------------------------

    def chart_path(self, component_id: str, metric_id: str, window: Window, lang: str) -> str:
        # One folder per language: the publisher lists each folder it writes to.
        return f"{self.prefix(lang)}metrics/{component_id}.{metric_id}.{window.key}.svg"

    def _chart_refs(self, component: Component, lang: str, metrics: MetricsSnapshot | None) -> list[dict[str, str]]:
        """What the index shows under a component: the 24-hour chart (its words as the image's text
        alternative, the summary as a caption when this render has the data) and a link to 7 days."""
        out = []
        day, week = WINDOWS
        w = metric_words(lang)
        for m in component.metrics:
            label = self._name(m.label, lang)
            series = metrics.get(component.id, m.id, day) if metrics else None
            out.append(
                {
                    "src": self.chart_path(component.id, m.id, day, lang),
                    "week": self.chart_path(component.id, m.id, week, lang),
                    "alt": chart_title(label, day, lang),
                    "summary": summary_text(series, m.unit, lang) if series is not None else "",
                    "week_label": w["other_window"],
                }
            )
        return out

    def metric_files(self, metrics: MetricsSnapshot) -> list[SiteFile]:
        """Every chart in every language, and ``api/v2/metrics.json`` (numbers, no CloudWatch names)."""
        files = []
        doc: list[dict[str, Any]] = []
        for component, m in charted(self.runbook):
            entry: dict[str, Any] = {
                "component_id": component.id,
                "metric_id": m.id,
                "label": self._name(m.label, self.default),
                "unit": m.unit,
                "statistic": m.statistic,
                "windows": {},
            }
            for window in WINDOWS:
                series = metrics.get(component.id, m.id, window)
                for lang in self.settings.languages:
                    body = chart_svg(series, self._name(m.label, lang), m.unit, lang, metrics.fetched_at)
                    files.append(
                        SiteFile(self.chart_path(component.id, m.id, window, lang), body, SVG, SHORT_CACHE, STAGE_API)
                    )
                s = summarize(series)
                entry["windows"][window.key] = {
                    "period": window.period,
                    "median": s.median if s else None,
                    "latest": s.latest if s else None,
                    "min": s.low if s else None,
                    "max": s.high if s else None,
                    # [Unix seconds, value]: compact, and what charting libraries take.
                    "points": [[t, round(v, 4)] for t, v in zip(series.epochs, series.values, strict=True)],
                }
            doc.append(entry)
        page = {"id": self.settings.page.id, "name": self.settings.page.name, "url": self.settings.page.url}
        body = _json({"page": page, "updated_at": iso(metrics.fetched_at), "metrics": doc})
        files.append(SiteFile(METRICS_JSON, body, JSON_TYPE, SHORT_CACHE, STAGE_API))
        return files

    # --- what other sites embed ------------------------------------------------------------

    def _embeds(self, statuses: dict[str, ComponentStatus]) -> list[SiteFile]:
        js = banner_js(self.settings.languages, self.default)
        files = [SiteFile(BANNER_PATH, js, "text/javascript; charset=utf-8", SHORT_CACHE, STAGE_ASSET)]
        _, key = overall(statuses)
        worst = max(statuses.values(), key=lambda s: s.badness, default=ComponentStatus.OPERATIONAL)
        for lang in self.settings.languages:
            pre = self.prefix(lang)
            label = embed_text(lang)["status"]
            files.append(
                SiteFile(
                    f"{pre}badge.svg",
                    badge_svg(label, page_text(lang)[key], BADGE_COLOURS[worst]),
                    SVG,
                    SHORT_CACHE,
                    STAGE_API,
                )
            )
            for c in self.runbook.components.components:
                st = statuses[c.id]
                body = badge_svg(self._name(c.name, lang), status_label(st, lang), BADGE_COLOURS[st])
                files.append(SiteFile(f"{pre}badges/{c.id}.svg", body, SVG, SHORT_CACHE, STAGE_API))
        return files

    # --- Statuspage v2 API -------------------------------------------------------------------

    def _api(
        self,
        index: PageIndex,
        shown: dict[str, PageIncident],
        live: list[PageIncident],
        statuses: dict[str, ComponentStatus],
        now: datetime,
    ) -> list[SiteFile]:
        page_id = self.settings.page.id
        page = {
            "id": page_id,
            "name": self.settings.page.name,
            "url": self.settings.page.url,
            "time_zone": self.settings.page.time_zone,
            "updated_at": iso(now),
        }
        epoch = iso(index.epoch) if index.epoch else iso(now)
        last_change = {cid: iso(at) for cid, at in index.last_change.items()}
        components: list[dict[str, Any]] = []
        position = 0
        for g in self.runbook.components.groups:
            members = [c for c in self.runbook.components.components if c.group == g.id]
            position += 1
            worst = max(
                (statuses[c.id] for c in members),
                key=lambda s: s.badness,
                default=ComponentStatus.OPERATIONAL,
            )
            components.append(
                {
                    "id": g.id,
                    "name": self._name(g.name, self.default),
                    "status": worst.value,
                    "created_at": epoch,
                    "updated_at": max([last_change.get(c.id, epoch) for c in members] or [epoch]),
                    "position": position,
                    "description": self._name(g.description, self.default) or None,
                    "showcase": False,
                    "start_date": None,
                    "group_id": None,
                    "page_id": page_id,
                    "group": True,
                    "only_show_if_degraded": False,
                    "components": [c.id for c in members],
                }
            )
            for c in members:
                position += 1
                components.append(self._component(c.id, statuses[c.id], position, epoch, last_change, page_id))
        by_id = {c["id"]: c for c in components}

        def incident(inc: PageIncident) -> dict[str, Any]:
            doc: dict[str, Any] = {
                "id": inc.id,
                "name": inc.name.get(self.default, inc.id),
                "status": inc.status,
                "created_at": iso(inc.created_at),
                "updated_at": iso(inc.updated_at),
                "monitoring_at": iso(inc.monitoring_at) if inc.monitoring_at else None,
                "resolved_at": iso(inc.resolved_at) if inc.resolved_at else None,
                "impact": inc.impact,
                "shortlink": f"{self.base}incidents/{inc.id}.html",
                "started_at": iso(inc.started_at),
                "page_id": page_id,
                "incident_updates": [
                    {
                        "id": u.id,
                        "status": u.status,
                        "body": u.body.get(self.default, ""),
                        "incident_id": inc.id,
                        "created_at": iso(u.created_at),
                        "updated_at": iso(u.created_at),
                        "display_at": iso(u.created_at),
                        "affected_components": [a.model_dump(mode="json") for a in u.affected_components] or None,
                        "deliver_notifications": True,
                        "custom_tweet": None,
                        "tweet_id": None,
                    }
                    for u in reversed(inc.updates)
                ],
                "components": [by_id[c] for c in inc.components if c in by_id],
            }
            if not inc.is_maintenance:
                report = inc.report.get(self.default, "")
                doc["postmortem_body"] = report or None
                doc["postmortem_body_last_updated_at"] = iso(inc.report_at) if inc.report_at else None
                doc["postmortem_published_at"] = iso(inc.report_at) if inc.report_at else None
                doc["postmortem_ignored"] = False
                doc["postmortem_notified_subscribers"] = bool(report)
                doc["postmortem_notified_twitter"] = False
            if inc.is_maintenance:
                doc["scheduled_for"] = iso(inc.scheduled_for) if inc.scheduled_for else None
                doc["scheduled_until"] = iso(inc.scheduled_until) if inc.scheduled_until else None
            return doc

        newest = [shown[r.id] for r in reversed(index.newest) if r.id in shown]
        maint = [shown[r.id] for r in index.maintenance if r.id in shown]
        unresolved = [incident(i) for i in reversed(live) if not i.is_maintenance]
        live_maint = [i for i in live if i.is_maintenance]
        upcoming = [incident(i) for i in live_maint if i.maintenance_state(now) == "upcoming"]
        active = [incident(i) for i in live_maint if i.maintenance_state(now) == "active"]
        indicator, key = overall(statuses)
        status = {"indicator": indicator, "description": page_text(self.default)[key]}
        docs: dict[str, dict[str, Any]] = {
            "api/v2/status.json": {"page": page, "status": status},
            "api/v2/components.json": {"page": page, "components": components},
            "api/v2/incidents.json": {"page": page, "incidents": [incident(i) for i in newest]},
            "api/v2/incidents/unresolved.json": {"page": page, "incidents": unresolved},
            "api/v2/scheduled-maintenances.json": {
                "page": page,
                "scheduled_maintenances": [incident(i) for i in reversed(maint)][:API_INCIDENTS],
            },
            "api/v2/scheduled-maintenances/upcoming.json": {"page": page, "scheduled_maintenances": upcoming},
            "api/v2/scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": active},
            "api/v2/summary.json": {
                "page": page,
                "components": components,
                "incidents": unresolved,
                "scheduled_maintenances": active + upcoming,
                "status": status,
            },
        }
        return [SiteFile(path, _json(doc), JSON_TYPE, SHORT_CACHE, STAGE_API) for path, doc in docs.items()]

    def _component(
        self,
        cid: str,
        status: ComponentStatus,
        position: int,
        epoch: str,
        last_change: dict[str, str],
        page_id: str,
    ) -> dict[str, Any]:
        c = self.runbook.component(cid)
        return {
            "id": c.id,
            "name": self._name(c.name, self.default),
            "status": status.value,
            "created_at": epoch,
            "updated_at": last_change.get(c.id, epoch),
            "position": position,
            "description": self._name(c.description, self.default) or None,
            "showcase": True,
            "start_date": None,
            "group_id": c.group,
            "page_id": page_id,
            "group": False,
            "only_show_if_degraded": c.only_show_if_degraded,
        }


def _json(doc: dict[str, Any]) -> bytes:
    """JSON with <, > and & as \\u escapes: the same strings to every parser, and inert if a widget
    drops a body into HTML without escaping it."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def _bars(up: Uptime) -> list[tuple[str, str]]:
    """SVG strokes, one unit high, for the non-operational days (the operational green is the bar's
    background)."""
    cls = {
        ComponentStatus.DEGRADED_PERFORMANCE: "d",
        ComponentStatus.PARTIAL_OUTAGE: "p",
        ComponentStatus.MAJOR_OUTAGE: "m",
    }
    paths: dict[str, list[str]] = {}
    run_start, run_cls = 0, ""
    for i, status in enumerate([*up.statuses, None]):
        c = cls.get(status, "") if status else ""
        if c != run_cls:
            if run_cls:
                paths.setdefault(run_cls, []).append(f"M{run_start} .5h{i - run_start}")
            run_start, run_cls = i, c
    return [(k, "".join(v)) for k, v in paths.items()]


class PageRenderer(Protocol):
    def render(
        self,
        page: PageSource | list[PageIncident],
        now: datetime,
        state: RenderState | None = None,
        *,
        force: bool = False,
    ) -> RenderResult: ...


class ChartRenderer:
    """What the scheduled metrics function publishes: the charts and ``api/v2/metrics.json`` only,
    through the same publisher (manifest, conditional writes, unchanged files skipped). The page's
    render state passes through untouched."""

    def __init__(self, site: SiteRenderer, metrics: Callable[[], MetricsSnapshot]) -> None:
        self.site = site
        self.metrics = metrics

    def render(
        self,
        page: PageSource | list[PageIncident],
        now: datetime,
        state: RenderState | None = None,
        *,
        force: bool = False,
    ) -> RenderResult:
        return RenderResult(self.site.metric_files(self.metrics()), state or RenderState())
