"""Runbook schema: the pydantic models every runbook file is parsed into.

A runbook set is data an SRE team writes (``runbooks/`` in YAML). These models are the single
source of truth for its shape; :func:`cross_check` holds the rules that span files (a rule naming
an unknown component, a policy naming an unknown role, ...). Loading YAML and mapping errors back
to file and line lives in ``clarion.runbook_loader``; this module is pure.
"""

from __future__ import annotations

import re
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from clarion.domain.enums import (
    Audience,
    Channel,
    ComponentStatus,
    InsufficientDataPolicy,
    Phase,
    Severity,
    TimeoutAction,
)
from clarion.domain.messaging.ledger import DEFAULT_PRE_APPROVED

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
IDENT = r"^[a-z0-9][a-z0-9_-]{0,62}$"
LANG = r"^[a-z]{2}(-[A-Z]{2})?$"


def parse_duration(value: Any) -> Any:
    """'90s', '10m', '2h', '1d' (or a number of seconds) -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration such as '10m', '2h' or '1d' is expected")
    if isinstance(value, int):
        return timedelta(seconds=value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])
    raise ValueError(f"{value!r} is not a duration: write a whole number and a unit, e.g. '90s', '10m', '2h', '1d'")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Ident = Annotated[str, Field(pattern=IDENT)]
LocalText = str | dict[str, str]


def localized(text: LocalText | None, language: str, default_language: str) -> str:
    """Pick one language from a text given either plainly or per language."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get(default_language) or next(iter(text.values()), "")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- clarion.yaml: settings of the runbook set -------------------------------------------------


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as 'America/Bogota', 'America/New_York' or 'UTC'"
        ) from None
    return value


TimeZone = Annotated[str, AfterValidator(_known_zone)]


class PageSettings(_Strict):
    id: Ident = "clarion"
    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")
    time_zone: TimeZone = "Etc/UTC"
    subscribe_url: str | None = Field(
        default=None, pattern=r"^https?://", description="the subscriptions endpoint; the page then offers a form"
    )
    feedback_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="the feedback endpoint (FeedbackUrl output); incident pages and customer emails then ask "
        "'Was this update helpful?'",
    )


class SmsSettings(_Strict):
    max_segments: int = Field(default=2, ge=1, le=10)


class LintSettings(_Strict):
    jargon: list[str] = Field(default_factory=list)


E164 = r"^\+[1-9]\d{6,14}$"


class SmsDelivery(_Strict):
    """Direct SMS through AWS End User Messaging (pinpoint-sms-voice-v2), e.g. to key accounts."""

    origination_identity: str = Field(min_length=1, description="phone number, sender id or pool ARN")
    recipients: list[Annotated[str, Field(pattern=E164)]] = Field(min_length=1)
    configuration_set: str | None = None


class VoiceDelivery(_Strict):
    origination_identity: str = Field(min_length=1)
    recipients: list[Annotated[str, Field(pattern=E164)]] = Field(min_length=1)
    voice_id: str = "JOANNA"
    configuration_set: str | None = None


class PushDelivery(_Strict):
    """Mobile push through End User Messaging push (the pinpoint client's SendMessages)."""

    application_id: str = Field(min_length=1)
    addresses: dict[str, Literal["APNS", "APNS_SANDBOX", "GCM", "BAIDU", "ADM"]] = Field(min_length=1)


class WhatsAppDelivery(_Strict):
    """WhatsApp through End User Messaging Social, with a template Meta approved beforehand."""

    phone_number_id: str = Field(min_length=1)
    template: str = Field(min_length=1)
    recipients: list[Annotated[str, Field(pattern=E164)]] = Field(min_length=1)
    meta_api_version: str = "v20.0"


