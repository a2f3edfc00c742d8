"""Numbers for what the page offers beyond itself: metric charts, badges and the banner script.

    .venv/bin/python bench/page_reach.py [--runs 5]

* chart render time: every chart of a runbook whose 200 components each chart two metrics
  (200 x 2 metrics x 2 windows x 2 languages = 1,600 SVGs, plus metrics.json), i.e. what the
  scheduled metrics function renders every 5 minutes, and the same per chart;
* page weight: what a browser downloads for the sample runbook's English index (HTML, stylesheet
  and the 24-hour charts it shows), raw and gzip-compressed (CloudFront compresses), without and
  with charts; and the same for the 200-component page;
* the banner script's size, raw and gzipped; a badge's size.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "bench"))

from clarion.domain.runbooks.model import ComponentMetric, ComponentsFile, Runbook  # noqa: E402
from clarion.runbook_loader import load_runbook  # noqa: E402
from clarion.status_page.render import SiteFile, SiteRenderer  # noqa: E402
from clarion.status_page.sample import sample_history, sample_metrics  # noqa: E402
from status_page import big_runbook  # noqa: E402

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


def charted_runbook(components: int = 200) -> Runbook:
    rb = big_runbook(components)
    metrics = [
        ComponentMetric(
            id="response-time",
            namespace="Bench",
            name="ResponseTime",
            unit="Milliseconds",
            label={"en": "Response time", "es": "Tiempo de respuesta"},
        ),
        ComponentMetric(
            id="success-rate",
            namespace="Bench",
            name="SuccessRate",
            unit="Percent",
            label={"en": "Successful requests", "es": "Solicitudes correctas"},
        ),
    ]
    comps = [c.model_copy(update={"metrics": metrics}) for c in rb.components.components]
    return rb.model_copy(update={"components": ComponentsFile(groups=rb.components.groups, components=comps)})


def weight(files: dict[str, SiteFile], index: str = "index.html") -> tuple[int, int, int]:
    """Bytes a first visit downloads (raw, gzip) and how many charts that includes."""
    html = files[index].body
    refs = re.findall(rb'(?:href="([^"]+\.css)"|src="([^"]+\.svg)")', html)
    refs = [a or b for a, b in refs]  # the stylesheet and the images shown (not the 7-day links)
    assets = [files[r.decode()].body for r in refs if r.decode() in files]
    charts = sum(1 for r in refs if r.startswith(b"metrics/"))
    return (
        len(html) + sum(map(len, assets)),
        len(gzip.compress(html)) + sum(len(gzip.compress(a)) for a in assets),
        charts,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    big = charted_runbook(200)
    renderer = SiteRenderer(big)
    snapshot = sample_metrics(big, NOW)
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        files = renderer.metric_files(snapshot)
        times.append(time.perf_counter() - t0)
    svgs = [f for f in files if f.path.endswith(".svg")]
    best, median = min(times), statistics.median(times)
    print(f"charts for 200 components x 2 metrics: {len(svgs)} SVGs + metrics.json")
    print(f"  render: median {median * 1000:.0f} ms, best {best * 1000:.0f} ms ({args.runs} runs)")
    print(
        f"  per chart: {median / len(svgs) * 1e6:.0f} µs; mean SVG {statistics.mean(len(f.body) for f in svgs):.0f} B"
    )
    doc = next(f for f in files if f.path == "api/v2/metrics.json")
    print(f"  metrics.json: {len(doc.body) / 1024:.0f} KB ({len(gzip.compress(doc.body)) / 1024:.0f} KB gzip)")

    rb = load_runbook(ROOT / "runbooks")
    history = sample_history(rb, NOW)
    plain = {f.path: f for f in SiteRenderer(rb).render(history, NOW).files}
    charted = {f.path: f for f in SiteRenderer(rb).render(history, NOW, metrics=sample_metrics(rb, NOW)).files}
    raw0, gz0, _ = weight(plain)
    raw1, gz1, n = weight(charted)
    print("page weight, sample runbook (index.html + stylesheet + the charts it shows):")
    print(f"  without metrics: {raw0 / 1024:.1f} KB raw, {gz0 / 1024:.1f} KB gzip")
    print(f"  with {n} charts: {raw1 / 1024:.1f} KB raw, {gz1 / 1024:.1f} KB gzip (ratio {gz1 / gz0:.2f})")
    big_files = {f.path: f for f in renderer.render(sample_history(big, NOW), NOW, metrics=snapshot).files}
    raw2, gz2, n2 = weight(big_files)
    print(f"  200 components, {n2} charts: {raw2 / 1024:.0f} KB raw, {gz2 / 1024:.0f} KB gzip (charts load lazily)")

    js = charted["embed/banner.js"].body
    badge = charted["badges/web-app.svg"].body
    print(f"banner.js: {len(js)} B raw, {len(gzip.compress(js))} B gzip (budget 5120 B raw)")
    print(f"badge: {len(badge)} B; badge.svg: {len(charted['badge.svg'].body)} B")


if __name__ == "__main__":
    main()
