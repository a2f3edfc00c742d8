"""What the page offers beyond itself: badges, the banner script, metric charts and metrics.json."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clarion.domain.errors import RunbookError
from clarion.domain.metrics import WINDOWS, MetricsSnapshot, Series, format_value, summarize, summary_text
from clarion.domain.runbooks.model import Runbook
from clarion.status_page.charts import chart_svg, scale
from clarion.status_page.embed import BANNER_LIMIT, badge_svg, text_width
from clarion.status_page.render import METRICS_JSON, ChartRenderer, RenderState, SiteRenderer
from clarion.status_page.sample import sample_history, sample_metrics

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
SVG_NS = "{http://www.w3.org/2000/svg}"
DAY = WINDOWS[0]


def _files(runbook: Runbook, **kw: Any) -> dict[str, bytes]:
    history = sample_history(runbook, NOW, past=kw.pop("past", 5), active=kw.pop("active", 2), maintenance=0)
    return {f.path: f.body for f in SiteRenderer(runbook).render(history, NOW, **kw).files}


# --- badges ------------------------------------------------------------------------------------


def test_badges_say_the_status_in_words_in_every_language(runbook: Runbook) -> None:
    files = _files(runbook)
    summary = json.loads(files["api/v2/summary.json"])
    statuses = {c["id"]: c["status"] for c in summary["components"] if not c["group"]}
    labels = {"operational": "Operational", "major_outage": "Major outage", "partial_outage": "Partial outage"}
    for cid, status in statuses.items():
        svg = ET.fromstring(files[f"badges/{cid}.svg"])
        title = svg.find(f"{SVG_NS}title")
        assert title is not None and title.text is not None
        assert svg.get("role") == "img" and svg.get("aria-label") == title.text
        texts = [t.text for t in svg.iter(f"{SVG_NS}text")]
        assert texts[0] == runbook.component(cid).name["en"]  # type: ignore[index]
        if status in labels:
            assert texts[1] == labels[status]
        assert ET.fromstring(files[f"es/badges/{cid}.svg"]).find(f"{SVG_NS}title") is not None
    overall = ET.fromstring(files["badge.svg"])
    assert [t.text for t in overall.iter(f"{SVG_NS}text")] == ["status", summary["status"]["description"]]
    es = ET.fromstring(files["es/badge.svg"])
    assert next(t.text for t in es.iter(f"{SVG_NS}text")) == "estado"


def test_badge_escapes_and_grows_with_its_text() -> None:
    svg = badge_svg("<b>&", "ok", "#2e7d32").decode()
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    ET.fromstring(svg)
    assert text_width("Major outage") > text_width("ok")
    short, long = (int(ET.fromstring(badge_svg("s", m, "#000")).get("width", "0")) for m in ("ok", "major outage"))
    assert long > short


# --- the banner script ------------------------------------------------------------------------


def test_banner_script_carries_every_language_and_stays_small(runbook: Runbook) -> None:
    js = _files(runbook)["embed/banner.js"].decode()
    assert len(js.encode()) < BANNER_LIMIT
    texts = json.loads(re.search(r"T = (\{.*?\}\}), D", js).group(1))  # type: ignore[union-attr]
    assert set(texts) == {"en", "es"}
    assert texts["es"]["critical"] == "Interrupción grave del servicio"
    assert texts["es"]["dismiss"] == "Cerrar el aviso de estado"
    assert 'D = "en"' in js
    assert "cookie" not in js.lower().split("*/", 1)[1] and "Storage" not in js


# --- metrics: the runbook ------------------------------------------------------------------------


def _with_metrics(runbook: Runbook, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    doc = runbook.model_dump()
    doc["components"]["components"][1]["metrics"] = metrics
    return doc


def test_runbook_metrics_are_validated(runbook: Runbook) -> None:
    ok = {"id": "t", "namespace": "N", "name": "M", "unit": "Milliseconds", "label": {"en": "Time", "es": "Tiempo"}}
    Runbook.model_validate(_with_metrics(runbook, [ok]))
    with pytest.raises(ValueError, match="not a statistic"):
        Runbook.model_validate(_with_metrics(runbook, [ok | {"statistic": "Median"}]))
    with pytest.raises(ValueError, match="at most 2"):
        Runbook.model_validate(_with_metrics(runbook, [ok | {"id": f"m{i}"} for i in range(3)]))
    with pytest.raises(ValueError, match="duplicate metric id 't'"):
        Runbook.model_validate(_with_metrics(runbook, [ok, ok]))
    with pytest.raises(ValueError, match="no label in es"):
        Runbook.model_validate(_with_metrics(runbook, [ok | {"label": {"en": "Time"}}]))
    with pytest.raises(ValueError, match="unit"):
        Runbook.model_validate(_with_metrics(runbook, [ok | {"unit": "Furlongs"}]))
    Runbook.model_validate(_with_metrics(runbook, [ok | {"statistic": "p99.9"}]))


def test_metrics_in_components_yaml_are_reported_by_file(tmp_path: Any) -> None:
    import shutil

    from clarion.runbook_loader import load_runbook

    from tests.conftest import RUNBOOKS

    shutil.copytree(RUNBOOKS, tmp_path / "rb")
    path = tmp_path / "rb" / "components.yaml"
    path.write_text(path.read_text().replace("statistic: Average", "statistic: median", 1))
    with pytest.raises(RunbookError) as info:
        load_runbook(tmp_path / "rb")
    assert any("components.yaml" in str(p) and "not a statistic" in str(p) for p in info.value.problems)


# --- metrics: words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "lang", "text"),
    [
        (120.4, "Milliseconds", "en", "120 ms"),
        (1234.6, "Milliseconds", "es", "1235 ms"),
        (0.42, "Seconds", "es", "0,42 s"),
        (99.953, "Percent", "en", "99.95%"),
        (99.953, "Percent", "es", "99,95\xa0%"),
        (12345.0, "Count", "en", "12,345"),
        (3.25, "Count/Second", "es", "3,25 por segundo"),
    ],
)
def test_values_read_naturally_in_each_language(value: float, unit: str, lang: str, text: str) -> None:
    assert format_value(value, unit, lang).replace("\u202f", " ") in (text, text.replace("1235", "1.235"))


def test_summary_is_the_median_and_the_latest_point() -> None:
    points = [(NOW - timedelta(minutes=5 * (5 - i)), v) for i, v in enumerate([100.0, 140.0, 120.0, 90.0, 118.0])]
    series = Series("web-app", "rt", DAY, points)
    s = summarize(series)
    assert s is not None and (s.median, s.latest, s.low, s.high) == (118.0, 118.0, 90.0, 140.0)
    assert summary_text(series, "Milliseconds", "en") == "median 118 ms, now 118 ms"
    assert summary_text(series, "Milliseconds", "es") == "mediana 118 ms, ahora 118 ms"
    assert summary_text(Series("web-app", "rt", DAY, []), "Milliseconds", "es") == "no hay datos en este periodo"


# --- metrics: charts ---------------------------------------------------------------------------


def test_chart_is_accessible_svg_with_the_summary_in_words() -> None:
    points = [(NOW - timedelta(minutes=5 * (288 - i)), 100.0 + i % 7) for i in range(288)]
    series = Series("web-app", "rt", DAY, points)
    svg = ET.fromstring(chart_svg(series, "Tiempo de respuesta", "Milliseconds", "es", NOW))
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "t d" and svg.get("lang") == "es"
    title, desc = svg.find(f"{SVG_NS}title"), svg.find(f"{SVG_NS}desc")
    assert title is not None and title.text == "Tiempo de respuesta, últimas 24 horas"
    assert desc is not None and desc.text == (
        "Tiempo de respuesta, últimas 24 horas: mediana 103 ms, ahora 100 ms; mínimo 100 ms, máximo 106 ms."
    )
    texts = [t.text for t in svg.iter(f"{SVG_NS}text")]
    assert "Mediana 103 ms, ahora 100 ms" in texts and "hace 24 h" in texts and "ahora" in texts
    (line,) = [p for p in svg.iter(f"{SVG_NS}path") if p.get("class") == "l"]
    assert line.get("d", "").count("L") == 287  # one unbroken line through every point
    assert svg.find(f"{SVG_NS}script") is None


def test_chart_breaks_the_line_over_missing_data_and_says_when_there_is_none() -> None:
    points = [(NOW - timedelta(hours=20), 5.0), (NOW - timedelta(hours=19, minutes=55), 6.0), (NOW, 7.0)]
    svg = chart_svg(Series("c", "m", DAY, points), "Jobs", "Count", "en", NOW).decode()
    assert re.search(r'class="l" d="M[^L]+L[^M]+M[^LM]+"', svg)  # two runs: the gap is not bridged
    empty = ET.fromstring(chart_svg(Series("c", "m", DAY, []), "Jobs", "Count", "en", NOW))
    assert [p for p in empty.iter(f"{SVG_NS}path") if p.get("class") == "l"] == []
    assert "no data in this period" in ET.tostring(empty, encoding="unicode")


def test_value_axis_starts_at_zero_unless_that_flattens_the_line() -> None:
    assert scale([80.0, 160.0])[0] == 0
    low, high = scale([99.5, 99.9])
    assert 99.0 < low < 99.5 and 99.9 < high < 100.0


# --- metrics: the page -------------------------------------------------------------------------


def test_index_shows_each_components_charts_without_javascript(runbook: Runbook) -> None:
    files = _files(runbook, metrics=sample_metrics(runbook, NOW))
    index = files["index.html"].decode()
    imgs = re.findall(r'<figure class="metric"><img src="([^"]+)" alt="([^"]+)"', index)
    assert ("metrics/web-app.response-time.24h.svg", "Response time, last 24 hours") in imgs
    assert len(imgs) == sum(len(c.metrics) for c in runbook.components.components)
    week = 'href="metrics/web-app.response-time.7d.svg"'
    assert re.search(r"<figcaption>Median \d+ ms, now \d+ ms · <a " + week, index)
    es = files["es/index.html"].decode()
    assert '<img src="../es/metrics/web-app.response-time.24h.svg" alt="Tiempo de respuesta, últimas 24 horas"' in es
    assert re.search(r"<figcaption>Mediana \d+ ms, ahora \d+ ms", es)
    for src, _ in imgs:
        assert src in files
        assert f"es/{src}" in files


def test_metrics_json_has_numbers_and_no_cloudwatch_names(runbook: Runbook) -> None:
    snapshot = sample_metrics(runbook, NOW)
    doc = json.loads(_files(runbook, metrics=snapshot)[METRICS_JSON])
    assert doc["updated_at"] == "2026-11-23T14:05:00Z"
    entry = next(m for m in doc["metrics"] if (m["component_id"], m["metric_id"]) == ("public-api", "success-rate"))
    assert entry["label"] == "Successful requests" and entry["unit"] == "Percent"
    day = entry["windows"]["24h"]
    assert day["period"] == 300 and len(day["points"]) == 288
    series = snapshot.get("public-api", "success-rate", DAY)
    assert day["latest"] == series.values[-1] and day["points"][0][1] == series.values[0]
    assert len(entry["windows"]["7d"]["points"]) == 168
    text = json.dumps(doc)
    assert "Ledgerly/API" not in text and "Dimensions" not in text and "SuccessRate" not in text


def test_chart_renderer_publishes_only_charts_and_keeps_the_page_state(runbook: Runbook) -> None:
    site = SiteRenderer(runbook)
    state = RenderState("chrome", NOW, {"1": "k"})
    result = ChartRenderer(site, lambda: sample_metrics(runbook, NOW)).render([], NOW, state)
    assert result.state is state
    paths = {f.path for f in result.files}
    assert METRICS_JSON in paths and all(p == METRICS_JSON or "metrics/" in p for p in paths)
    assert "index.html" not in paths


def test_missing_series_draw_as_no_data(runbook: Runbook) -> None:
    files = _files(runbook, metrics=MetricsSnapshot(NOW))
    assert b"no data in this period" in files["metrics/web-app.response-time.24h.svg"]
    assert "No data in this period" in files["index.html"].decode()


# --- who hears what: embeds and charts show only what the page was told ---------------------------


def test_badges_summary_and_metrics_never_show_a_drill_or_a_never_told_incident(runbook: Runbook) -> None:
    from clarion.domain.enums import ComponentStatus, Phase, Severity
    from clarion.domain.workflow.manual import declare_incident

    from tests.fakes.pipeline import FakePipeline

    p = FakePipeline(runbook)

    def declare(component: str, severity: Severity, drill: bool = False) -> str:
        inc = declare_incident(
            runbook,
            p.store,
            p.workflow,
            title={"en": f"Hidden {component}", "es": f"Oculto {component}"},
            components=[component],
            status=ComponentStatus.MAJOR_OUTAGE,
            severity=severity,
            actor="cli:test",
            now=p.clock(),
            drill=drill,
        )
        p.service.open(inc.id)
        return inc.id

    drill = declare("checkout-api", Severity.SEV1, drill=True)
    p.phase(drill, Phase.INVESTIGATING, "investigating", "approve")
    rejected = declare("login", Severity.SEV2)
    p.phase(rejected, Phase.INVESTIGATING, "investigating", "reject")
    held = declare("eu-region", Severity.SEV3)
    p.phase(held, Phase.INVESTIGATING, "investigating", "timeout")  # SEV3 holds on timeout
    site = SiteRenderer(runbook).render(p.load_page(), p.now, force=True, metrics=sample_metrics(runbook, p.now))
    files = {f.path: f.body for f in site.files}
    summary = json.loads(files["api/v2/summary.json"])
    assert summary["status"]["indicator"] == "none"  # the banner shows nothing
    assert summary["incidents"] == []
    for cid in ("checkout-api", "login", "eu-region"):
        for prefix in ("", "es/"):
            texts = [t.text for t in ET.fromstring(files[f"{prefix}badges/{cid}.svg"]).iter(f"{SVG_NS}text")]
            assert texts[1] in ("Operational", "Operativo"), (cid, texts)
    assert [t.text for t in ET.fromstring(files["badge.svg"]).iter(f"{SVG_NS}text")][1] == (
        summary["status"]["description"]
    )
    for path, body in files.items():
        if path.endswith((".svg", ".js", "metrics.json")):
            text = body.decode()
            for needle in ("Hidden", "Oculto", drill, rejected, held, "DRILL"):
                assert needle not in text, (path, needle)
