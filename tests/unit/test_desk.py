"""The desk's security and behaviour, through the real Powertools app with function URL events:
sign-in links (forged, replayed, expired, for someone not in roles.yaml), the session cookie
(attributes, tampering, expiry), CSRF (missing, from another session), rate limits, and actions that
go through the same domain functions as the CLI with the person's name on the timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from clarion.domain.approvals.desk import ApprovalDesk
from clarion.domain.enums import IncidentKind, Severity
from clarion.domain.incident import Incident
from clarion.domain.runbooks.model import Runbook
from clarion.web.app import build_app
from clarion.web.desk import SIGN_INS_PER_ADDRESS, SIGN_INS_PER_SOURCE, Desk
from clarion.web.security import SESSION_COOKIE, session_value, sign_in_params

from tests.fakes.channels import RecordingDecider, RecordingMailer
from tests.fakes.desk_store import InMemoryDeskStore
from tests.fakes.page_store import InMemoryPageStore
from tests.fakes.store import InMemoryIncidentStore
from tests.fakes.workflow import RecordingWorkflow
from tests.fakes.workflow_store import InMemoryWorkflowStore

KEY = b"d" * 48
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
HOST = "abc123.lambda-url.us-east-1.on.aws"
BRUNO = "bruno@ledgerly.example"  # communications manager in the sample roles.yaml
ELI = "eli@ledgerly.example"  # incident manager


class Context:
    function_name = "clarion-approvals"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:clarion-approvals"
    aws_request_id = "test"


class Browser:
    """A cookie jar over the app, as a browser would keep it (only cookies for /desk, not expired)."""

    def __init__(self, world: World, source: str = "198.51.100.7") -> None:
        self.world = world
        self.jar: dict[str, str] = {}
        self.source = source
        self.set_cookies: list[str] = []

    def request(self, method: str, path: str, form: dict[str, Any] | None = None) -> dict[str, Any]:
        parts = urlsplit(path)
        body = urlencode(form or {}, doseq=True)
        event = {
            "version": "2.0",
            "rawPath": parts.path,
            "rawQueryString": parts.query,
            "headers": {
                "host": HOST,
                "x-forwarded-proto": "https",
                "content-type": "application/x-www-form-urlencoded",
            },
            "cookies": [f"{k}={v}" for k, v in self.jar.items()],
            "queryStringParameters": dict(parse_qsl(parts.query)) or None,
            "requestContext": {
                "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1", "sourceIp": self.source},
                "domainName": HOST,
                "requestId": "r",
                "routeKey": "$default",
                "stage": "$default",
            },
            "body": body if method == "POST" else None,
            "isBase64Encoded": False,
        }
        resp: dict[str, Any] = self.world.app.resolve(event, Context())  # type: ignore[arg-type]
        self.set_cookies = list(resp.get("cookies") or [])
        for raw in self.set_cookies:
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in raw:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return resp

    def get(self, path: str) -> dict[str, Any]:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, form)

    def csrf(self, path: str = "/desk") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.get(path)["body"])
        assert found, "no CSRF value on the page"
        return found.group(1)

    def sign_in(self, email: str = BRUNO) -> None:
        self.post("/desk/sign-in", {"email": email, "csrf": self.csrf()})
        link = self.world.last_link()
        landing = self.get(link)
        form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', landing["body"]))
        resp = self.post("/desk/session", form)
        assert resp["statusCode"] == 303, resp["body"]


class SpyPageStore(InMemoryPageStore):
    """The page model, noting which incidents were refreshed without an update."""

    def __init__(self, store: InMemoryIncidentStore, clock: Any) -> None:
        super().__init__(store, clock)
        self.refreshed: list[Incident] = []

    def refresh(self, incident: Incident, now: datetime) -> bool:
        self.refreshed.append(incident)
        return super().refresh(incident, now)


class World:
    def __init__(self, runbook: Runbook) -> None:
        self.now = NOW
        self.store = InMemoryIncidentStore()
        self.wstore = InMemoryWorkflowStore()
        self.workflow = RecordingWorkflow()
        self.mailer = RecordingMailer()
        self.limits = InMemoryDeskStore()
        self.pages = SpyPageStore(self.store, lambda: self.now)
        self.desk = Desk(
            runbook=runbook,
            store=self.store,
            wstore=self.wstore,
            workflow=self.workflow,
            mailer=self.mailer,
            limits=self.limits,
            key=lambda: KEY,
            clock=lambda: self.now,
            pages=self.pages,
        )
        approvals = ApprovalDesk(
            runbook=runbook,
            store=self.store,
            wstore=self.wstore,
            decider=RecordingDecider(),
            key=lambda: KEY,
            clock=lambda: self.now,
        )
        self.app = build_app(lambda: approvals, lambda: self.desk, clock=lambda: self.now)

    def last_link(self) -> str:
        text = str(self.mailer.sent[-1]["text"])
        found = re.search(r"https://\S+/desk/sign-in\?\S+", text)
        assert found
        return found.group(0).removeprefix(f"https://{HOST}")


@pytest.fixture
def world(runbook: Runbook) -> World:
    return World(runbook)


def _cookie(resp: dict[str, Any], name: str) -> str:
    (found,) = [c for c in resp.get("cookies") or [] if c.startswith(f"{name}=")]
    return str(found)


def test_sign_in_by_emailed_link_sets_a_strict_signed_session_cookie(world: World) -> None:
    b = Browser(world)
    first = b.get("/desk")
    assert first["statusCode"] == 200 and "Email me a sign-in link" in first["body"]
    pre = _cookie(first, "clarion_pre")
    assert "HttpOnly" in pre and "SameSite=Strict" in pre and "Secure" in pre and "Path=/desk" in pre
    answer = b.post("/desk/sign-in", {"email": "Bruno@Ledgerly.example", "csrf": b.csrf()})
    assert answer["statusCode"] == 200 and "a sign-in link is on its way" in answer["body"]
    (mail,) = world.mailer.sent
    assert mail["to"] == [BRUNO] and f"https://{HOST}/desk/sign-in?" in str(mail["text"])
    link = world.last_link()
    for _ in range(3):  # a link scanner's GETs spend nothing
        landing = b.get(link)
        assert landing["statusCode"] == 200 and "Bruno Duarte" in landing["body"] and SESSION_COOKIE not in b.jar
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', landing["body"]))
    resp = b.post("/desk/session", form)
    assert resp["statusCode"] == 303 and resp["headers"]["Location"] == "/desk"
    session = _cookie(resp, SESSION_COOKIE)
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/desk", "Max-Age=28800"):
        assert attribute in session
    home = b.get("/desk")
    assert "Declare an incident" in home["body"] and "Bruno Duarte" in home["body"]
    assert "Checkout" in home["body"] and 'name="component" value="checkout-api"' in home["body"]


def test_a_replayed_sign_in_link_is_refused(world: World) -> None:
    b = Browser(world)
    b.sign_in()
    link = world.last_link()
    other = Browser(world, source="203.0.113.9")  # someone who got hold of the used link
    landing = other.get(link)
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', landing["body"]))
    replay = other.post("/desk/session", form)
    assert replay["statusCode"] == 410 and "already used" in replay["body"] and SESSION_COOKIE not in other.jar


@pytest.mark.parametrize("field", ["u", "e", "n", "s"])
def test_a_forged_sign_in_link_is_refused(world: World, field: str) -> None:
    b = Browser(world)
    b.post("/desk/sign-in", {"email": BRUNO, "csrf": b.csrf()})
    params = dict(parse_qsl(urlsplit(world.last_link()).query))
    tampered = {
        "u": "ZWxpQGxlZGdlcmx5LmV4YW1wbGU",  # eli@ledgerly.example: someone else's address
        "e": str(int(params["e"]) + 86_400),  # a longer life
        "n": "another-nonce",
        "s": params["s"][:-1] + ("0" if params["s"][-1] != "0" else "1"),
    }
    forged = {**params, field: tampered[field]}
    assert b.get(f"/desk/sign-in?{urlencode(forged)}")["statusCode"] == 403
    resp = b.post("/desk/session", {**forged, "csrf": b.csrf()})
    assert resp["statusCode"] == 403 and SESSION_COOKIE not in b.jar


def test_a_link_signed_with_another_key_is_refused(world: World) -> None:
    b = Browser(world)
    params = sign_in_params(b"another key" * 4, BRUNO, NOW)
    assert b.get(f"/desk/sign-in?{urlencode(params)}")["statusCode"] == 403


def test_an_expired_sign_in_link_is_refused(world: World) -> None:
    b = Browser(world)
    b.post("/desk/sign-in", {"email": BRUNO, "csrf": b.csrf()})
    link = world.last_link()
    landing = b.get(link)
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', landing["body"]))
    world.now = NOW + timedelta(minutes=16)
    assert b.get(link)["statusCode"] == 410
    resp = b.post("/desk/session", form)
    assert resp["statusCode"] == 410 and "expired" in resp["body"] and SESSION_COOKIE not in b.jar


def test_someone_not_in_roles_gets_the_same_answer_and_no_email(world: World) -> None:
    b = Browser(world)
    known = b.post("/desk/sign-in", {"email": BRUNO, "csrf": b.csrf()})
    stranger = b.post("/desk/sign-in", {"email": "mallory@example.com", "csrf": b.csrf()})
    assert known["statusCode"] == stranger["statusCode"] == 200
    assert known["body"].replace(BRUNO, "X") == stranger["body"].replace("mallory@example.com", "X")
    assert [m["to"] for m in world.mailer.sent] == [[BRUNO]]
    # A correctly signed link for a stranger (say, someone since removed from roles.yaml) opens nothing.
    params = sign_in_params(KEY, "mallory@example.com", NOW)
    assert b.get(f"/desk/sign-in?{urlencode(params)}")["statusCode"] == 403
    assert b.post("/desk/session", {**params, "csrf": b.csrf()})["statusCode"] == 403
    # And a validly signed session cookie for a stranger is no session.
    b.jar[SESSION_COOKIE] = session_value(KEY, "mallory@example.com", NOW)
    assert "Email me a sign-in link" in b.get("/desk")["body"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v.replace(v.split(".")[0], "ZWxpQGxlZGdlcmx5LmV4YW1wbGU"),  # another person's address
        lambda v: ".".join([*v.split(".")[:2], str(int(v.split(".")[2]) + 86_400), v.split(".")[3]]),  # longer life
        lambda v: v[:-1] + ("0" if v[-1] != "0" else "1"),  # the signature
        lambda v: session_value(b"another key" * 4, BRUNO, NOW),  # signed with another key
        lambda v: "garbage",
    ],
)
def test_a_tampered_session_cookie_is_no_session(world: World, tamper: Any) -> None:
    b = Browser(world)
    b.sign_in()
    assert "Declare an incident" in b.get("/desk")["body"]
    csrf = b.csrf()
    b.jar[SESSION_COOKIE] = tamper(b.jar[SESSION_COOKIE])
    assert "Email me a sign-in link" in b.get("/desk")["body"]
    resp = b.post("/desk/incidents", _declare_form(csrf))
    assert resp["statusCode"] == 401 and world.store.list_incidents() == []


def test_a_session_expires(world: World) -> None:
    b = Browser(world)
    b.sign_in()
    world.now = NOW + timedelta(hours=8, seconds=1)
    assert "Email me a sign-in link" in b.get("/desk")["body"]


def _declare_form(csrf: str | None, **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title:en": "Card payments fail",
        "title:es": "Fallan los pagos con tarjeta",
        "component": ["checkout-api"],
        "status": "partial_outage",
        "severity": "SEV3",
        **extra,
    }
    if csrf is not None:
        form["csrf"] = csrf
    return form


def test_a_post_without_csrf_or_with_another_sessions_csrf_changes_nothing(world: World) -> None:
    bruno, eli = Browser(world), Browser(world, source="192.0.2.4")
    bruno.sign_in(BRUNO)
    eli.sign_in(ELI)
    missing = bruno.post("/desk/incidents", _declare_form(None))
    assert missing["statusCode"] == 403
    foreign = bruno.post("/desk/incidents", _declare_form(eli.csrf()))
    assert foreign["statusCode"] == 403
    # Even the same person's value from an earlier session is refused.
    earlier = bruno.csrf()
    assert bruno.post("/desk/sign-out", {"csrf": earlier})["statusCode"] == 303 and SESSION_COOKIE not in bruno.jar
    bruno.sign_in(BRUNO)
    assert bruno.post("/desk/incidents", _declare_form(earlier))["statusCode"] == 403
    assert world.store.list_incidents() == [] and world.workflow.calls == 0
    # The sign-in form's CSRF value is bound to the pre-session cookie.
    stranger = Browser(world, source="192.0.2.9")
    assert stranger.post("/desk/sign-in", {"email": BRUNO, "csrf": bruno.csrf()})["statusCode"] == 403
    # Sign-out needs it too.
    assert bruno.post("/desk/sign-out", {"csrf": earlier})["statusCode"] == 403 and SESSION_COOKIE in bruno.jar


def test_sign_in_requests_are_rate_limited(world: World) -> None:
    b = Browser(world)
    for _ in range(SIGN_INS_PER_ADDRESS + 2):
        assert b.post("/desk/sign-in", {"email": BRUNO, "csrf": b.csrf()})["statusCode"] == 200
    assert len(world.mailer.sent) == SIGN_INS_PER_ADDRESS  # the answer stays the same; no more emails
    for _ in range(SIGN_INS_PER_SOURCE - SIGN_INS_PER_ADDRESS - 2):
        b.post("/desk/sign-in", {"email": "x@example.com", "csrf": b.csrf()})
    limited = b.post("/desk/sign-in", {"email": ELI, "csrf": b.csrf()})
    assert limited["statusCode"] == 429 and len(world.mailer.sent) == SIGN_INS_PER_ADDRESS


def test_declare_goes_through_the_domain_with_the_persons_name(world: World) -> None:
    b = Browser(world)
    b.sign_in()
    resp = b.post("/desk/incidents", _declare_form(b.csrf()))
    assert resp["statusCode"] == 303
    (inc,) = world.store.list_incidents()
    assert resp["headers"]["Location"] == f"/desk/incidents/{inc.id}?done=declared"
    assert inc.title == {"en": "Card payments fail", "es": "Fallan los pagos con tarjeta"}
    assert inc.severity is Severity.SEV3 and list(inc.components) == ["checkout-api"]
    assert world.workflow.signals(inc.id) == ["open"]
    (opened,) = [e for e in world.store.timeline(inc.id) if e.kind == "opened"]
    assert opened.actor == f"Bruno Duarte ({BRUNO})" and "Bruno Duarte" in opened.summary
    page = b.get(resp["headers"]["Location"])
    assert "Declared." in page["body"] and "Fallan los pagos con tarjeta" in page["body"]


def test_update_resolve_and_maintenance_from_the_desk(world: World) -> None:
    b = Browser(world)
    b.sign_in(ELI)
    b.post("/desk/incidents", _declare_form(b.csrf()))
    (inc,) = world.store.list_incidents()
    path = f"/desk/incidents/{inc.id}"
    half = b.post(f"{path}/update", {"csrf": b.csrf(path), "status": "identified", "cause:en": "a bad deploy"})
    assert half["statusCode"] == 400 and "the cause has no Spanish text" in half["body"]
    form = {"csrf": b.csrf(path), "status": "identified", "cause:en": "a bad deploy", "cause:es": "una mala versión"}
    updated = b.post(f"{path}/update", form)
    assert updated["statusCode"] == 303
    inc = world.store.get_incident(inc.id)  # type: ignore[assignment]
    assert inc is not None and inc.status.value == "identified"
    assert inc.cause == {"en": "a bad deploy", "es": "una mala versión"}
    assert "una mala versión" in b.get(path)["body"]
    assert b.post(f"{path}/resolve", {"csrf": b.csrf(path)})["statusCode"] == 303
    assert "resolve" in world.workflow.signals(inc.id)
    start = (NOW + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = (NOW + timedelta(days=1, hours=2)).strftime("%Y-%m-%dT%H:%M")
    form = {"csrf": b.csrf(), "title:en": "Login upgrade", "title:es": "Actualización del inicio de sesión"}
    scheduled = b.post("/desk/maintenance", {**form, "component": ["login"], "start": start, "end": end})
    assert scheduled["statusCode"] == 303
    (m,) = world.store.list_incidents(kind=IncidentKind.MAINTENANCE)
    assert m.scheduled_for == NOW + timedelta(days=1) and m.title["es"] == "Actualización del inicio de sesión"
    mpath = f"/desk/incidents/{m.id}"
    assert b.post(f"/desk/maintenance/{m.id}/cancel", {"csrf": b.csrf(mpath)})["statusCode"] == 303
    assert world.workflow.stopped == [f"{m.id}-maintenance"]
    # Whoever was told hears of it (the cancel signal), and the page model follows at once.
    assert "cancel" in world.workflow.signals(m.id)
    assert [(i.id, i.cancelled_at is not None) for i in world.pages.refreshed] == [(m.id, True)]
    by_person = {e.kind: e.actor for e in world.store.timeline(m.id) if e.actor != "intake"}
    assert by_person == {
        "maintenance_scheduled": f"Eli Novak ({ELI})",
        "maintenance_cancelled": f"Eli Novak ({ELI})",
    }


def test_a_mistake_is_named_and_nothing_changes(world: World) -> None:
    b = Browser(world)
    b.sign_in()
    spanning = b.post("/desk/incidents", _declare_form(b.csrf(), component=["checkout-api", "login"]))
    assert spanning["statusCode"] == 400 and "span the groups" in spanning["body"]
    no_spanish = b.post("/desk/incidents", _declare_form(b.csrf(), **{"title:es": " "}))
    assert no_spanish["statusCode"] == 400 and "the title has no Spanish text" in no_spanish["body"]
    assert world.store.list_incidents() == []


def test_pending_approvals_link_to_the_approval_page_for_approvers(world: World, runbook: Runbook) -> None:
    from clarion.domain.workflow.service import WorkflowService, WorkflowSettings

    from tests.fakes.channels import RecordingNotifier

    b = Browser(world)
    b.sign_in()
    b.post("/desk/incidents", _declare_form(b.csrf(), severity="SEV2"))
    (inc,) = world.store.list_incidents()
    service = WorkflowService(
        runbook=runbook,
        store=world.store,
        wstore=world.wstore,
        notifier=RecordingNotifier(),
        mailer=RecordingMailer(),
        deliveries={},
        workflow=world.workflow,
        key=lambda: KEY,
        settings=WorkflowSettings(approval_base_url=f"https://{HOST}"),
        clock=lambda: world.now,
    )
    service.draft(inc.id, "investigating", "investigating")
    service.request_approval(inc.id, "investigating", token="T")
    home = b.get("/desk")["body"]
    link = re.search(r'href="https://[^"]+(/approvals/[^"]+)"', home)
    assert link and "Review and approve" in home
    page = b.get(link.group(1).replace("&amp;", "&"))
    assert page["statusCode"] == 200 and "Approve what customers will read" in page["body"]
    head = b.request("HEAD", link.group(1).replace("&amp;", "&"))
    assert head["statusCode"] == 200 and head["body"] == ""
    assert head["headers"]["Content-Length"] == str(len(page["body"].encode()))
    assert head["headers"]["Content-Security-Policy"] == page["headers"]["Content-Security-Policy"]
    other = Browser(world, source="192.0.2.5")
    other.sign_in("dana@ledgerly.example")  # the support manager is not an approver
    assert "Review and approve" not in other.get("/desk")["body"]


def test_desk_pages_are_never_cached_or_framed_and_escape_what_people_typed(world: World) -> None:
    b = Browser(world)
    b.sign_in()
    b.post("/desk/incidents", _declare_form(b.csrf(), **{"title:en": "<script>alert(1)</script>"}))
    (inc,) = world.store.list_incidents()
    for path in ("/desk", f"/desk/incidents/{inc.id}"):
        resp = b.get(path)
        h = resp["headers"]
        assert h["Cache-Control"] == "no-store" and h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer" and "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert (
            "<script>alert(1)</script>" not in resp["body"] and "&lt;script&gt;alert(1)&lt;/script&gt;" in resp["body"]
        )


def test_declare_without_titles_takes_the_rules_title_and_defaults(world: World) -> None:
    b = Browser(world)
    b.sign_in()
    form = {"csrf": b.csrf(), "component": ["checkout-api"], "title:en": "", "title:es": ""}
    assert b.post("/desk/incidents", {**form, "status": "", "severity": ""})["statusCode"] == 303
    (inc,) = world.store.list_incidents()
    assert inc.title["es"] == "Fallos en el pago de facturas en línea" and inc.severity is Severity.SEV2
