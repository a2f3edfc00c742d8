"""A real browser reads the rendered page: headless Chromium (Debian's package, installed by
`make test` where missing) loads it from a loopback server."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clarion.domain.runbooks.model import Runbook
from clarion.status_page.render import SiteRenderer
from clarion.status_page.sample import sample_history

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--log-level=0",
]
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: run `make test`, which installs it"
)


def write_site(runbook: Runbook, folder: Path, now: datetime) -> None:
    for f in SiteRenderer(runbook).render(sample_history(runbook, now), now).files:
        (folder / f.path).parent.mkdir(parents=True, exist_ok=True)
        (folder / f.path).write_bytes(f.body)


@pytest.fixture(scope="module")
def served(runbook: Runbook, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("site")
    write_site(runbook, folder, datetime(2026, 11, 23, 14, 5, tzinfo=UTC))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def browse(url: str, tmp: Path, *extra: str) -> tuple[str, str]:
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *extra, url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout, result.stderr


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.parametrize(
    ("path", "banner"),
    [("/index.html", "Major service outage"), ("/es/index.html", "Interrupción grave del servicio")],
)
def test_page_loads_without_console_errors_and_shows_the_banner(
    served: str, tmp_path: Path, path: str, banner: str
) -> None:
    dom, stderr = browse(served + path, tmp_path, "--dump-dom")
    assert console_lines(stderr) == []
    match = re.search(r'<p class="banner[^"]*" role="status">(.*?)</p>', dom, re.S)
    assert match and banner in match.group(1)
    # Times are written in the language's zone with its name; no script rewrites them in the browser.
    zone = "EST" if path == "/index.html" else "(hora de Colombia)"
    assert re.search(r'<time datetime="[^"]+">[^<]+' + re.escape(zone) + "</time>", dom)


def test_incident_page_and_history_load(served: str, tmp_path: Path) -> None:
    dom, stderr = browse(served + "/history/index.html", tmp_path, "--dump-dom")
    assert console_lines(stderr) == []
    link = re.search(r'href="\.\./(incidents/[^"]+\.html)"', dom)
    assert link
    detail, stderr = browse(f"{served}/{link.group(1)}", tmp_path, "--dump-dom")
    assert console_lines(stderr) == [] and '<h2 id="i-' in detail  # headed by the incident's title


def test_screenshot(served: str, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    browse(served + "/index.html", tmp_path, "--window-size=1100,1500", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