class EmailDelivery(_Strict):
    """Customer email through SES v2 (beside SNS email subscriptions): bulk to a contact list, or
    to fixed recipients, always with List-Unsubscribe."""

    recipients: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(default_factory=list)
    contact_list: str | None = None
    contact_topic: str | None = None
    unsubscribe_url: str = Field(pattern=r"^(https://|mailto:)")
    configuration_set: str | None = None
    reply_to: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="where customers' replies go; without it, email templates may not invite a reply",
    )

    @model_validator(mode="after")
    def _someone(self) -> EmailDelivery:
        if not self.recipients:
            raise ValueError("name recipients (a contact list's addresses are sent to one by one)")
        return self


class Webhook(_Strict):
    name: Ident
    kind: Literal["slack", "teams", "generic"]
    audience: Audience
    url: str | None = Field(default=None, pattern=r"^https?://")
    url_secret: str | None = Field(
        default=None, description="Secrets Manager id holding the URL (Slack URLs are secrets)"
    )
    signing_secret: str | None = Field(default=None, description="Secrets Manager id of the generic webhook's HMAC key")

    @model_validator(mode="after")
    def _one_url(self) -> Webhook:
        if bool(self.url) == bool(self.url_secret):
            raise ValueError("give exactly one of url and url_secret")
        if self.kind == "generic" and not self.signing_secret:
            raise ValueError("a generic webhook is signed: give signing_secret")
        return self


# HTTPS, or plain HTTP to this machine only (the local mode's and the tests' loopback servers).
HTTPS_OR_LOOPBACK = r"^(https://|http://(127\.0\.0\.1|localhost)(:\d+)?(/|$))"


class MastodonDelivery(_Strict):
    """Posts the customer social text to a Mastodon account (``POST /api/v1/statuses``)."""

    instance_url: str = Field(pattern=HTTPS_OR_LOOPBACK, description="e.g. https://mastodon.social")
    token_secret: str = Field(min_length=1, description="Secrets Manager id holding the access token (write:statuses)")
    languages: list[Annotated[str, Field(pattern=LANG)]] = Field(
        default_factory=list, description="languages to post in; default: the default language"
    )
    visibility: Literal["public", "unlisted"] = "public"


class BlueskyDelivery(_Strict):
    """Posts the customer social text to Bluesky (AT Protocol createSession, then createRecord)."""

    service_url: str = Field(default="https://bsky.social", pattern=HTTPS_OR_LOOPBACK)
    handle: str = Field(min_length=3, description="the account's handle or DID, e.g. status.example.com")
    app_password_secret: str = Field(min_length=1, description="Secrets Manager id holding an app password")
    languages: list[Annotated[str, Field(pattern=LANG)]] = Field(default_factory=list)


class Deliveries(_Strict):
    sms: SmsDelivery | None = None
    voice: VoiceDelivery | None = None
    push: PushDelivery | None = None
    whatsapp: WhatsAppDelivery | None = None
    email: EmailDelivery | None = None
    webhooks: list[Webhook] = Field(default_factory=list)
    mastodon: MastodonDelivery | None = None
    bluesky: BlueskyDelivery | None = None


class Settings(_Strict):
    page: PageSettings
    languages: list[Annotated[str, Field(pattern=LANG)]] = Field(min_length=1)
    default_language: str = "en"
    time_zones: dict[str, TimeZone] = Field(
        default_factory=dict,
        description="language -> the IANA time zone its readers live in; languages not listed use page.time_zone",
    )
    audiences: dict[Audience, list[Channel]] = Field(min_length=1)
    sms: SmsSettings = SmsSettings()
    lint: LintSettings = LintSettings()
    insufficient_data: InsufficientDataPolicy = InsufficientDataPolicy.IGNORE
    deliveries: Deliveries = Deliveries()

    @model_validator(mode="after")
    def _default_language_is_listed(self) -> Settings:
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not in languages {self.languages}")
        stray = sorted(set(self.time_zones) - set(self.languages))
        if stray:
            raise ValueError(f"time_zones names language(s) {', '.join(stray)} not in languages {self.languages}")
        for name in ("mastodon", "bluesky"):
            social = getattr(self.deliveries, name)
            unknown = [lang for lang in (social.languages if social else []) if lang not in self.languages]
            if unknown:
                raise ValueError(f"deliveries.{name}.languages {unknown} are not in languages {self.languages}")
        return self

    def time_zone(self, language: str) -> str:
        """The zone customers reading ``language`` are told times in."""
        return self.time_zones.get(language, self.page.time_zone)

    def social_languages(self, network: str) -> list[str]:
        """The languages a social network account posts in (default: the default language)."""
        social = getattr(self.deliveries, network)
        return (social.languages or [self.default_language]) if social else []


