"""The scheduler's scan job and the delivery after it, run as the JobQueue would run them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from telegram.ext import Application

import bot.scheduling.work
from bot.application import build_application
from bot.config import SchedulerSettings, Settings
from bot.delivery.jobs import DELIVERY_JOB_NAME, IMMEDIATE_JOB_NAME
from bot.scheduling import SCAN_JOB_NAME, run_scheduled_work
from bot.scheduling.jobs import FIRST_SCAN_DELAY
from bot.services import SERVICES_KEY, Services
from core.notifications import Notification, NotificationKind, NotificationStatus
from core.reminders import ReminderPolicy
from core.use_cases.ordering import place_order
from storage.outbox import Outbox
from tests.bot.conftest import AIKO, DANA, Harness, assign_to, give_licenses

# The cancel window of an order placed at the harness's start closes 14 days
# later; the closing reminder is due from 24 hours before that.
CLOSING_DUE = timedelta(days=13, minutes=1)
YEAR_AND_A_DAY = timedelta(days=366)


async def place(harness: Harness, po_number: str = "PO 7") -> None:
    await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        po_number=po_number,
        quantity=2,
        policy=harness.policy,
        now=harness.clock.now(),
    )


async def run_job(application: Application, name: str) -> None:
    """Run the named repeating job once, as the JobQueue would on its next tick."""
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name(name)
    await job.run(application)


def delivery_requested(application: Application) -> bool:
    assert application.job_queue is not None
    return bool(application.job_queue.get_jobs_by_name(IMMEDIATE_JOB_NAME))


def sends_to(harness: Harness, chat_id: int) -> int:
    return sum(
        1
        for call in harness.api.calls_of("sendMessage")
        if call.params["chat_id"] == chat_id and call.error is None
    )


async def stored(harness: Harness) -> list[Notification]:
    return sorted(await Outbox(harness.database).list(None, 1000), key=lambda item: item.id)


def services(application: Application) -> Services:
    return application.bot_data[SERVICES_KEY]


@asynccontextmanager
async def restarted(harness: Harness) -> AsyncIterator[Application]:
    """Run a second Application on the harness's database file, Bot API and clock."""
    application = build_application(
        Settings(), database=harness.database, clock=harness.clock, request=harness.api
    )
    async with application:
        await application.start()
        assert application.job_queue is not None
        application.job_queue.scheduler.pause()
        try:
            yield application
        finally:
            await application.stop()


# The job


async def test_scan_job_scheduled(harness: Harness) -> None:
    job_queue = harness.application.job_queue
    assert job_queue is not None

    [job] = job_queue.get_jobs_by_name(SCAN_JOB_NAME)

    assert job.job.trigger.interval == timedelta(seconds=60)
    assert job.next_t is not None
    assert job.next_t <= datetime.now(UTC) + FIRST_SCAN_DELAY


async def test_tick_from_settings(harness: Harness) -> None:
    settings = Settings(scheduler=SchedulerSettings(tick_seconds=5, expiry_reminder_days=[3]))

    application = build_application(
        settings, database=harness.database, clock=harness.clock, request=harness.api
    )

    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name(SCAN_JOB_NAME)
    assert job.job.trigger.interval == timedelta(seconds=5)
    assert services(application).reminders == ReminderPolicy(expiry_leads=(timedelta(days=3),))


async def test_tick_adds_reminder_sent_once(harness: Harness) -> None:
    await place(harness)
    await harness.deliver()
    harness.clock.advance(CLOSING_DUE)

    await run_job(harness.application, SCAN_JOB_NAME)
    requested = delivery_requested(harness.application)
    await run_job(harness.application, DELIVERY_JOB_NAME)
    await run_job(harness.application, SCAN_JOB_NAME)
    await run_job(harness.application, DELIVERY_JOB_NAME)

    closing = [item for item in await stored(harness) if item.chat_id == AIKO.id]
    assert requested
    assert [item.kind for item in closing] == [NotificationKind.WINDOW_CLOSING]
    assert closing[0].status is NotificationStatus.SENT
    assert sends_to(harness, AIKO.id) == 1


async def test_empty_tick_requests_no_delivery(harness: Harness) -> None:
    await place(harness)

    await run_job(harness.application, SCAN_JOB_NAME)

    assert not delivery_requested(harness.application)


async def test_reminder_due_at_lead(harness: Harness) -> None:
    await place(harness)
    before_due = harness.clock.now() + CLOSING_DUE - timedelta(minutes=2)

    early = await run_scheduled_work(services(harness.application), before_due)
    due = await run_scheduled_work(
        services(harness.application), before_due + timedelta(minutes=2)
    )

    assert early.reminders == 0
    assert due.reminders == 1


async def test_restart_between_scan_and_send(harness: Harness) -> None:
    await place(harness)
    await harness.deliver()
    harness.clock.advance(CLOSING_DUE)
    await run_job(harness.application, SCAN_JOB_NAME)

    async with restarted(harness) as application:
        await run_job(application, SCAN_JOB_NAME)
        await run_job(application, DELIVERY_JOB_NAME)
    await run_job(harness.application, DELIVERY_JOB_NAME)
    async with restarted(harness) as application:
        await run_job(application, DELIVERY_JOB_NAME)

    assert sends_to(harness, AIKO.id) == 1
    assert sends_to(harness, DANA.id) == 1


# Expiry and failures


async def test_expiry_scanned_and_reported(harness: Harness) -> None:
    await give_licenses(harness, 2)
    await assign_to(harness, "anna@example.com")
    await harness.deliver()
    harness.clock.advance(YEAR_AND_A_DAY)

    counts = await run_scheduled_work(services(harness.application), harness.clock.now())
    await run_job(harness.application, DELIVERY_JOB_NAME)

    reported = [item for item in await stored(harness) if item.chat_id == AIKO.id][-1]
    assert counts.expired == 1
    assert reported.kind is NotificationKind.AUTO_ASSIGNED
    assert reported.status is NotificationStatus.SENT


async def test_failing_step_does_not_stop_scan(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_scan(*args: object, **kwargs: object) -> int:
        raise RuntimeError("reminder query failed")

    monkeypatch.setattr(bot.scheduling.work, "scan_reminders", broken_scan)
    await give_licenses(harness, 2)
    await assign_to(harness, "anna@example.com")
    harness.clock.advance(YEAR_AND_A_DAY)

    with caplog.at_level(logging.INFO, logger="bot.scheduling.work"):
        counts = await run_scheduled_work(services(harness.application), harness.clock.now())

    [failure] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert counts.reminders == 0
    assert counts.expired == 1
    assert failure.exc_info is not None
    assert "reminders added" in failure.getMessage()
    assert "licenses retired at expiry: 1" in caplog.text
