"""The desk: a web page for the people of ``roles.yaml`` (communications, incident and support
managers) to see open incidents and maintenance, what each audience was told, and to declare, update
and resolve incidents, schedule or cancel maintenance, and reach pending approvals.

Sign-in is passwordless: a person asks for a link by email; only people in ``roles.yaml`` get one,
and every address gets the same answer. The link is signed, short-lived and single-use; opening it
(GET, which email link scanners also do) only shows a button, and the POST behind that button spends
the link and sets the session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS, HMAC-signed,
expiring). Every POST carries a CSRF value bound to the session (or, before sign-in, to a random
pre-session cookie). Requests for links are rate-limited per source address and per address asked
for; actions per person.

Every action goes through the same domain functions as the CLI (``clarion.domain.workflow.manual``),
so the same workflow and approval policy apply, and the timeline names the person.

GET|HEAD /desk                               the overview, or the sign-in form
POST     /desk/sign-in                       email -> a sign-in link by email (same answer for anyone)
GET|HEAD /desk/sign-in?u=&e=&n=&s=           the emailed link: a "Sign in" button, nothing spent
POST     /desk/session                       spends the link, sets the session cookie
POST     /desk/sign-out
GET|HEAD /desk/incidents/<id>                one incident or maintenance: timeline, what was told, forms
POST     /desk/incidents                     declare an incident
POST     /desk/incidents/<id>/update         change status, cause, ETA or severity, post an update
POST     /desk/incidents/<id>/resolve
POST     /desk/maintenance                   schedule maintenance
POST     /desk/maintenance/<id>/cancel
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie
from clarion.domain.approvals.links import ApprovalStatus, link_url
from clarion.domain.enums import ComponentStatus, IncidentKind, IncidentStatus, Severity
from clarion.domain.errors import ClarionError, NotFound
from clarion.domain.incident import Incident, TimelineEntry, text_in
from clarion.domain.messaging.i18n import status_label
from clarion.domain.runbooks.model import Person, Runbook, localized
from clarion.domain.workflow.manual import (
    InvalidRequest,
    MissingTranslation,
    cancel_maintenance,
    complete_texts,
    declare_incident,
    resolve_incident,
    schedule_maintenance,
    update_incident,
)
from clarion.handlers.observability import logger, metrics
from clarion.ports import DeskStore, IncidentStore, Mailer, PageStore, Workflow, WorkflowStore
from clarion.web.render import audience_label, human_time, language_label, render, route_kind_label
from clarion.web.security import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    SIGN_IN_LIFETIME,
    Session,
    cookie,
    cookies_of,
    csrf_for,
    headers,
    read_session,
    same,
    session_value,
    sign_in_params,
    verify_sign_in,
)

SIGN_INS_PER_SOURCE = 10  # link requests per source address an hour
SIGN_INS_PER_ADDRESS = 5  # links sent to one address an hour
ACTIONS_PER_PERSON = 120  # desk actions per person an hour
MAX_BODY = 50_000
HTML = "text/html; charset=utf-8"


@dataclass
class Request:
    """What the desk reads of an HTTP request."""

    cookies: dict[str, str] = field(default_factory=dict)
    source: str = "unknown"
    https: bool = True
    form: dict[str, list[str]] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    origin: str = ""  # scheme and host the request came to, e.g. https://abc.lambda-url.us-east-1.on.aws

    def value(self, name: str) -> str:
        return (self.form.get(name) or [""])[0]

    def values(self, name: str) -> list[str]:
        return self.form.get(name) or []


@dataclass
class Reply:
    status: int
    html: str = ""
    location: str = ""  # a 303 redirect
    cookies: list[Cookie] = field(default_factory=list)


@dataclass
class Desk:
    runbook: Runbook
    store: IncidentStore
    wstore: WorkflowStore
    workflow: Workflow
    mailer: Mailer
    limits: DeskStore
    key: Callable[[], bytes]
    base_url: str = ""  # where emailed links point; empty: the address the request came to (function URL)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    pages: PageStore | None = None  # the status page's model: a cancelled window leaves it at once

    # --- people and sessions -------------------------------------------------------------------

    def person(self, email: str) -> Person | None:
        """The person of ``roles.yaml`` with this address (in any role), or None."""
        wanted = email.strip().lower()
        for p in self.runbook.people_in(list(self.runbook.roles.roles)):
            if p.email.lower() == wanted:
                return p
        return None

    def session(self, req: Request) -> tuple[Session, Person] | None:
        value = req.cookies.get(SESSION_COOKIE, "")
        s = read_session(self.key(), value, self.clock()) if value else None
        person = self.person(s.email) if s else None
        return (s, person) if s and person else None

    def _pre(self, req: Request) -> tuple[str, list[Cookie]]:
        """The pre-session value binding the sign-in forms' CSRF value, and the cookie setting it."""
        pre = req.cookies.get(PRE_SESSION_COOKIE, "")
        if len(pre) == 24 and pre.replace("-", "").replace("_", "").isalnum():
            return pre, []
        pre = secrets.token_urlsafe(18)
        return pre, [cookie(PRE_SESSION_COOKIE, pre, secure=req.https, max_age=3600)]

    def _pre_ok(self, req: Request) -> bool:
        pre = req.cookies.get(PRE_SESSION_COOKIE, "")
        return bool(pre) and same(csrf_for(self.key(), f"pre:{pre}"), req.value("csrf"))

    def base(self, req: Request) -> str:
        return (self.base_url or req.origin).rstrip("/")

    @staticmethod
    def actor(person: Person) -> str:
        return f"{person.name} ({person.email})"

    def _window(self) -> tuple[str, datetime]:
        now = self.clock()
        return now.strftime("%Y%m%d%H"), now + timedelta(hours=2)

    # --- pages ----------------------------------------------------------------------------------

    def _page(self, template: str, status: int = 200, cookies: list[Cookie] | None = None, **ctx: Any) -> Reply:
        return Reply(status, render(template, **ctx), cookies=cookies or [])

    def _result(self, status: int, heading: str, text: str, link: dict[str, str] | None = None) -> Reply:
        return self._page("result.html.j2", status, heading=heading, text=text, link=link)

    def sign_in_form(self, req: Request, status: int = 200, notice: str = "", error: str = "") -> Reply:
        pre, cookies = self._pre(req)
        return self._page(
            "desk_sign_in.html.j2",
            status,
            cookies,
            csrf=csrf_for(self.key(), f"pre:{pre}"),
            notice=notice,
            error=error,
            minutes=int(SIGN_IN_LIFETIME.total_seconds() // 60),
        )

    def home(self, req: Request, status: int = 200, error: str = "", done: str = "") -> Reply:
        signed = self.session(req)
        if signed is None:
            return self.sign_in_form(req)
        s, person = signed
        now = self.clock()
        incidents = [i for i in self.store.list_incidents(open_only=True) if i.kind is IncidentKind.INCIDENT]
        maintenance = [
            m for m in self.store.list_incidents(kind=IncidentKind.MAINTENANCE, limit=50) if m.resolved_at is None
        ]
        return self._page(
            "desk_home.html.j2",
            status,
            **self._common(s, person, now),
            error=error,
            done=done,
            incidents=[self._summary(i, person, now, self.base(req)) for i in incidents],
            maintenance=[self._summary(m, person, now, self.base(req)) for m in maintenance],
            form={k: req.values(k) for k in req.form},
        )

    def incident_page(
        self, req: Request, incident_id: str, status: int = 200, error: str = "", done: str = ""
    ) -> Reply:
        signed = self.session(req)
        if signed is None:
            return self.sign_in_form(req, 401, error="Sign in to see the desk.")
        s, person = signed
        inc = self.store.get_incident(incident_id)
        if inc is None:
            return self._result(404, "No such incident", "There is no incident with this id.", _back())
        now = self.clock()
        timeline = self.store.timeline(inc.id)
        return self._page(
            "desk_incident.html.j2",
            status,
            **self._common(s, person, now),
            error=error,
            done=done,
            inc=self._summary(inc, person, now, self.base(req), timeline),
            timeline=[{"at": human_time(e.at, now), "iso": e.at.isoformat(), "summary": e.summary} for e in timeline],
            told=_told(timeline, now),
        )

    def _common(self, s: Session, person: Person, now: datetime) -> dict[str, Any]:
        rb = self.runbook
        default = rb.settings.default_language
        groups = []
        for g in rb.components.groups:
            comps = [
                {"id": c.id, "name": localized(c.name, default, default)}
                for c in rb.components.components
                if c.group == g.id
            ]
            groups.append({"id": g.id, "name": localized(g.name, default, default), "components": comps})
        severities = [{"value": sev.value, "label": f"{sev.value}: {_policy_summary(rb, sev)}"} for sev in Severity]
        return {
            "person": person,
            "csrf": csrf_for(self.key(), f"session:{s.sid}"),
            "languages": [{"code": lang, "label": language_label(lang)} for lang in rb.settings.languages],
            "groups": groups,
            "severities": severities,
            "component_statuses": [
                {"value": c.value, "label": status_label(c, "en")}
                for c in ComponentStatus
                if c not in (ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE)
            ],
            "incident_statuses": [
                {"value": st.value, "label": status_label(st, "en")}
                for st in IncidentStatus
                if st is not IncidentStatus.RESOLVED
            ],
            "now": now,
            "now_input": now.strftime("%Y-%m-%dT%H:%M"),
        }

    def _summary(
        self, inc: Incident, person: Person, now: datetime, base: str, timeline: list[TimelineEntry] | None = None
    ) -> dict[str, Any]:
        rb = self.runbook
        default = rb.settings.default_language
        timeline = timeline if timeline is not None else self.store.timeline(inc.id)
        names = []
        for cid, st in inc.components.items():
            try:
                name = localized(rb.component(cid).name, default, default)
            except Exception:
                name = cid
            names.append(f"{name} ({status_label(st, 'en').lower()})")
        return {
            "id": inc.id,
            "kind": inc.kind.value,
            "titles": [{"lang": lang, "label": language_label(lang), "text": t} for lang, t in inc.title.items()],
            "title": inc.title.get(default) or next(iter(inc.title.values()), inc.id),
            "severity": inc.severity.value,
            "status": (
                status_label(inc.maintenance_status, "en")
                if inc.maintenance_status
                else "Being resolved"
                if inc.resolution_requested_at and not inc.resolved_at
                else "Resolved"
                if inc.resolved_at
                else status_label(inc.status, "en")
            ),
            "open": inc.is_open,
            "components": ", ".join(names),
            "started": human_time(inc.started_at, now),
            "window": (
                f"{human_time(inc.scheduled_for, now)} to {human_time(inc.scheduled_until, now)}"
                if inc.scheduled_for and inc.scheduled_until
                else ""
            ),
            "drill": inc.drill,
            "cause": _in_languages(inc.cause, rb.settings.languages),
            "eta": _in_languages(inc.eta, rb.settings.languages),
            "impact": _in_languages(getattr(inc, "impact", {}) or {}, rb.settings.languages),
            "pending": self._pending(inc, person, timeline, now, base),
            "told_count": sum(1 for e in timeline if e.kind == "message_sent"),
        }

    def _pending(
        self, inc: Incident, person: Person, timeline: list[TimelineEntry], now: datetime, base: str
    ) -> list[dict[str, Any]]:
        """Approval requests still waiting: a signed link where this person is one of the approvers."""
        out = []
        for e in timeline:
            if e.kind != "approval_requested":
                continue
            request = self.wstore.get_approval(str(e.data.get("approval_id", "")))
            if request is None or request.status is not ApprovalStatus.PENDING or request.expires_at <= now:
                continue
            index = next((i for i, a in enumerate(request.approvers) if a.email.lower() == person.email.lower()), None)
            draft = self.wstore.get_draft(inc.id, request.draft_id)
            out.append(
                {
                    "phase": (draft.phase.value if draft else request.draft_id).replace("_", " "),
                    "expires": human_time(request.expires_at, now),
                    "link": link_url(base, self.key(), request.id, index, request.expires_at)
                    if index is not None
                    else "",
                    "approvers": ", ".join(a.name for a in request.approvers),
                }
            )
        return out

    # --- sign-in --------------------------------------------------------------------------------

    def request_link(self, req: Request) -> Reply:
        if not self._pre_ok(req):
            return self.sign_in_form(req, 403, error="The form had expired. Please enter your address again.")
        window, expires = self._window()
        if not self.limits.hit(f"desk-src:{req.source[:64]}", window, SIGN_INS_PER_SOURCE, expires):
            return self.sign_in_form(req, 429, error="Too many sign-in requests from your address. Try again later.")
        email = req.value("email").strip()[:254]
        if "@" not in email:
            return self.sign_in_form(req, 400, error="Enter your email address.")
        person = self.person(email)
        digest = hashlib.sha256(email.lower().encode()).hexdigest()[:24]
        # Counted for every address, known or not, so the answer is the same for both.
        allowed = self.limits.hit(f"desk-addr:{digest}", window, SIGN_INS_PER_ADDRESS, expires)
        if person is not None and allowed:
            params = sign_in_params(self.key(), person.email, self.clock())
            url = f"{self.base(req)}/desk/sign-in?{urlencode(params)}"
            minutes = int(SIGN_IN_LIFETIME.total_seconds() // 60)
            text = (
                f"{person.name}, here is your link to the Clarion desk. It works once, "
                f"within {minutes} minutes:\n\n{url}\n\nIf you did not ask for it, ignore this email."
            )
            html = render("desk_email.html.j2", person=person, url=url, minutes=minutes)
            self.mailer.send([person.email], "Your sign-in link to the Clarion desk", text, html)
            logger.info("desk sign-in link sent")  # never the address
        return self.sign_in_form(
            req,
            notice=(
                f"If {email} belongs to someone on the incident team, a sign-in link is on its way. "
                f"It works once, within {int(SIGN_IN_LIFETIME.total_seconds() // 60)} minutes."
            ),
        )

    def _check_link(self, params: dict[str, str]) -> tuple[Person | None, str, Reply | None]:
        signed, problem = verify_sign_in(self.key(), params, self.clock())
        if problem == "malformed":
            return (
                None,
                "",
                self._result(400, "This link is incomplete", "Open the link exactly as it was sent.", _back()),
            )
        if problem == "forged":
            return (
                None,
                "",
                self._result(403, "This link is not valid", "It was changed or not issued by Clarion.", _back()),
            )
        if problem == "expired":
            return None, "", self._result(410, "This link has expired", "Ask for a new one on the desk.", _back())
        assert signed is not None
        person = self.person(signed.email)
        if person is None:
            return (
                None,
                "",
                self._result(403, "Not on the incident team", "This address is not in roles.yaml.", _back()),
            )
        return person, signed.nonce, None

    def link_landing(self, req: Request) -> Reply:
        person, _, refusal = self._check_link(req.query)
        if refusal is not None:
            return refusal
        assert person is not None
        pre, cookies = self._pre(req)
        params = {k: req.query.get(k, "") for k in ("u", "e", "n", "s")}
        return self._page(
            "desk_confirm.html.j2",
            cookies=cookies,
            person=person,
            params=params,
            csrf=csrf_for(self.key(), f"pre:{pre}"),
        )

    def start_session(self, req: Request) -> Reply:
        if not self._pre_ok(req):
            return self._result(403, "Please use the sign-in page", "Open the link from the email again.", _back())
        params = {k: req.value(k) for k in ("u", "e", "n", "s")}
        person, nonce, refusal = self._check_link(params)
        if refusal is not None:
            return refusal
        assert person is not None
        expires = datetime.fromtimestamp(int(params["e"]), tz=UTC)
        if not self.limits.claim_once(f"signin:{nonce}", expires + timedelta(minutes=5)):
            return self._result(
                410, "This link was already used", "Each sign-in link works once. Ask for a new one.", _back()
            )
        value = session_value(self.key(), person.email, self.clock())
        metrics.add_metric(name="DeskSignIn", unit="Count", value=1)
        return Reply(
            303,
            location="/desk",
            cookies=[
                cookie(SESSION_COOKIE, value, secure=req.https, max_age=int(SESSION_LIFETIME.total_seconds())),
                cookie(PRE_SESSION_COOKIE, "", secure=req.https, max_age=0),
            ],
        )

    def sign_out(self, req: Request) -> Reply:
        signed = self.session(req)
        if signed and same(csrf_for(self.key(), f"session:{signed[0].sid}"), req.value("csrf")):
            return Reply(303, location="/desk", cookies=[cookie(SESSION_COOKIE, "", secure=req.https, max_age=0)])
        return self._result(403, "Not signed out", "Sign out from the desk's own button.", _back())

    # --- actions --------------------------------------------------------------------------------

    def act(self, req: Request, action: str, incident_id: str = "") -> Reply:
        signed = self.session(req)
        if signed is None:
            return self.sign_in_form(req, 401, error="Your session has ended. Sign in again; nothing was changed.")
        s, person = signed
        if not same(csrf_for(self.key(), f"session:{s.sid}"), req.value("csrf")):
            return self._result(
                403,
                "Please use the desk's forms",
                "The form did not come from your session. Nothing was changed.",
                _back(),
            )
        window, expires = self._window()
        if not self.limits.hit(f"desk-act:{person.email.lower()}", window, ACTIONS_PER_PERSON, expires):
            return self._result(429, "Too many actions", "Please wait a little; nothing was changed.", _back())
        actor, now = self.actor(person), self.clock()
        rb = self.runbook
        try:
            if action == "declare":
                inc = declare_incident(
                    rb,
                    self.store,
                    self.workflow,
                    title=_texts(req, "title", rb, "title"),
                    components=req.values("component"),
                    status=_enum(ComponentStatus, req.value("status"), "status") if req.value("status") else None,
                    severity=_enum(Severity, req.value("severity"), "severity") if req.value("severity") else None,
                    actor=actor,
                    now=now,
                    drill=req.value("drill") == "yes",
                )
                return _see(inc.id, "declared")
            if action == "update":
                inc, _ = update_incident(
                    self.store,
                    self.workflow,
                    incident_id,
                    actor=actor,
                    now=now,
                    status=_enum(IncidentStatus, req.value("status"), "status") if req.value("status") else None,
                    cause=_texts(req, "cause", rb, "cause") or None,
                    eta=_texts(req, "eta", rb, "expected resolution") or None,
                    severity=_enum(Severity, req.value("severity"), "severity") if req.value("severity") else None,
                    publish=req.value("publish") == "yes",
                )
                return _see(inc.id, "updated")
            if action == "resolve":
                inc = resolve_incident(
                    self.store,
                    self.workflow,
                    incident_id,
                    actor=actor,
                    now=now,
                    cause=_texts(req, "rcause", rb, "cause") or None,
                )
                return _see(inc.id, "resolved")
            if action == "schedule":
                m = schedule_maintenance(
                    rb,
                    self.store,
                    self.workflow,
                    title=_texts(req, "title", rb, "title"),
                    components=req.values("component"),
                    start=_utc(req.value("start"), "start"),
                    end=_utc(req.value("end"), "end"),
                    actor=actor,
                    now=now,
                    impact=_texts(req, "impact", rb, "impact") or None,
                )
                return _see(m.id, "scheduled")
            if action == "cancel":
                m = cancel_maintenance(self.store, self.workflow, incident_id, actor=actor, now=now, pages=self.pages)
                self.workflow.stop(f"{m.id}-maintenance", "maintenance cancelled")
                return _see(m.id, "cancelled")
        except NotFound as exc:
            return self._result(404, "Not found", str(exc), _back())
        except (InvalidRequest, ClarionError) as exc:
            if incident_id:
                return self.incident_page(req, incident_id, 400, error=str(exc))
            return self.home(req, 400, error=str(exc))
        return self._result(404, "No such action", "The desk has no such form.", _back())


def _policy_summary(runbook: Runbook, severity: Severity) -> str:
    try:
        policy = runbook.policy(severity)
    except Exception:
        return "no policy"
    parts = ["approval first" if policy.approval.required else "no approval"]
    if policy.update_every:
        parts.append(f"updates every {int(policy.update_every.total_seconds() // 60)} min")
    return ", ".join(parts)


def _texts(req: Request, name: str, runbook: Runbook, what: str) -> dict[str, str]:
    """What a person typed in each language's field (``name:<lang>``): every language or none."""
    given = {lang: req.value(f"{name}:{lang}") for lang in runbook.settings.languages}
    try:
        return complete_texts(runbook, given, option=what)
    except MissingTranslation as exc:
        missing = " and ".join(language_label(x) for x in exc.missing)
        raise InvalidRequest(f"the {what} has no {missing} text; write it in every language") from None


def _in_languages(texts: dict[str, str], languages: list[str]) -> list[dict[str, str]]:
    return [
        {"lang": lang, "label": language_label(lang), "text": text_in(texts, lang)}
        for lang in languages
        if text_in(texts, lang)
    ]


def _enum(kind: Any, value: str, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise InvalidRequest(f"choose a {what} from the list") from None


def _utc(value: str, what: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"the {what} is not a date and time (UTC)") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _see(incident_id: str, done: str) -> Reply:
    return Reply(303, location=f"/desk/incidents/{incident_id}?{urlencode({'done': done})}")


def _back() -> dict[str, str]:
    return {"href": "/desk", "text": "Back to the desk"}


def _told(timeline: list[TimelineEntry], now: datetime) -> list[dict[str, Any]]:
    """What each audience was told, from the deliveries on the timeline, newest first."""
    audiences: dict[str, list[dict[str, Any]]] = {}
    for e in timeline:
        if e.kind == "message_sent":
            route = str(e.data.get("route", ""))
            for m in e.data.get("messages", []):
                audiences.setdefault(str(m.get("audience", "")), []).append(
                    {
                        "at": human_time(e.at, now),
                        "iso": e.at.isoformat(),
                        "route": route_kind_label(route),
                        "language": language_label(str(m.get("language", ""))),
                        "subject": m.get("subject") or "",
                        "body": m.get("body", ""),
                    }
                )
        elif e.kind == "drill_suppressed":
            audiences.setdefault("customers", []).append(
                {
                    "at": human_time(e.at, now),
                    "iso": e.at.isoformat(),
                    "route": "Drill",
                    "language": "",
                    "subject": "",
                    "body": e.summary,
                }
            )
    return [
        {"audience": audience_label(a), "messages": list(reversed(items))} for a, items in sorted(audiences.items())
    ]


def _request(app: LambdaFunctionUrlResolver, with_form: bool) -> Request:
    event = app.current_event
    hdrs = {k.lower(): v for k, v in (event.headers or {}).items()}
    form: dict[str, list[str]] = {}
    if with_form:
        body = event.decoded_body or ""
        if len(body) > MAX_BODY:
            body = ""
        form = parse_qs(body, keep_blank_values=True)
    https = hdrs.get("x-forwarded-proto", "https") == "https"
    return Request(
        cookies=cookies_of(list(event.get("cookies") or [])),
        source=event.request_context.http.source_ip or "unknown",
        https=https,
        origin=f"{'https' if https else 'http'}://{event.request_context.domain_name}",
        form=form,
        query=dict(event.query_string_parameters or {}),
    )


def register(app: LambdaFunctionUrlResolver, get_desk: Callable[[], Desk]) -> None:
    """Add the desk's routes to the approval function's app."""

    def respond(reply: Reply) -> Response[str]:
        metrics.add_metric(name=f"Desk{reply.status}", unit="Count", value=1)
        hdrs = headers()
        if reply.location:
            hdrs["Location"] = reply.location
        return Response(
            status_code=reply.status, content_type=HTML, body=reply.html, headers=hdrs, cookies=reply.cookies
        )

    @app.route("/desk", method=["GET", "HEAD"])
    def home() -> Response[str]:
        req = _request(app, False)
        done = req.query.get("done", "")
        return respond(get_desk().home(req, done=_DONE.get(done, "")))

    @app.route("/desk/sign-in", method=["GET", "HEAD"])
    def landing() -> Response[str]:
        return respond(get_desk().link_landing(_request(app, False)))

    @app.post("/desk/sign-in")
    def sign_in() -> Response[str]:
        return respond(get_desk().request_link(_request(app, True)))

    @app.post("/desk/session")
    def session() -> Response[str]:
        return respond(get_desk().start_session(_request(app, True)))

    @app.post("/desk/sign-out")
    def sign_out() -> Response[str]:
        return respond(get_desk().sign_out(_request(app, True)))

    @app.route("/desk/incidents/<incident_id>", method=["GET", "HEAD"])
    def incident(incident_id: str) -> Response[str]:
        req = _request(app, False)
        done = req.query.get("done", "")
        return respond(get_desk().incident_page(req, incident_id, done=_DONE.get(done, "")))

    @app.post("/desk/incidents")
    def declare() -> Response[str]:
        return respond(get_desk().act(_request(app, True), "declare"))

    @app.post("/desk/incidents/<incident_id>/update")
    def update(incident_id: str) -> Response[str]:
        return respond(get_desk().act(_request(app, True), "update", incident_id))

    @app.post("/desk/incidents/<incident_id>/resolve")
    def resolve(incident_id: str) -> Response[str]:
        return respond(get_desk().act(_request(app, True), "resolve", incident_id))

    @app.post("/desk/maintenance")
    def schedule() -> Response[str]:
        return respond(get_desk().act(_request(app, True), "schedule"))

    @app.post("/desk/maintenance/<incident_id>/cancel")
    def cancel(incident_id: str) -> Response[str]:
        return respond(get_desk().act(_request(app, True), "cancel", incident_id))


_LINK_REFUSALS = {
    "malformed": (400, "This link is incomplete", "Open the link exactly as it was sent."),
    "forged": (403, "This link is not valid", "It was changed or was not issued by Clarion. Nobody was signed in."),
    "expired": (410, "This link has expired", "Sign-in links work for a short time only. Ask for a new one."),
    "used": (410, "This link was already used", "Each sign-in link works once. Ask for a new one."),
    "stranger": (403, "Not on the incident team", "This address is not among the people of the runbook's roles."),
}
_DONE = {
    "declared": "Declared. The workflow has started: the team is told at once, and the messages go for approval "
    "as the severity's policy says.",
    "updated": "Updated. If you posted an update, it is being drafted and goes for approval per the policy.",
    "resolved": "Resolving: the resolution messages, the status page and the post-mortem reminder follow.",
    "scheduled": "Scheduled and announced. It starts and completes on schedule.",
    "cancelled": "Cancelled. Whoever was told of the window hears that it is cancelled, and the status page "
    "shows it as cancelled.",
}
