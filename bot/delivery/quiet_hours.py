"""Quiet hours: the local times of day during which only urgent notifications are sent."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """The local times ``[start, end)``; the range crosses midnight when ``start > end``.

    ``start == end`` means there are no quiet hours.
    """

    start: time
    end: time

    def contains(self, local: time) -> bool:
        """Return whether the wall-clock time ``local`` lies inside the quiet hours."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, moment: datetime, zone_name: str) -> datetime | None:
        """Return when the quiet hours around ``moment`` end, in UTC, or None outside them.

        ``moment`` must be timezone-aware. The end is the first instant after
        ``moment`` whose wall-clock time in ``zone_name`` is ``end``, found
        with zoneinfo, so a night in which the clocks change still ends at
        ``end`` local time. When a change skips ``end``, the end is ``end``
        read with the offset from before the change: 02:30 on the night
        Berlin moves from +01:00 to +02:00 becomes 03:30, half an hour after
        the wall clock left the quiet hours.
        """
        zone = _zone(zone_name)
        local = moment.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return None
        after = moment.astimezone(UTC)
        # Both folds of today's and tomorrow's end time: an end time that a
        # fall-back change repeats occurs twice, and one that a spring-forward
        # change skips maps to one instant inside the gap and one after it.
        candidates = sorted(
            {
                datetime.combine(day, self.end.replace(fold=fold), tzinfo=zone).astimezone(UTC)
                for day in (local.date(), local.date() + timedelta(days=1))
                for fold in (0, 1)
            }
        )
        for end in candidates:
            wall_clock = end.astimezone(zone).time().replace(tzinfo=None)
            if end > after and not self.contains(wall_clock):
                return end
        # Unreachable: tomorrow's end time is later than any moment inside
        # quiet hours, which last less than a day.
        raise AssertionError(f"no end of quiet hours after {moment.isoformat()} in {zone_name}")


def _zone(zone_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        # Organisations are stored with validated zones, so this means the
        # time zone database lost a zone; UTC keeps delivery going.
        logger.warning("unknown time zone %r of a notification, so quiet hours use UTC", zone_name)
        return ZoneInfo("UTC")
