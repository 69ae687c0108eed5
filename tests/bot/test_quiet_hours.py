"""Quiet hours: the time arithmetic, and the Application's dispatcher holding messages back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import update as sql_update

from bot.delivery import DeliveryReport, QuietHours, scheduled_dispatcher
from bot.scheduling import run_scheduled_work
from bot.services import SERVICES_KEY
from core.notifications import Notification, NotificationKind, NotificationStatus
from core.use_cases.ordering import place_order
from storage.outbox import Outbox
from storage.tables import OrganisationRow
from tests.bot.conftest import AIKO, DANA, Harness

NIGHT = QuietHours(time(22, 0), time(7, 0))
BERLIN = "Europe/Berlin"
# 23:30 in Berlin on a winter night (UTC+1), and the end of that night.
WINTER_2330 = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
WINTER_0700 = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
# 23:30 in Berlin before the clocks go forward (28 March 2027, 02:00 -> 03:00),
# and 07:00 after it, which is UTC+2.
SPRING_2330 = datetime(2027, 3, 27, 22, 30, tzinfo=UTC)
SPRING_0700 = datetime(2027, 3, 28, 5, 0, tzinfo=UTC)
# 23:30 in Berlin before the clocks go back (31 October 2027, 03:00 -> 02:00),
# and 07:00 after it, which is UTC+1.
AUTUMN_2330 = datetime(2027, 10, 30, 21, 30, tzinfo=UTC)
AUTUMN_0700 = datetime(2027, 10, 31, 6, 0, tzinfo=UTC)


# Time arithmetic


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        (time(21, 59, 59), False),
        (time(22, 0), True),
        (time(23, 59, 59), True),
        (time(0, 0), True),
        (time(6, 59, 59), True),
        (time(7, 0), False),
        (time(12, 0), False),
    ],
)
def test_night_contains(local: time, inside: bool) -> None:
    assert NIGHT.contains(local) is inside


@pytest.mark.parametrize(
    ("local", "inside"),
    [(time(12, 59), False), (time(13, 0), True), (time(13, 59), True), (time(14, 0), False)],
)
def test_daytime_range_contains(local: time, inside: bool) -> None:
    assert QuietHours(time(13, 0), time(14, 0)).contains(local) is inside


def test_equal_start_and_end_never_quiet() -> None:
    quiet = QuietHours(time(22, 0), time(22, 0))

    assert not quiet.contains(time(22, 0))
    assert quiet.end_after(WINTER_2330, BERLIN) is None


def test_end_after_midnight() -> None:
    assert NIGHT.end_after(WINTER_2330, BERLIN) == WINTER_0700


def test_end_same_morning() -> None:
    one_in_the_morning = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)

    assert NIGHT.end_after(one_in_the_morning, BERLIN) == WINTER_0700


def test_end_outside_quiet_hours() -> None:
    assert NIGHT.end_after(WINTER_0700, BERLIN) is None
    assert NIGHT.end_after(WINTER_0700 - timedelta(seconds=1), BERLIN) == WINTER_0700


def test_end_on_spring_forward_night() -> None:
    assert NIGHT.end_after(SPRING_2330, BERLIN) == SPRING_0700


def test_end_on_fall_back_night() -> None:
    assert NIGHT.end_after(AUTUMN_2330, BERLIN) == AUTUMN_0700


def test_end_time_repeated_by_fall_back() -> None:
    # It is 02:15 after the clocks went back to UTC+1. The first 02:30 has
    # passed, so the second one, half an hour of real time ahead, ends the night.
    quiet = QuietHours(time(22, 0), time(2, 30))
    second_0215 = datetime(2027, 10, 31, 1, 15, tzinfo=UTC)

    assert quiet.end_after(second_0215, BERLIN) == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


def test_end_time_skipped_by_spring_forward() -> None:
    # 02:30 does not exist that night in Berlin; it is read as 02:30 UTC+1.
    quiet = QuietHours(time(22, 0), time(2, 30))
    one_in_the_morning = datetime(2027, 3, 28, 0, 0, tzinfo=UTC)

    assert quiet.end_after(one_in_the_morning, BERLIN) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_end_in_other_zone() -> None:
    # 23:30 in Berlin is 07:30 in Tokyo, after Tokyo's night.
    assert NIGHT.end_after(WINTER_2330, "Asia/Tokyo") is None


def test_unknown_zone_counts_as_utc(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        end = NIGHT.end_after(WINTER_2330, "Mars/Olympus_Mons")

    assert end == datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
    assert "Mars/Olympus_Mons" in caplog.text


# The Application's dispatcher


async def place_at(harness: Harness, moment: datetime, po_number: str = "PO 7") -> None:
    harness.clock.current = moment
    await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        po_number=po_number,
        quantity=2,
        policy=harness.policy,
        now=moment,
    )


async def deliver_at(harness: Harness, moment: datetime) -> DeliveryReport:
    """Run the Application's own dispatcher, with the configured quiet hours, at ``moment``."""
    harness.clock.current = moment
    return await scheduled_dispatcher(harness.application).deliver_due(moment)


