"""Every function's real paths, in the order an incident runs them: one table, ``PATHS``. Each path
calls the deployed entry point (``lambda_handler``) with the event Lambda would pass, so the code
under test builds its clients, reads its environment and loads its secret exactly as in AWS.

To cover a new function or path, add a row: (function, what it does, a callable taking the
:class:`Run`). A path may read and extend ``run.state`` (the incident id, the approval link)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

from clarion.domain.alarms.events import state_change_event
from clarion.local.context import LocalLambdaContext
from clarion.local.moto_glue import sent_emails

ALARM = "checkout-api-prod-5xx-rate"  # rule checkout-errors: SEV2, approval required
NAMESPACE = "AWS/ApiGateway"


@dataclass
class Run:
    functions: dict[str, str]  # short name -> logical id
    invoke: Callable[[str, dict[str, Any]], Any]  # (short name, event) -> the handler's answer
    state: dict[str, Any] = field(default_factory=dict)
    t0: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))


def url_event(
    method: str, url: str, body: str = "", ip: str = "203.0.113.9", cookies: dict[str, str] | None = None
) -> dict[str, Any]:
    """A Lambda function URL request (payload format 2.0)."""
    parts = urlsplit(url)
    return {
        "version": "2.0",
        "cookies": [f"{k}={v}" for k, v in (cookies or {}).items()],
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "queryStringParameters": dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p) or None,
        "headers": {"content-type": "application/x-www-form-urlencoded", "host": parts.netloc},
        "requestContext": {
            "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1", "sourceIp": ip, "userAgent": "r"},
            "requestId": "rehearsal",
            "domainName": parts.netloc,
            "domainPrefix": parts.netloc.split(".")[0],
            "stage": "$default",
            "routeKey": "$default",
            "accountId": "anonymous",
            "apiId": "rehearsal",
            "time": "",
            "timeEpoch": 0,
        },
        "routeKey": "$default",
        "body": body,
        "isBase64Encoded": False,
    }


def _ok(answer: dict[str, Any], what: str) -> dict[str, Any]:
    if answer.get("statusCode", 200) >= 400:
        raise AssertionError(f"{what} answered {answer.get('statusCode')}: {str(answer.get('body'))[:300]}")
    return answer


# -- intake ---------------------------------------------------------------------------------------
def alarm(run: Run) -> None:
    event = state_change_event(ALARM, "ALARM", run.t0, namespace=NAMESPACE)
    answer = run.invoke("Intake", event)
    run.state["incident"] = answer["opened"][0]
    run.state["alarm_event"] = event


def repeated_alarm(run: Run) -> None:
    answer = run.invoke("Intake", run.state["alarm_event"])
    assert answer["opened"] == [run.state["incident"]], answer  # the stored answer, not a second incident


def alarm_ok(run: Run) -> None:
    run.invoke(
        "Intake", state_change_event(ALARM, "OK", run.t0.replace(minute=(run.t0.minute + 5) % 60), namespace=NAMESPACE)
    )


# -- the workflow's steps -------------------------------------------------------------------------
def step(name: str, **extra: Any) -> Callable[[Run], None]:
    def call(run: Run) -> None:
        event = {"step": name, "incident_id": run.state["incident"], **extra}
        run.state[name] = run.invoke("Steps", event)

    call.__name__ = name
    return call


def draft(run: Run) -> None:
    step("draft", phase="investigating", draft_id="investigating")(run)
    run.state["routes"] = run.state["draft"]["routes"]


def request_approval(run: Run) -> None:
    step("request_approval", draft_id="investigating", token="rehearsal-token", level=0)(run)
    link = re.compile(r'href="(https://[^"]+/approvals/[^"]+)"')
    found = [
        unescape(m.group(1))
        for mail in sent_emails("123456789012", "us-east-1")
        for m in [link.search(mail["body"])]
        if m
    ]
    assert found, "no approval email was sent"
    run.state["link"] = found[-1]


def publish_routes(run: Run) -> None:
    for route in run.state["routes"]:
        step("publish_route", draft_id="investigating", route=route)(run)


def route_failed(run: Run) -> None:
    error = {"Error": "ChannelError", "Cause": "rehearsal: the channel refused"}
    step("route_failed", draft_id="investigating", route=run.state["routes"][0], error=error)(run)


def checkin(run: Run) -> None:
    step("draft", phase="checkin", draft_id="checkin")(run)
    routes = run.state["draft"]["routes"]
    assert routes and "status_page" not in routes and set(routes) <= set(run.state["routes"]), routes
    assert run.state["draft"]["approval_required"] is True, run.state["draft"]


# -- approval page --------------------------------------------------------------------------------
def approval_page(run: Run) -> None:
    page = _ok(run.invoke("Approvals", url_event("GET", run.state["link"])), "the approval page")
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page["body"]))
    texts = re.findall(r'<textarea id="msg-\d+" name="(msg:[^"]+)"[^>]*>(.*?)</textarea>', page["body"], re.S)
    assert texts, "the approval page shows no text to approve"
    for name, value in texts:
        form[name] = unescape(value)
    run.state["form"] = form


def approve(run: Run) -> None:
    form = {**run.state["form"], "decision": "approve"}
    url = run.state["link"].split("?")[0]
    _ok(run.invoke("Approvals", url_event("POST", url, urlencode(form))), "the approval decision")


# -- the desk (same function URL, /desk) ----------------------------------------------------------
DESK = "https://desk.example"
PERSON = "bruno@ledgerly.example"  # communications manager in the sample roles.yaml


def _desk(run: Run, method: str, path: str, form: dict[str, Any] | None = None) -> dict[str, Any]:
    """One request with the cookies a browser keeps for the desk."""
    jar: dict[str, str] = run.state.setdefault("jar", {})
    body = urlencode(form or {}, doseq=True)
    answer: dict[str, Any] = run.invoke("Approvals", url_event(method, DESK + path, body, cookies=jar))
    for raw in answer.get("cookies") or []:
        name, _, rest = raw.partition("=")
        if "Max-Age=0" in raw:
            jar.pop(name, None)
        else:
            jar[name] = rest.split(";", 1)[0]
    if answer.get("statusCode", 200) >= 400:
        raise AssertionError(f"{method} {path} answered {answer.get('statusCode')}: {str(answer.get('body'))[:300]}")
    return answer


def _csrf(answer: dict[str, Any]) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', answer["body"])
    assert found, "no CSRF value on the desk's page"
    return found.group(1)


def desk_sign_in(run: Run) -> None:
    _desk(run, "POST", "/desk/sign-in", {"email": PERSON, "csrf": _csrf(_desk(run, "GET", "/desk"))})
    link = re.compile(r'href="(https?://[^"]+/desk/sign-in\?[^"]+)"')
    found = [
        unescape(m.group(1))
        for mail in sent_emails("123456789012", "us-east-1")
        for m in [link.search(mail["body"])]
        if m
    ]
    assert found, "no sign-in email was sent"
    landing = _desk(run, "GET", found[-1].split(DESK, 1)[-1])
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', landing["body"]))
    assert _desk(run, "POST", "/desk/session", form)["statusCode"] == 303
    assert "clarion_desk" in run.state["jar"], "following the link set no session cookie"


def desk_declare(run: Run) -> None:
    home = _desk(run, "GET", "/desk")
    assert "Sign out" in home["body"], "the desk did not keep the session"
    form = {"csrf": _csrf(home), "component": "web-app", "title:en": "Slow pages", "title:es": "Páginas lentas"}
    answer = _desk(run, "POST", "/desk/incidents", form)
    assert answer["statusCode"] == 303, answer
    run.state["desk_incident"] = answer["headers"]["Location"].split("/desk/incidents/", 1)[1].split("?")[0]


def desk_maintenance(run: Run) -> None:
    start = run.t0.replace(tzinfo=None) + timedelta(days=1)
    form = {
        "csrf": _csrf(_desk(run, "GET", "/desk")),
        "component": "eu-region",
        "title:en": "Database upgrade",
        "title:es": "Actualización de la base de datos",
        "start": start.isoformat(timespec="minutes"),
        "end": (start + timedelta(hours=1)).isoformat(timespec="minutes"),
    }
    answer = _desk(run, "POST", "/desk/maintenance", form)
    assert answer["statusCode"] == 303, answer
    run.state["maintenance"] = answer["headers"]["Location"].split("/desk/incidents/", 1)[1].split("?")[0]


def desk_cancel(run: Run) -> None:
    m = run.state["maintenance"]
    form = {"csrf": _csrf(_desk(run, "GET", f"/desk/incidents/{m}"))}
    assert _desk(run, "POST", f"/desk/maintenance/{m}/cancel", form)["statusCode"] == 303


# -- feedback -------------------------------------------------------------------------------------
def _feedback_fields(run: Run) -> dict[str, str]:
    import boto3
    from clarion.domain.enums import Phase
    from clarion.domain.feedback.tokens import issue

    sm = boto3.client("secretsmanager", region_name="us-east-1")  # the operator's view, to sign as the page did
    (secret,) = sm.list_secrets()["SecretList"]
    key = sm.get_secret_value(SecretId=secret["ARN"])["SecretString"].encode()
    return issue(key, run.state["incident"], "investigating", Phase.INVESTIGATING, "en", run.t0)


def feedback_link(run: Run) -> None:
    query = urlencode({**_feedback_fields(run), "v": "yes"})
    page = _ok(run.invoke("Feedback", url_event("GET", f"https://feedback.example/feedback?{query}")), "the link")
    assert 'method="post"' in page["body"]


def feedback_answer(run: Run) -> None:
    body = urlencode({**_feedback_fields(run), "vote": "yes", "comment": "clear"})
    _ok(run.invoke("Feedback", url_event("POST", "https://feedback.example/feedback", body)), "the answer")


# -- subscriptions --------------------------------------------------------------------------------
def subscribe_email(run: Run) -> None:
    body = urlencode([("protocol", "email"), ("endpoint", "ana@customer.example"), ("components", "web-app")])
    _ok(run.invoke("Subscriptions", url_event("POST", "https://subscribe.example/subscribe", body)), "subscribe")


# -- the metrics function ---------------------------------------------------------------------------
def chart_metrics(run: Run) -> None:
    import boto3

    # The product's own metric, put by the product (not by the function under test).
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(
        Namespace="Ledgerly/Web",
        MetricData=[
            {
                "MetricName": "ResponseTime",
                "Dimensions": [{"Name": "Service", "Value": "web-app"}],
                "Timestamp": run.t0,
                "Value": 120.0,
                "Unit": "Milliseconds",
            }
        ],
    )
    scheduled = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    answer = run.invoke("PageMetrics", scheduled)
    assert any(n > 0 for n in answer["written"].values()), answer


PATHS: list[tuple[str, str, Callable[[Run], None]]] = [
    ("Intake", "an alarm opens an incident and starts the workflow", alarm),
    ("Intake", "the same alarm again is answered from the idempotency table", repeated_alarm),
    ("Steps", "open: tell the team", step("open")),
    ("Steps", "draft the first update", draft),
    ("Steps", "request approval: email the approvers", request_approval),
    ("Approvals", "the approval page (GET)", approval_page),
    ("Approvals", "approve (POST): the decision returns the task token", approve),
    ("Steps", "publish every route (status page, topics, chat, email)", publish_routes),
    ("Steps", "published", step("published", draft_id="investigating")),
    ("Steps", "a failed route goes to the dead-letter queue", route_failed),
    ("Feedback", "an email's feedback link (GET) shows a form and counts nothing", feedback_link),
    ("Feedback", "a reader answers 'Was this update helpful?' (POST)", feedback_answer),
    ("Steps", "check the update cadence", step("check", iteration=0, start=0)),
    ("Steps", "continue monitoring in a new execution", step("continue_as_new", iteration=1)),
    ("Intake", "the alarm's OK asks for resolution", alarm_ok),
    ("Steps", "resolve", step("resolve")),
    ("Steps", "post-mortem draft", step("postmortem")),
    ("Steps", "check-in: drafted for the routes that were told, asked for", checkin),
    ("Steps", "post-incident report: drafted with its text", step("draft", phase="postmortem", draft_id="r-1")),
    ("Subscriptions", "subscribe by email (double opt-in)", subscribe_email),
    ("Approvals", "desk: sign in by the emailed link (a session cookie)", desk_sign_in),
    ("Approvals", "desk: declare an incident (the workflow starts)", desk_declare),
    ("Approvals", "desk: schedule maintenance", desk_maintenance),
    ("Approvals", "desk: cancel maintenance (its execution stops)", desk_cancel),
    ("PageMetrics", "chart the metrics onto every page bucket", chart_metrics),
]


def invoke_handler(module: str, event: dict[str, Any], function: str) -> Any:
    import importlib

    handler = importlib.import_module(module).lambda_handler
    return handler(event, LocalLambdaContext(function))
