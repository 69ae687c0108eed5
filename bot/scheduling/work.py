"""One scan of the database for the work that time makes due.

The scan reads everything from the database at ``now``, so a restart, a
clock jump or a day offline loses nothing: the next scan finds what is due.
The use cases store each reminder under a unique key, so a repeated scan
adds nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.services import Services
from core.use_cases.expiry import check_shortages, process_expired_licenses
from core.use_cases.reminders import scan_reminders

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScanCounts:
    """Counts of what one scan did. A step that failed counts 0."""

    # Licenses retired at expiry. Each adds one notification per member.
    expired: int = 0
    # Reminder notifications added.
    reminders: int = 0
    # Customers warned of a new shortage.
    shortages: int = 0

    @property
    def added_notifications(self) -> bool:
        """Whether the scan may have added notifications, so that delivery should run."""
        return self.expired + self.reminders + self.shortages > 0


async def run_scheduled_work(services: Services, now: datetime) -> ScanCounts:
    """Retire expired licenses, add due reminders, then warn of shortages, all at ``now``.

    ``now`` comes from the Services clock. A step that raises is logged with
    its traceback and counts 0, and the next step still runs, so one broken
    row cannot stop the other reminders.
    """
    database = services.database

    async def expire() -> int:
        return await process_expired_licenses(database.unit_of_work(), now=now)

    async def remind() -> int:
        return await scan_reminders(
            database.unit_of_work(),
            now=now,
            policy=services.policy,
            reminders=services.reminders,
        )

    async def warn() -> int:
        return await check_shortages(
            database.unit_of_work(), now=now, reminders=services.reminders
        )

    # Expiry runs first: it assigns successors, which changes both the
    # reminders due and the shortage count.
    counts = ScanCounts(
        expired=await _run_step("licenses retired at expiry", expire, now),
        reminders=await _run_step("reminders added", remind, now),
        shortages=await _run_step("customers warned of a shortage", warn, now),
    )
    return counts


async def _run_step(counted: str, step: Callable[[], Awaitable[int]], now: datetime) -> int:
    """Run one step and return its count. ``counted`` names what it counts, for the log."""
    try:
        count = await step()
    except Exception:
        logger.exception("scan at %s failed in the step that counts %s", now.isoformat(), counted)
        return 0
    if count:
        logger.info("scan at %s: %s: %s", now.isoformat(), counted, count)
    return count
