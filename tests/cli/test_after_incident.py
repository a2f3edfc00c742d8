"""After the incident, through the CLI on a local mode in this process: the feedback form of a SEV4
incident's page (three GETs and one POST of its action give one answer), and the post-incident report
(`postmortem` in the JSON API)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from clarion.local.environment import LocalEnvironment

from tests.cli.test_ops import as_json, local, run, wait

__all__ = ["local"]


class FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"method": a.get("method"), "action": a.get("action"), "hidden": {}, "buttons": []})
        elif tag == "input" and a.get("type") == "hidden" and self.forms:
            self.forms[-1]["hidden"][a["name"]] = a.get("value") or ""
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append((a.get("name"), a.get("value")))


def page(env: LocalEnvironment, key: str) -> bytes:
    try:
        return bytes(env.client("s3").get_object(Bucket=env.names.page_bucket, Key=key)["Body"].read())
    except env.client("s3").exceptions.NoSuchKey:
        return b""


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_feedback_form_counts_one_post_and_the_report_publishes_postmortem(
    local: LocalEnvironment, tmp_path: Path
) -> None:
    opened = as_json(
        run(
            "incident", "open", "--local", "--json", "--title", "en=Invoices are slow to send",
            "--title", "es=Las facturas tardan en enviarse",
            "--component", "invoicing", "--severity", "SEV4", "--status", "degraded_performance",
        )
    )  # fmt: skip
    inc = opened["id"]
    wait(lambda: b'method="post"' in page(local, f"incidents/{inc}.html"))
    reader = FormReader()
    reader.feed(page(local, f"incidents/{inc}.html").decode())
    (form,) = [f for f in reader.forms if f["method"] == "post"]
    assert form["action"].endswith("/feedback") and ("vote", "yes") in form["buttons"]
    assert form["hidden"]["u"] == "investigating" and form["hidden"]["l"] == "en"
    query = urlencode(form["hidden"])
    assert [fetch(f"{form['action']}?{query}") for _ in range(3)] == [200, 200, 200]  # link scanners
    assert fetch(f"{form['action']}?{query}", method="HEAD") == 200
    assert as_json(run("incident", "show", inc, "--local", "--json"))["feedback"]["responses"] == 0
    body = urlencode({**form["hidden"], "vote": "yes", "comment": "<b>clear</b> & quick"}).encode()
    assert fetch(form["action"], "POST", body) == 200
    assert fetch(form["action"], "POST", body) == 409  # a replay
    assert fetch(form["action"], "POST", b"vote=yes&comment=\xff\xfe") == 400  # not UTF-8
    shown = as_json(run("incident", "show", inc, "--local", "--json"))
    assert shown["feedback"]["responses"] == 1 and shown["feedback"]["yes"] == 1
    assert shown["feedback"]["updates"]["investigating"]["comments"] == 1
    spanish = FormReader()
    spanish.feed(page(local, f"es/incidents/{inc}.html").decode())
    assert [f["hidden"]["l"] for f in spanish.forms if f["method"] == "post"] == ["es"]
    assert b"clear" not in page(local, f"incidents/{inc}.html")  # comments are never published

    report = as_json(run("report", "feedback", "--local", "--json"))
    assert report["phases"]["investigating"]["yes"] == 1
    assert report["comments"][0]["comment"] == "<b>clear</b> & quick"

    en, es = tmp_path / "report.md", tmp_path / "informe.md"
    en.write_text("## What happened\n\nA mail relay slowed down. <script>alert(1)</script>\n\n[More](javascript:x)")
    es.write_text("## Qué ocurrió\n\nUn servidor de correo se volvió lento.")
    refused = run("incident", "report", inc, "--local", "--file", f"en={en}", "--file", f"es={es}")
    assert refused.exit_code == 1 and "javascript" in refused.output  # a link the page would not show
    en.write_text(
        "## What happened\n\nA mail relay slowed down. <script>alert(1)</script>\n\n[Details](https://ex.example/a)"
    )
    early = run("incident", "report", inc, "--local", "--file", f"en={en}", "--file", f"es={es}")
    assert early.exit_code == 1 and "not resolved yet" in early.output
    as_json(run("incident", "resolve", inc, "--local", "--json"))
    wait(lambda: local.workflow_store().get_document(inc, "postmortem.md"))
    missing = run("incident", "report", inc, "--local", "--file", f"en={en}")
    assert missing.exit_code == 1 and "missing es" in missing.output
    done = as_json(run("incident", "report", inc, "--local", "--json", "--file", f"en={en}", "--file", f"es={es}"))
    assert done["report_draft"] == "report-1" and done["approval_required"] is False

    def postmortem() -> dict[str, Any] | None:
        doc = json.loads(page(local, "api/v2/incidents.json") or b"{}")
        found = [i for i in doc.get("incidents", []) if i["id"] == inc]
        return found[0] if found and found[0]["status"] == "postmortem" else None

    api = wait(postmortem)
    assert api["postmortem_body"].startswith("## What happened") and api["postmortem_published_at"]
    html = page(local, f"incidents/{inc}.html").decode()
    assert "<h4>What happened</h4>" in html and "&lt;script&gt;" in html and "<script>alert" not in html
    assert 'href="https://ex.example/a" rel="nofollow noopener noreferrer"' in html
    assert "Qué ocurrió" in page(local, f"es/incidents/{inc}.html").decode()
    wait(lambda: b"What happened" in page(local, "history.atom"))  # feeds are written after the JSON
    unresolved = json.loads(page(local, "api/v2/incidents/unresolved.json"))
    assert inc not in [i["id"] for i in unresolved["incidents"]]
