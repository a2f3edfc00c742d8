"""The page's own words, per language (messages come from runbook templates)."""

from __future__ import annotations

PAGE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "all_operational": "All systems operational",
        "under_maintenance": "Service under maintenance",
        "minor_outage": "Minor service outage",
        "partial_outage": "Partial system outage",
        "major_outage": "Major service outage",
        "active_incidents": "Active incidents",
        "maintenance": "Scheduled maintenance",
        "upcoming": "Upcoming",
        "in_progress": "In progress",
        "components": "Components",
        "past_incidents": "Past incidents",
        "no_incidents": "No incidents reported.",
        "history": "Incident history",
        "last_updated": "Last updated",
        "next_update": "Next update by",
        "affected": "Affected",
        "uptime_note": "Bars and percentages: uptime over the last 90 days, one bar segment a day.",
        "days_partial": "days partial outage",
        "days_major": "days major outage",
        "days_degraded": "days degraded",
        "language": "Language",
        "older": "Older incidents",
        "newer": "Newer incidents",
        "back": "Back to the current status",
        "window": "Window",
        "page": "Page",
        "skip": "Skip to content",
        "feeds": "Subscribe: Atom, RSS, JSON API",
        "started": "Started",
        "resolved_at": "Resolved",
    },
    "es": {
        "all_operational": "Todos los sistemas operativos",
        "under_maintenance": "Servicio en mantenimiento",
        "minor_outage": "Interrupción menor del servicio",
        "partial_outage": "Interrupción parcial del sistema",
        "major_outage": "Interrupción grave del servicio",
        "active_incidents": "Incidentes activos",
        "maintenance": "Mantenimiento programado",
        "upcoming": "Próximo",
        "in_progress": "En curso",
        "components": "Componentes",
        "past_incidents": "Incidentes anteriores",
        "no_incidents": "No se han registrado incidentes.",
        "history": "Historial de incidentes",
        "last_updated": "Última actualización",
        "next_update": "Próxima actualización antes del",
        "affected": "Afectado",
        "uptime_note": "Barras y porcentajes: disponibilidad en los últimos 90 días, un segmento por día.",
        "days_partial": "días interrupción parcial",
        "days_major": "días interrupción grave",
        "days_degraded": "días degradado",
        "language": "Idioma",
        "older": "Incidentes anteriores",
        "newer": "Incidentes más recientes",
        "back": "Volver al estado actual",
        "window": "Ventana",
        "page": "Página",
        "skip": "Saltar al contenido",
        "feeds": "Suscribirse: Atom, RSS, API JSON",
        "started": "Inicio",
        "resolved_at": "Resuelto",
    },
}

LANGUAGE_NAMES = {"en": "English", "es": "Español"}

ICONS = {
    "operational": "✓",
    "under_maintenance": "🛠",
    "degraded_performance": "◐",
    "partial_outage": "▲",
    "major_outage": "✖",
}


def page_text(language: str) -> dict[str, str]:
    return PAGE_TEXT.get(language, PAGE_TEXT["en"])