async def stored(harness: Harness) -> list[Notification]:
    return sorted(await Outbox(harness.database).list(None, 1000), key=lambda item: item.id)


def sends_to(harness: Harness, chat_id: int) -> int:
    return sum(
        1
        for call in harness.api.calls_of("sendMessage")
        if call.params["chat_id"] == chat_id and call.error is None
    )


async def test_night_order_held_until_morning(harness: Harness) -> None:
    await place_at(harness, WINTER_2330)

    at_night = await deliver_at(harness, WINTER_2330)
    [held] = await stored(harness)
    before_end = await deliver_at(harness, WINTER_0700 - timedelta(seconds=1))
    at_end = await deliver_at(harness, WINTER_0700)

    assert at_night.postponed == 1
    assert held.status is NotificationStatus.PENDING
    assert held.attempts == 0
    assert before_end.claimed == 0
    assert at_end.sent == 1
    assert sends_to(harness, DANA.id) == 1


async def test_night_order_held_on_spring_forward(harness: Harness) -> None:
    await place_at(harness, SPRING_2330)

    await deliver_at(harness, SPRING_2330)
    before_end = await deliver_at(harness, SPRING_0700 - timedelta(seconds=1))
    at_end = await deliver_at(harness, SPRING_0700)

    assert before_end.claimed == 0
    assert at_end.sent == 1


async def test_night_order_held_on_fall_back(harness: Harness) -> None:
    await place_at(harness, AUTUMN_2330)

    await deliver_at(harness, AUTUMN_2330)
    before_end = await deliver_at(harness, AUTUMN_0700 - timedelta(seconds=1))
    at_end = await deliver_at(harness, AUTUMN_0700)

    assert before_end.claimed == 0
    assert at_end.sent == 1


async def test_day_order_sent_at_once(harness: Harness) -> None:
    await place_at(harness, WINTER_0700)

    report = await deliver_at(harness, WINTER_0700)

    assert report.sent == 1


async def test_closing_window_sent_at_night(harness: Harness) -> None:
    # Placed at 23:29 in Berlin, so the cancel window closes 14 days later at
    # 23:29, and the closing reminder is due from 23:29 the evening before.
    placed_at = datetime(2026, 12, 10, 22, 29, tzinfo=UTC)
    await place_at(harness, placed_at)
    await deliver_at(harness, placed_at + timedelta(hours=8))
    reminder_night_2330 = datetime(2026, 12, 23, 22, 30, tzinfo=UTC)
    harness.clock.current = reminder_night_2330
    services = harness.application.bot_data[SERVICES_KEY]

    counts = await run_scheduled_work(services, reminder_night_2330)
    report = await deliver_at(harness, reminder_night_2330)

    [closing] = [item for item in await stored(harness) if item.chat_id == AIKO.id]
    assert counts.reminders == 1
    assert closing.kind is NotificationKind.WINDOW_CLOSING
    assert closing.urgent
    assert report.sent == 1
    assert closing.status is NotificationStatus.SENT
    assert sends_to(harness, AIKO.id) == 1


async def test_stored_zone_used_after_zone_change(harness: Harness) -> None:
    # The order is placed at 23:30 in Berlin, so the dealer's notification
    # waits for the Berlin morning even after the dealer moves to New York,
    # where it is 17:30.
    await place_at(harness, WINTER_2330)
    statement = (
        sql_update(OrganisationRow)
        .where(OrganisationRow.id == harness.organisation_ids["Dealer Berlin"])
        .values(timezone="America/New_York")
    )
    async with harness.database.engine.begin() as connection:
        await connection.execute(statement)

    at_night = await deliver_at(harness, WINTER_2330)
    [held] = await stored(harness)

    assert at_night.postponed == 1
    assert held.timezone == BERLIN
    assert sends_to(harness, DANA.id) == 0
