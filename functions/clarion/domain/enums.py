"""The vocabularies every other module shares."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """Uptime Institute outage scale, SEV1 the worst."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"
    SEV5 = "SEV5"

    @property
    def rank(self) -> int:
        """1 for SEV1 ... 5 for SEV5: lower is worse."""
        return int(self.value[3])

    def worse_of(self, other: Severity) -> Severity:
        return self if self.rank <= other.rank else other

    @property
    def impact(self) -> str:
        """Statuspage's ``impact`` enum for this level (the severity table of docs/design.md)."""
        return {1: "critical", 2: "major", 3: "major", 4: "minor", 5: "none"}[self.rank]


class ComponentStatus(StrEnum):
    """Statuspage's component status enum, in order of badness."""

    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @property
    def badness(self) -> int:
        return list(ComponentStatus).index(self)

    def worse_of(self, other: ComponentStatus) -> ComponentStatus:
        return self if self.badness >= other.badness else other


class AlarmState(StrEnum):
    ALARM = "ALARM"
    OK = "OK"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class IncidentStatus(StrEnum):
    """Statuspage's incident status enum (incidents)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class MaintenanceStatus(StrEnum):
    """Statuspage's incident status enum (scheduled maintenances)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"


class IncidentKind(StrEnum):
    INCIDENT = "incident"
    MAINTENANCE = "maintenance"


class Phase(StrEnum):
    """A message's place in an incident's life; one template set per phase."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    UPDATE = "update"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"  # the post-incident report, published after resolution
    CHECKIN = "checkin"  # "is everything working for you now?", once, some time after resolution
    MAINTENANCE_SCHEDULED = "maintenance_scheduled"
    MAINTENANCE_IN_PROGRESS = "maintenance_in_progress"
    MAINTENANCE_COMPLETED = "maintenance_completed"
    MAINTENANCE_CANCELLED = "maintenance_cancelled"

    @property
    def on_status_page(self) -> bool:
        """A check-in is a message to people who were told, not an update on the page."""
        return self is not Phase.CHECKIN

    @property
    def is_open_incident(self) -> bool:
        """Phases whose customer messages must state scope, start time and next update."""
        return self in (Phase.INVESTIGATING, Phase.IDENTIFIED, Phase.MONITORING, Phase.UPDATE)


class Audience(StrEnum):
    CUSTOMERS = "customers"
    TECHNICAL = "technical"


class Channel(StrEnum):
    """Template channels. Delivery adapters (SNS, SES, End User Messaging, webhooks) map onto these."""

    STATUS_PAGE = "status_page"
    EMAIL = "email"
    SMS = "sms"
    CHAT = "chat"
    SOCIAL = "social"


class TimeoutAction(StrEnum):
    """What the workflow does when approvers do not answer in time."""

    PUBLISH_HOLDING_STATEMENT = "publish_holding_statement"
    ESCALATE = "escalate"
    HOLD = "hold"


class InsufficientDataPolicy(StrEnum):
    IGNORE = "ignore"
    TREAT_AS_ALARM = "treat_as_alarm"
    TREAT_AS_OK = "treat_as_ok"