# --- components.yaml ---------------------------------------------------------------------------


class ComponentGroup(_Strict):
    id: Ident
    name: LocalText
    description: LocalText = ""


# CloudWatch units a chart can label (the rest of CloudWatch's list is rarely charted for customers).
MetricUnit = Literal[
    "Milliseconds",
    "Microseconds",
    "Seconds",
    "Percent",
    "Count",
    "Count/Second",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "None",
]
_STATISTIC = re.compile(r"^(Average|Sum|Minimum|Maximum|SampleCount|p(\d{1,2}(\.\d{1,2})?|100))$")


class ComponentMetric(_Strict):
    """One CloudWatch metric charted under a component on the status page (last 24 h and 7 d)."""

    id: Ident
    namespace: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    dimensions: dict[str, str] = Field(default_factory=dict, max_length=30)
    statistic: str = "Average"
    unit: MetricUnit = "None"
    region: str | None = Field(
        default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", description="the metric's region; default: the pipeline's"
    )
    label: LocalText = Field(description="what customers read, per language, e.g. {en: Response time}")

    @field_validator("statistic")
    @classmethod
    def _known_statistic(cls, value: str) -> str:
        if not _STATISTIC.match(value):
            raise ValueError(
                f"{value!r} is not a statistic: use Average, Sum, Minimum, Maximum, SampleCount or a percentile "
                "such as p50 or p99.9"
            )
        return value


class Component(_Strict):
    id: Ident
    name: LocalText
    group: Ident
    description: LocalText = ""
    provider: str | None = Field(
        default=None,
        description="A third-party provider behind this component. Only the status page may name it.",
    )
    regions: list[str] = Field(default_factory=list)
    workaround: LocalText = ""
    only_show_if_degraded: bool = False
    metrics: list[ComponentMetric] = Field(
        default_factory=list, max_length=2, description="at most two CloudWatch metrics charted on the page"
    )


class ComponentsFile(_Strict):
    groups: list[ComponentGroup] = Field(min_length=1)
    components: list[Component] = Field(min_length=1)


# --- rules.yaml: alarm routing -----------------------------------------------------------------


