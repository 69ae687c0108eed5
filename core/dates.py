"""Calendar dates of UTC moments in an organisation's time zone, for messages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local_date(moment: datetime | None, timezone: str) -> str:
    """Return ``moment`` as YYYY-MM-DD in ``timezone``, or "an unknown date" for None."""
    if moment is None:
        return "an unknown date"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")
