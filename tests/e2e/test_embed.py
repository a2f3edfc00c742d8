"""A product's page embeds the status banner: headless Chromium loads a host page from one loopback
origin, the script from the status page's origin (another port, so the summary is a cross-origin
read that needs the CORS headers CloudFront sets), and shows the summary's description."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clarion.domain.runbooks.model import Runbook
from clarion.status_page.embed import BANNER_LIMIT
from clarion.status_page.render import SiteRenderer
from clarion.status_page.sample import sample_history

from tests.e2e.test_browser import CHROMIUM, browse, console_lines

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: run `make test`, which installs it"
)
NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)


class _StatusOrigin(http.server.SimpleHTTPRequestHandler):
    """The page's distribution as CloudFront serves it: CORS on the API, embeds and badges."""

    requests: list[tuple[str, str]]

    def end_headers(self) -> None:
        if self.path.startswith(("/api/", "/embed/", "/badge")):
            self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        self.requests.append((self.path, self.headers.get("Cookie", "")))


def _serve(handler: functools.partial[http.server.BaseHTTPRequestHandler]) -> tuple[str, http.server.HTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def _site(runbook: Runbook, folder: Path, active: int) -> None:
    history = sample_history(runbook, NOW, past=3, active=active, maintenance=0)
    for f in SiteRenderer(runbook).render(history, NOW).files:
        (folder / f.path).parent.mkdir(parents=True, exist_ok=True)
        (folder / f.path).write_bytes(f.body)


@pytest.fixture(scope="module", params=[2, 0], ids=["incident", "all-clear"])
def origins(
    request: pytest.FixtureRequest, runbook: Runbook, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, Path, list[tuple[str, str]]]]:
    site = tmp_path_factory.mktemp("status")
    _site(runbook, site, active=request.param)
    log: list[tuple[str, str]] = []
    handler = type("Handler", (_StatusOrigin,), {"requests": log})
    status_url, status_server = _serve(functools.partial(handler, directory=str(site)))
    host = tmp_path_factory.mktemp("host")
    (host / "index.html").write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Ledgerly app</title></head>"
        "<body><main><h1>Invoices</h1></main>"
        f'<script src="{status_url}/embed/banner.js" async></script></body></html>'
    )
    (host / "es.html").write_text(
        "<!doctype html><html lang='es'><head><meta charset='utf-8'><title>App</title></head>"
        f'<body><div id="clarion-status"></div><main><h1>Facturas</h1></main>'
        f'<script src="{status_url}/embed/banner.js" async></script></body></html>'
    )
    # A person presses the dismiss button as soon as the banner shows.
    (host / "dismiss.html").write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>App</title></head><body><p>App</p>"
        "<script>new MutationObserver(function(){var b=document.querySelector('.clarion-banner button');"
        "if(b){document.body.setAttribute('data-clicked','yes');b.click();}})"
        ".observe(document.body,{childList:true,subtree:true});</script>"
        f'<script src="{status_url}/embed/banner.js" async></script></body></html>'
    )
    host_url, host_server = _serve(
        functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(host))  # type: ignore[arg-type]
    )
    yield host_url, status_url, site, log
    host_server.shutdown()
    status_server.shutdown()


def _banner(dom: str) -> str | None:
    match = re.search(r'<div class="clarion-banner"[^>]*>(.*?)</div>', dom, re.S)
    return match.group(0) if match else None


def test_host_page_shows_the_summary_description_only_while_something_is_wrong(
    origins: tuple[str, str, Path, list[tuple[str, str]]], tmp_path: Path
) -> None:
    host_url, status_url, site, log = origins
    summary = json.loads((site / "api/v2/summary.json").read_text())
    seen = len(log)
    dom, stderr = browse(host_url + "/index.html", tmp_path, "--virtual-time-budget=5000", "--dump-dom")
    assert console_lines(stderr) == []
    banner = _banner(dom)
    if summary["status"]["indicator"] == "none":
        assert banner is None
        assert [p for p, _ in log[seen:]] == ["/embed/banner.js", "/api/v2/summary.json"]
        return
    assert banner is not None
    assert 'role="status"' in banner and f'data-indicator="{summary["status"]["indicator"]}"' in banner
    assert f"<strong>{summary['status']['description']}</strong>" in banner
    for incident in summary["incidents"]:
        assert incident["name"] in banner
    assert f'href="{status_url}/index.html"' in banner
    assert 'aria-label="Dismiss status notice"' in banner and 'type="button"' in banner
    # It read the summary from the status page's own origin, with no cookie, and nothing else.
    assert [p for p, _ in log[seen:]] == ["/embed/banner.js", "/api/v2/summary.json"]
    assert all(cookie == "" for _, cookie in log[seen:])


def test_spanish_host_page_gets_spanish_words_in_its_own_slot(
    origins: tuple[str, str, Path, list[tuple[str, str]]], tmp_path: Path
) -> None:
    host_url, status_url, site, _ = origins
    summary = json.loads((site / "api/v2/summary.json").read_text())
    dom, _ = browse(host_url + "/es.html", tmp_path, "--virtual-time-budget=5000", "--dump-dom")
    banner = _banner(dom)
    if summary["status"]["indicator"] == "none":
        assert banner is None
        return
    assert banner is not None and 'lang="es"' in banner
    assert "Ver la página de estado" in banner and f'href="{status_url}/es/index.html"' in banner
    expected = {"minor": "Interrupción menor", "major": "Interrupción parcial", "critical": "Interrupción grave"}
    assert expected[summary["status"]["indicator"]] in banner
    # Inside the host's slot, before its content.
    assert dom.index('id="clarion-status"') < dom.index("clarion-banner") < dom.index("<h1>Facturas")


def test_dismiss_removes_the_banner(origins: tuple[str, str, Path, list[tuple[str, str]]], tmp_path: Path) -> None:
    host_url, _, site, _ = origins
    if json.loads((site / "api/v2/summary.json").read_text())["status"]["indicator"] == "none":
        pytest.skip("nothing to dismiss on an all-clear page")
    dom, stderr = browse(host_url + "/dismiss.html", tmp_path, "--virtual-time-budget=5000", "--dump-dom")
    assert console_lines(stderr) == []
    assert 'data-clicked="yes"' in dom  # the banner appeared and its button was pressed
    assert _banner(dom) is None


def test_banner_is_small_and_self_contained(runbook: Runbook) -> None:
    files = {f.path: f for f in SiteRenderer(runbook).render(sample_history(runbook, NOW, past=1), NOW).files}
    js = files["embed/banner.js"].body.decode()
    assert len(js.encode()) < BANNER_LIMIT
    assert "document.cookie" not in js and "localStorage" not in js and "sessionStorage" not in js
    # Its only request is the summary, relative to where the script itself was loaded from.
    assert re.findall(r"https?://", js.split("*/", 1)[1]) == []
    assert 'credentials: "omit"' in js or 'credentials:"omit"' in js
