"""The repeating JobQueue job that runs the scan and then the delivery."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram.ext import Application, CallbackContext

from bot.delivery import request_delivery
from bot.scheduling.work import run_scheduled_work
from bot.services import get_services

if TYPE_CHECKING:
    from bot.config import SchedulerSettings

logger = logging.getLogger(__name__)

SCAN_JOB_NAME = "scan-reminders"
# The first scan runs this long after the Application starts, so that a
# restart catches up at once instead of after a whole tick.
FIRST_SCAN_DELAY = timedelta(seconds=5)


def schedule_scans(application: Application, settings: SchedulerSettings) -> None:
    """Run the scan every ``settings.tick_seconds``, the first soon after the Application starts.

    Raises RuntimeError when the Application has no JobQueue, which happens
    when python-telegram-bot is installed without its job-queue extra.
    """
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError(
            "The Application has no JobQueue, so no reminder is ever sent. "
            "Install python-telegram-bot with its job-queue extra."
        )
    tick = timedelta(seconds=settings.tick_seconds)
    # One scan at a time (APScheduler's default of one running instance): a
    # tick that comes while a scan still runs is skipped, with a warning
    # from APScheduler.
    job_queue.run_repeating(
        run_scan_job, interval=tick, first=FIRST_SCAN_DELAY, name=SCAN_JOB_NAME
    )
    logger.info(
        "scans scheduled every %s s, the first %s s after start",
        tick.total_seconds(),
        FIRST_SCAN_DELAY.total_seconds(),
    )


async def run_scan_job(context: CallbackContext) -> None:
    """Run one scan at the Services clock's time, then request delivery if it added anything."""
    services = get_services(context)
    counts = await run_scheduled_work(services, services.clock.now())
    if counts.added_notifications:
        request_delivery(context)


async def log_jobs_stopped(application: Application) -> None:
    """Log that the scans and the deliveries stopped with the Application (a post_stop hook)."""
    logger.info("scans and deliveries stopped")