class AlarmMatch(_Strict):
    """Every condition given must hold; at least one must be given."""

    alarm_name: str | None = Field(default=None, description="fnmatch-style glob on the alarm name")
    alarm_name_regex: str | None = Field(default=None, description="regular expression (search) on the alarm name")
    namespace: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict, description="name -> glob on the value")
    tags: dict[str, str] = Field(default_factory=dict, description="alarm tag -> glob on the value")

    @field_validator("alarm_name_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> AlarmMatch:
        if not (self.alarm_name or self.alarm_name_regex or self.namespace or self.dimensions or self.tags):
            raise ValueError("a match needs at least one of alarm_name, alarm_name_regex, namespace, dimensions, tags")
        return self

    def matches(
        self,
        alarm_name: str,
        metrics: list[tuple[str | None, dict[str, str]]],
        tags: dict[str, str],
    ) -> bool:
        if self.alarm_name is not None and not fnmatchcase(alarm_name, self.alarm_name):
            return False
        if self.alarm_name_regex is not None and not re.search(self.alarm_name_regex, alarm_name):
            return False
        wants_metric = self.namespace is not None or bool(self.dimensions)
        if wants_metric and not any(self._metric_matches(ns, dims) for ns, dims in metrics):
            return False
        return all(key in tags and fnmatchcase(tags[key], pattern) for key, pattern in self.tags.items())

    def _metric_matches(self, namespace: str | None, dimensions: dict[str, str]) -> bool:
        if self.namespace is not None and namespace != self.namespace:
            return False
        return all(k in dimensions and fnmatchcase(dimensions[k], v) for k, v in self.dimensions.items())


class Rule(_Strict):
    id: Ident
    description: str = ""
    match: AlarmMatch
    components: list[Ident] = Field(min_length=1)
    component_status: Literal["degraded_performance", "partial_outage", "major_outage"]
    severity: Severity
    title: LocalText = ""

    @property
    def status(self) -> ComponentStatus:
        return ComponentStatus(self.component_status)


class Drill(_Strict):
    """A game-day scenario (`clarion drill --scenario NAME`): a synthetic alarm that must hit a rule
    of the expected severity (checked with the rest of the runbook set)."""

    name: Ident
    alarm: str = Field(min_length=1, max_length=255, description="the synthetic alarm's name")
    namespace: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    severity: Severity = Field(description="the severity the alarm's rule must give")
    about: str = ""


class RulesFile(_Strict):
    rules: list[Rule] = Field(min_length=1)
    drills: list[Drill] = Field(default_factory=list)


# --- policies.yaml: severity policies ----------------------------------------------------------


class ApprovalPolicy(_Strict):
    required: bool
    approvers: list[Ident] = Field(default_factory=list, description="role ids")
    escalation: list[Ident] = Field(default_factory=list, description="role ids asked when approvers time out")
    timeout: Duration = timedelta(minutes=15)
    on_timeout: TimeoutAction = TimeoutAction.HOLD
    pre_approved: list[Phase] = Field(
        default_factory=lambda: list(DEFAULT_PRE_APPROVED),
        description="phases sent without asking, and only to routes an approved opening reached",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ApprovalPolicy:
        if Phase.INVESTIGATING in self.pre_approved:
            raise ValueError(
                "investigating is the opening: it cannot be pre-approved; set required: false to send "
                "openings without asking"
            )
        if self.required and not self.approvers:
            raise ValueError("approval is required but no approvers are named")
        if self.on_timeout is TimeoutAction.ESCALATE and not self.escalation:
            raise ValueError("on_timeout is 'escalate' but the escalation list is empty")
        if self.timeout < timedelta(minutes=1) and self.required:
            raise ValueError("an approval timeout under one minute leaves no time to read the draft")
        return self


class SeverityPolicy(_Strict):
    description: str = ""
    approval: ApprovalPolicy
    update_every: Duration | None = Field(default=None, description="cadence of regular updates; none = no updates")
    channels: list[Channel] = Field(default_factory=list, description="customer-facing channels; [] = internal only")
    audiences: list[Audience] = Field(default_factory=list)
    checkin_after: Duration | None = Field(
        default=None,
        description="after resolution, ask the people who were told whether everything works for them; none = no "
        "check-in",
    )

    @field_validator("update_every")
    @classmethod
    def _cadence_sane(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(minutes=5):
            raise ValueError("updates more often than every 5 minutes flood customers; use at least '5m'")
        return value


class PoliciesFile(_Strict):
    policies: dict[Severity, SeverityPolicy]

    @field_validator("policies")
    @classmethod
    def _all_levels(cls, value: dict[Severity, SeverityPolicy]) -> dict[Severity, SeverityPolicy]:
        missing = [s.value for s in Severity if s not in value]
        if missing:
            raise ValueError(f"every severity needs a policy; missing: {', '.join(missing)}")
        return value


# --- roles.yaml --------------------------------------------------------------------------------


class Person(_Strict):
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")


class Role(_Strict):
    description: str = ""
    people: list[Ident] = Field(min_length=1)


REQUIRED_ROLES = ("incident_manager", "communications_manager", "support_manager")


class RolesFile(_Strict):
    people: dict[Ident, Person] = Field(min_length=1)
    roles: dict[Ident, Role]

    @field_validator("roles")
    @classmethod
    def _required_roles(cls, value: dict[str, Role]) -> dict[str, Role]:
        missing = [r for r in REQUIRED_ROLES if r not in value]
        if missing:
            raise ValueError(f"missing role(s): {', '.join(missing)}")
        return value


# --- templates/<language>/<phase>.yaml -----------------------------------------------------------


class Template(_Strict):
    subject: str | None = None
    body: str = Field(min_length=1)


TemplateSet = dict[Audience, dict[Channel, Template]]


# --- the whole set -----------------------------------------------------------------------------


class Problem(BaseModel):
    """A finding about a runbook set: where (section, path inside it) and what."""

    model_config = ConfigDict(frozen=True)

    section: str  # "settings", "components", "rules", "policies", "roles", "templates/en/update"
    loc: tuple[str | int, ...]
    message: str
    level: Literal["error", "warning"] = "error"
    line_offset: int | None = None  # a line inside a multi-line text (a template), 0 = its first line


class Runbook(_Strict):
    settings: Settings
    components: ComponentsFile
    rules: RulesFile
    policies: PoliciesFile
    roles: RolesFile
    templates: dict[str, dict[Phase, TemplateSet]] = Field(description="language -> phase -> audience -> channel")

    @model_validator(mode="after")
    def _cross_checked(self) -> Runbook:
        problems = cross_check(self)
        if problems:
            lines = "; ".join(f"{p.section} {'.'.join(map(str, p.loc))}: {p.message}" for p in problems)
            raise ValueError(f"runbook is inconsistent: {lines}")
        return self

    # Lookups used everywhere else.
    def component(self, component_id: str) -> Component:
        for c in self.components.components:
            if c.id == component_id:
                return c
        raise KeyError(component_id)

    def group(self, group_id: str) -> ComponentGroup:
        for g in self.components.groups:
            if g.id == group_id:
                return g
        raise KeyError(group_id)

    def policy(self, severity: Severity) -> SeverityPolicy:
        return self.policies.policies[severity]

    def people_in(self, role_ids: list[str]) -> list[Person]:
        seen: dict[str, Person] = {}
        for role_id in role_ids:
            for person_id in self.roles.roles[role_id].people:
                seen.setdefault(person_id, self.roles.people[person_id])
        return list(seen.values())

    def template(self, language: str, phase: Phase, audience: Audience, channel: Channel) -> Template:
        return self.templates[language][phase][audience][channel]

    @property
    def providers(self) -> set[str]:
        return {c.provider for c in self.components.components if c.provider}


def cross_check(rb: Runbook) -> list[Problem]:
    """Rules that span files. Each problem points at the referring place."""
    out: list[Problem] = []
    group_ids = [g.id for g in rb.components.groups]
    comp_ids = [c.id for c in rb.components.components]
    for i, gid in enumerate(group_ids):
        if gid in group_ids[:i]:
            out.append(Problem(section="components", loc=("groups", i, "id"), message=f"duplicate group id {gid!r}"))
    for i, c in enumerate(rb.components.components):
        if c.id in comp_ids[:i]:
            out.append(
                Problem(
                    section="components",
                    loc=("components", i, "id"),
                    message=f"duplicate component id {c.id!r}",
                )
            )
        metric_ids = [m.id for m in c.metrics]
        for j, m in enumerate(c.metrics):
            if m.id in metric_ids[:j]:
                out.append(
                    Problem(
                        section="components",
                        loc=("components", i, "metrics", j, "id"),
                        message=f"duplicate metric id {m.id!r} in component {c.id!r}",
                    )
                )
            if isinstance(m.label, dict):
                missing = [lang for lang in rb.settings.languages if not m.label.get(lang, "").strip()]
                if missing:
                    out.append(
                        Problem(
                            section="components",
                            loc=("components", i, "metrics", j, "label"),
                            message=f"no label in {', '.join(missing)}: customers read it in every language",
                        )
                    )
        if c.group not in group_ids:
            out.append(
                Problem(
                    section="components",
                    loc=("components", i, "group"),
                    message=f"unknown group {c.group!r}; groups are: {', '.join(group_ids)}",
                )
            )
    rule_ids: list[str] = []
    for i, rule in enumerate(rb.rules.rules):
        if rule.id in rule_ids:
            out.append(Problem(section="rules", loc=("rules", i, "id"), message=f"duplicate rule id {rule.id!r}"))
        rule_ids.append(rule.id)
        for j, cid in enumerate(rule.components):
            if cid not in comp_ids:
                out.append(
                    Problem(
                        section="rules",
                        loc=("rules", i, "components", j),
                        message=f"unknown component {cid!r}",
                    )
                )
    drill_names: list[str] = []
    for i, drill in enumerate(rb.rules.drills):
        if drill.name in drill_names:
            out.append(Problem(section="rules", loc=("drills", i, "name"), message=f"duplicate drill {drill.name!r}"))
        drill_names.append(drill.name)
        metrics = [(drill.namespace, drill.dimensions)] if drill.namespace or drill.dimensions else []
        hit = next((r for r in rb.rules.rules if r.match.matches(drill.alarm, metrics, drill.tags)), None)
        if hit is None:
            out.append(
                Problem(section="rules", loc=("drills", i, "alarm"), message=f"the alarm {drill.alarm!r} hits no rule")
            )
        elif hit.severity is not drill.severity:
            out.append(
                Problem(
                    section="rules",
                    loc=("drills", i, "severity"),
                    message=f"the alarm {drill.alarm!r} hits rule {hit.id!r} at {hit.severity.value}, "
                    f"not {drill.severity.value}",
                )
            )
    for sev, pol in rb.policies.policies.items():
        for field in ("approvers", "escalation"):
            for j, role in enumerate(getattr(pol.approval, field)):
                if role not in rb.roles.roles:
                    out.append(
                        Problem(
                            section="policies",
                            loc=("policies", sev.value, "approval", field, j),
                            message=f"unknown role {role!r}; roles are: {', '.join(rb.roles.roles)}",
                        )
                    )
        for j, aud in enumerate(pol.audiences):
            if aud not in rb.settings.audiences:
                out.append(
                    Problem(
                        section="policies",
                        loc=("policies", sev.value, "audiences", j),
                        message=f"audience {aud.value!r} is not configured in clarion.yaml",
                    )
                )
        configured = {ch for chans in rb.settings.audiences.values() for ch in chans}
        for j, ch in enumerate(pol.channels):
            if ch not in configured:
                out.append(
                    Problem(
                        section="policies",
                        loc=("policies", sev.value, "channels", j),
                        message=f"channel {ch.value!r} is used by no audience in clarion.yaml",
                    )
                )
    for role_id, role in rb.roles.roles.items():
        for j, pid in enumerate(role.people):
            if pid not in rb.roles.people:
                out.append(
                    Problem(
                        section="roles",
                        loc=("roles", role_id, "people", j),
                        message=f"unknown person {pid!r}",
                    )
                )
    for lang in rb.settings.languages:
        if lang not in rb.templates:
            out.append(
                Problem(
                    section=f"templates/{lang}",
                    loc=(),
                    message=f"no templates for configured language {lang!r}",
                )
            )
            continue
        for phase in Phase:
            tset = rb.templates[lang].get(phase)
            if tset is None:
                out.append(
                    Problem(section=f"templates/{lang}/{phase.value}", loc=(), message="template file is missing")
                )
                continue
            for aud, chans in rb.settings.audiences.items():
                for ch in chans:
                    if ch is Channel.STATUS_PAGE and not phase.on_status_page:
                        continue
                    if ch not in tset.get(aud, {}):
                        out.append(
                            Problem(
                                section=f"templates/{lang}/{phase.value}",
                                loc=(aud.value,),
                                message=f"no {ch.value!r} template for audience {aud.value!r}",
                            )
                        )
    return out
