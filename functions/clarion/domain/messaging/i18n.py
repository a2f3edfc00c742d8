"""The few words Clarion itself says (labels, not messages: messages come from runbook templates)."""

from __future__ import annotations

from datetime import datetime, timedelta

from clarion.domain.enums import ComponentStatus, IncidentStatus, MaintenanceStatus

_STATUS: dict[str, dict[str, str]] = {
    "en": {
        "operational": "Operational",
        "under_maintenance": "Under maintenance",
        "degraded_performance": "Degraded performance",
        "partial_outage": "Partial outage",
        "major_outage": "Major outage",
        "investigating": "Investigating",
        "identified": "Identified",
        "monitoring": "Monitoring",
        "resolved": "Resolved",
        "scheduled": "Scheduled",
        "in_progress": "In progress",
        "verifying": "Verifying",
        "completed": "Completed",
    },
    "es": {
        "operational": "Operativo",
        "under_maintenance": "En mantenimiento",
        "degraded_performance": "Rendimiento degradado",
        "partial_outage": "Interrupción parcial",
        "major_outage": "Interrupción grave",
        "investigating": "Investigando",
        "identified": "Identificado",
        "monitoring": "En observación",
        "resolved": "Resuelto",
        "scheduled": "Programado",
        "in_progress": "En curso",
        "verifying": "Verificando",
        "completed": "Completado",
    },
}

_PROVIDER_FALLBACK = {"en": "one of our providers", "es": "uno de nuestros proveedores"}


def status_label(status: ComponentStatus | IncidentStatus | MaintenanceStatus, language: str) -> str:
    return _STATUS.get(language, _STATUS["en"]).get(status.value, status.value)


def unnamed_provider(language: str) -> str:
    """What every channel but the status page says instead of a provider's name."""
    return _PROVIDER_FALLBACK.get(language, _PROVIDER_FALLBACK["en"])


def format_utc(at: datetime) -> str:
    """One unambiguous, language-neutral form for messages: '2026-11-23 14:05 UTC'."""
    return at.strftime("%Y-%m-%d %H:%M UTC")


def format_minutes(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() // 60))
