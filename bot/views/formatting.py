"""Small helpers shared by the views: escaping and local dates."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

NO_DATE = "-"
MAX_BUTTON_LABEL = 24


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def local_date(moment: datetime | None, timezone: str) -> str:
    """Return ``moment`` as YYYY-MM-DD in ``timezone``, or a hyphen for no date."""
    if moment is None:
        return NO_DATE
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")


def local_datetime(moment: datetime, timezone: str) -> str:
    """Return ``moment`` as YYYY-MM-DD HH:MM with the zone's abbreviation."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def button_label(text: str) -> str:
    """Shorten user text for a button; buttons are plain text, never parsed as HTML."""
    if len(text) <= MAX_BUTTON_LABEL:
        return text
    return text[: MAX_BUTTON_LABEL - 1] + "…"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"
