"""Running the dispatcher on the Application's JobQueue: every few seconds and on request."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram.ext import Application, CallbackContext, ContextTypes

from bot.delivery.dispatcher import DeliveryPolicy, Dispatcher, NotificationOutbox
from bot.services import get_services
from core.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.config import DeliverySettings

logger = logging.getLogger(__name__)

DEFAULT_DELIVERY_INTERVAL = timedelta(seconds=2)
DELIVERY_JOB_NAME = "deliver-notifications"
IMMEDIATE_JOB_NAME = "deliver-notifications-now"
# Runs of the repeating job that may overlap. A run can wait long for a busy
# chat's rate limit, and meanwhile the next runs send the messages to other
# chats. The Dispatcher's limiters are shared, so every chat keeps its rate.
MAX_OVERLAPPING_RUNS = 3


def new_claimer_id() -> str:
    """Return an id unique to this process: host name, process id and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


def schedule_delivery(
    application: Application,
    outbox: NotificationOutbox,
    settings: DeliverySettings | None = None,
    unit_of_work: Callable[[], UnitOfWork] | None = None,
) -> Dispatcher:
    """Make the Application's Dispatcher and run it every few seconds once the Application starts.

    ``settings`` give the interval, rates, attempts, claim timeout and quiet
    hours; without them the dispatcher runs every DEFAULT_DELIVERY_INTERVAL
    with DeliveryPolicy's defaults. With ``unit_of_work`` set, members found
    unreachable are recorded. Raises RuntimeError when the Application has no
    JobQueue, which happens when python-telegram-bot is installed without its
    job-queue extra.
    """
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError(
            "The Application has no JobQueue, so notifications cannot be sent. "
            "Install python-telegram-bot with its job-queue extra."
        )
    if settings is None:
        interval, policy = DEFAULT_DELIVERY_INTERVAL, DeliveryPolicy()
    else:
        interval = timedelta(seconds=settings.interval_seconds)
        policy = DeliveryPolicy.from_settings(settings)
    dispatcher = Dispatcher(
        application.bot,
        outbox,
        claimer=new_claimer_id(),
        policy=policy,
        unit_of_work=unit_of_work,
    )
    job_queue.run_repeating(
        _run_delivery,
        interval=interval,
        data=dispatcher,
        name=DELIVERY_JOB_NAME,
        job_kwargs={"max_instances": MAX_OVERLAPPING_RUNS},
    )
    logger.info(
        "delivery scheduled every %s s as claimer %s", interval.total_seconds(), dispatcher.claimer
    )
    return dispatcher


def scheduled_dispatcher(application: Application) -> Dispatcher:
    """Return the Dispatcher that the delivery job runs; raise LookupError if none is scheduled."""
    job_queue = application.job_queue
    scheduled = job_queue.get_jobs_by_name(DELIVERY_JOB_NAME) if job_queue else ()
    if not scheduled:
        raise LookupError("no delivery job is scheduled")
    return scheduled[0].data


def request_delivery(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run the dispatcher now, so that notifications just stored go out at once."""
    job_queue = context.job_queue
    scheduled = job_queue.get_jobs_by_name(DELIVERY_JOB_NAME) if job_queue else ()
    if job_queue is None or not scheduled:
        logger.warning("delivery requested, but no delivery job is scheduled")
        return
    job_queue.run_once(_run_delivery, 0, data=scheduled[0].data, name=IMMEDIATE_JOB_NAME)


async def _run_delivery(context: CallbackContext) -> None:
    job = context.job
    assert job is not None and isinstance(job.data, Dispatcher)
    dispatcher = job.data
    services = get_services(context)
    try:
        await dispatcher.deliver_due(services.clock.now())
    except Exception:
        # Claiming failed, for example because the database is unreachable.
        # The next run tries again.
        logger.exception("delivery run of claimer %s failed", dispatcher.claimer)
