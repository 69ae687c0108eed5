"""Running the dispatcher on the Application's JobQueue: every few seconds and on request."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta

from telegram.ext import Application, CallbackContext, ContextTypes

from bot.delivery.dispatcher import NotificationOutbox, deliver_due
from bot.services import get_services

logger = logging.getLogger(__name__)

DEFAULT_DELIVERY_INTERVAL = timedelta(seconds=2)
DELIVERY_JOB_NAME = "deliver-notifications"
IMMEDIATE_JOB_NAME = "deliver-notifications-now"


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """The outbox and the claimer id that every delivery run of one Application uses."""

    outbox: NotificationOutbox
    claimer: str


def new_claimer_id() -> str:
    """Return an id unique to this process: host name, process id and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


def schedule_delivery(
    application: Application,
    outbox: NotificationOutbox,
    interval: timedelta = DEFAULT_DELIVERY_INTERVAL,
) -> DeliveryJob:
    """Run the dispatcher every ``interval`` once the Application has started.

    Raises RuntimeError when the Application has no JobQueue, which happens
    when python-telegram-bot is installed without its job-queue extra.
    """
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError(
            "The Application has no JobQueue, so notifications cannot be sent. "
            "Install python-telegram-bot with its job-queue extra."
        )
    job = DeliveryJob(outbox=outbox, claimer=new_claimer_id())
    job_queue.run_repeating(_run_delivery, interval=interval, data=job, name=DELIVERY_JOB_NAME)
    logger.info(
        "delivery scheduled every %s s as claimer %s", interval.total_seconds(), job.claimer
    )
    return job


def request_delivery(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run the dispatcher now, so that notifications a handler just stored go out at once."""
    job_queue = context.job_queue
    scheduled = job_queue.get_jobs_by_name(DELIVERY_JOB_NAME) if job_queue else ()
    if job_queue is None or not scheduled:
        logger.warning("delivery requested, but no delivery job is scheduled")
        return
    job_queue.run_once(_run_delivery, 0, data=scheduled[0].data, name=IMMEDIATE_JOB_NAME)


async def _run_delivery(context: CallbackContext) -> None:
    job = context.job
    assert job is not None and isinstance(job.data, DeliveryJob)
    services = get_services(context)
    try:
        await deliver_due(
            context.bot, job.data.outbox, now=services.clock.now(), claimer=job.data.claimer
        )
    except Exception:
        # Claiming failed, for example because the database is unreachable.
        # The next run tries again.
        logger.exception("delivery run of claimer %s failed", job.data.claimer)
