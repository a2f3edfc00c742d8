"""The page's own words, per language (messages come from runbook templates)."""

from __future__ import annotations

PAGE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "all_operational": "All systems operational",
        "under_maintenance": "Service under maintenance",
        "minor_outage": "Minor service outage",
        "partial_outage": "Partial service outage",
        "major_outage": "Major service outage",
        "active_incidents": "Active incidents",
        "maintenance": "Scheduled maintenance",
        "upcoming": "Upcoming",
        "in_progress": "In progress",
        "components": "Components",
        "past_incidents": "Past incidents",
        "no_incidents": "No incidents reported.",
        "history": "Incident history",
        "cancelled": "Cancelled",
        "last_updated": "Last updated",
        "next_update": "Next update by",
        "affected": "Affected",
        "uptime_note": "Uptime over the last 90 days: the percentage, and a bar with one segment a day.",
        "legend": "Bar colors",
        "uptime": "uptime",
        "updates": "Updates",
        "status": "Status",
        "time_zone": "Time zone",
        "language": "Language",
        "older": "Older incidents",
        "newer": "Newer incidents",
        "back": "Back to the current status",
        "window": "Scheduled",
        "page": "Page",
        "skip": "Skip to content",
        "feeds": "Subscribe: Atom, RSS, JSON API",
        "started": "Started",
        "resolved_at": "Resolved",
        "subscribe": "Subscribe to updates",
        "how": "How",
        "by_email": "Email",
        "by_sms": "SMS",
        "address": "Email address or phone number (international form, e.g. +447700900123)",
        "which": "Components (none chosen: all)",
        "subscribe_note": "Email asks you to confirm; SMS sends a code. Every message says how to stop.",
        "window_range": "{start} to {end}",
        "fb_question": "Was this update helpful?",
        "fb_yes": "Yes",
        "fb_no": "No",
        "fb_comment": "Anything we could say better? (optional, up to 500 characters; only our team reads it)",
        "report": "Post-incident report",
        "report_published": "Published",
    },
    "es": {
        "all_operational": "Todos los sistemas funcionan con normalidad",
        "under_maintenance": "Servicio en mantenimiento",
        "minor_outage": "Interrupción menor del servicio",
        "partial_outage": "Interrupción parcial del servicio",
        "major_outage": "Interrupción grave del servicio",
        "active_incidents": "Incidentes activos",
        "maintenance": "Mantenimiento programado",
        "upcoming": "Próximamente",
        "in_progress": "En curso",
        "components": "Componentes",
        "past_incidents": "Incidentes anteriores",
        "no_incidents": "No se han registrado incidentes.",
        "history": "Historial de incidentes",
        "cancelled": "Cancelado",
        "last_updated": "Última actualización",
        "next_update": "Próxima actualización antes del",
        "affected": "Afecta a",
        "uptime_note": "Disponibilidad en los últimos 90 días: el porcentaje y una barra con un segmento por día.",
        "legend": "Colores de las barras",
        "uptime": "de disponibilidad",
        "updates": "Actualizaciones",
        "status": "Estado",
        "time_zone": "Zona horaria",
        "language": "Idioma",
        "older": "Incidentes más antiguos",
        "newer": "Incidentes más recientes",
        "back": "Volver al estado actual",
        "window": "Programado",
        "page": "Página",
        "skip": "Ir al contenido",
        "feeds": "Suscribirse: Atom, RSS, API JSON",
        "started": "Inicio",
        "resolved_at": "Resuelto",
        "subscribe": "Suscribirse a las actualizaciones",
        "how": "Cómo",
        "by_email": "Correo electrónico",
        "by_sms": "SMS",
        "address": "Correo electrónico o teléfono (formato internacional, p. ej. +573001234567)",
        "which": "Componentes (ninguno elegido: todos)",
        "subscribe_note": (
            "El correo pide confirmación; el SMS envía un código. Cada mensaje explica cómo darse de baja."
        ),
        "window_range": "del {start} al {end}",
        "fb_question": "¿Le resultó útil esta actualización?",
        "fb_yes": "Sí",
        "fb_no": "No",
        "fb_comment": (
            "¿Algo que podríamos explicar mejor? (opcional, hasta 500 caracteres; solo lo lee nuestro equipo)"
        ),
        "report": "Informe posterior al incidente",
        "report_published": "Publicado",
    },
}

LANGUAGE_NAMES = {"en": "English", "es": "Español"}

# Days of the uptime window in each bad status, by CLDR plural category ("1 day", "2 days").
DAY_COUNTS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "major_outage": {"one": "{n} day with major outage", "other": "{n} days with major outage"},
        "partial_outage": {"one": "{n} day with partial outage", "other": "{n} days with partial outage"},
        "degraded_performance": {
            "one": "{n} day with degraded performance",
            "other": "{n} days with degraded performance",
        },
    },
    "es": {
        "major_outage": {"one": "{n} día con interrupción grave", "other": "{n} días con interrupción grave"},
        "partial_outage": {"one": "{n} día con interrupción parcial", "other": "{n} días con interrupción parcial"},
        "degraded_performance": {
            "one": "{n} día con rendimiento reducido",
            "other": "{n} días con rendimiento reducido",
        },
    },
}

ICONS = {
    "operational": "✓",
    "under_maintenance": "🛠",
    "degraded_performance": "◐",
    "partial_outage": "▲",
    "major_outage": "✖",
}


def page_text(language: str) -> dict[str, str]:
    return PAGE_TEXT.get(language, PAGE_TEXT["en"])


def day_count(status: str, n: int, language: str) -> str:
    """'1 day with partial outage', '3 días con interrupción grave' (plural rules from CLDR)."""
    from babel import Locale

    forms = DAY_COUNTS.get(language, DAY_COUNTS["en"])[status]
    try:
        category = Locale.parse(language.replace("-", "_")).plural_form(n)
    except ValueError:
        category = "one" if n == 1 else "other"
    return forms.get(category, forms["other"]).format(n=n)
