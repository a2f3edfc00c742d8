"""A person at the desk in a real browser (Debian's chromium driven by playwright-core, installed by
`make test`; no browser download), against `clarion local up`'s server on the embedded emulator:
sign in by the emailed link from the outbox, declare an incident, approve it on the approval page at
375 px, and measure that page (no sideways scrolling, no hidden text, tap targets of 24 px or more).

With CLARION_SCREENSHOTS=docs (`make screenshots`) the screenshots go to docs/ for the README."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clarion.domain.runbooks.model import Runbook
from clarion.handlers.observability import logger
from clarion.local.environment import LocalEnvironment
from clarion.local.moto_glue import EmbeddedMoto
from clarion.local.server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("desk_browser.mjs")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NODE = shutil.which("node")
PLAYWRIGHT = ROOT / "node_modules" / "playwright-core"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or NODE is None or not PLAYWRIGHT.is_dir(),
    reason="needs chromium and playwright-core: run `make test`, which installs both",
)


@pytest.fixture(scope="module")
def local(runbook: Runbook) -> Iterator[str]:
    logger.setLevel("ERROR")
    emulator = EmbeddedMoto().start()
    env = LocalEnvironment(emulator)
    env.provision()
    server = LocalServer(env).start()
    steps, _ = env.wire(runbook, approval_base_url=server.url, time_scale=1 / 3600)
    steps.settings.min_approval_seconds = 600  # a person's time, as `clarion local up` gives
    try:
        yield server.url
    finally:
        server.stop()
        emulator.stop()


@pytest.fixture(scope="module")
def walk(local: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    shots = ROOT / "docs" if os.environ.get("CLARION_SCREENSHOTS") == "docs" else tmp_path_factory.mktemp("shots")
    assert NODE is not None and CHROMIUM is not None
    result = subprocess.run(
        [NODE, str(SCRIPT), local, CHROMIUM, str(shots)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    data["shots"] = shots
    return data


def _step(walk: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in walk["steps"] if s["name"] == name]
    return found


def test_sign_in_by_the_emailed_link_sets_a_strict_http_only_session(walk: dict[str, Any]) -> None:
    assert "a sign-in link is on its way" in _step(walk, "link requested")["notice"]
    signed = _step(walk, "signed in")
    assert "/desk/sign-in?" in signed["href"] and signed["heading"] == "Desk"
    session = signed["session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict" and session["path"] == "/desk"
    assert session["secure"] is False  # plain HTTP on loopback; a function URL (HTTPS) adds Secure


def test_the_desk_form_names_the_components_and_declares(walk: dict[str, Any]) -> None:
    declared = _step(walk, "declared")
    labels = " ".join(declared["components"])
    assert "Online payment" in labels or "Checkout" in labels
    assert "Declared." in declared["done"] and "/desk/incidents/payments-" in declared["url"]
    assert "/approvals/" in _step(walk, "approval waiting")["href"]


def test_the_approval_page_fits_a_phone(walk: dict[str, Any]) -> None:
    page = _step(walk, "approval page at 375 px")
    assert page["clientWidth"] == 375 and page["scrollWidth"] <= 375, page["wide"]
    assert page["hidden"] == [], "text boxes that hide part of their text"
    assert page["small"] == [], "tap targets under 24 px"
    assert "Customers · SMS · Spanish" in page["labels"]
    assert "segment" in page["smsCount"] and "segments" in page["liveCount"]


def test_one_language_edited_asks_before_publishing_then_approves(walk: dict[str, Any]) -> None:
    approved = _step(walk, "approved")
    assert "English" in approved["warning"] and "Spanish" in approved["warning"]
    assert approved["heading"] == "Approved"
    # The page's own script runs under its Content-Security-Policy (HTTP statuses are logged as errors
    # by the browser: the 409 above, the missing favicon).
    assert [e for e in walk["consoleErrors"] if not e.startswith("Failed to load resource")] == []


def test_screenshots_were_taken(walk: dict[str, Any]) -> None:
    for name in ("desk.png", "approval-phone.png", "approval-phone-sms.png"):
        shot = walk["shots"] / name
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_outbox_holds_real_links_and_is_never_cached_or_framed(local: str, walk: dict[str, Any]) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{local}/outbox", timeout=10) as resp:
        body = resp.read().decode()
        assert resp.headers["Cache-Control"] == "no-store" and resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert 'class="button" href="http://127.0.0.1:' in body and "Open the approval page" in body
    assert 'name="viewport"' in body


def _fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_head_answers_with_the_headers_of_get(walk: dict[str, Any]) -> None:
    link = _step(walk, "approval waiting")["href"]  # decided since: the "already approved" page, 409
    status, get_headers, body = _fetch(link)
    head_status, head_headers, head_body = _fetch(link, "HEAD")
    assert status == head_status == 409 and head_body == b"" and len(body) > 500
    assert int(head_headers["Content-Length"]) == len(body) == int(get_headers["Content-Length"])
    assert head_headers["Content-Type"] == get_headers["Content-Type"] == "text/html; charset=utf-8"
    assert head_headers["Cache-Control"] == "no-store"
