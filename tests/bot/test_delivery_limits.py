"""Rates, attempts and the claim budget of the Dispatcher, on the harness's offline Bot API."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

import bot.delivery.dispatcher
from bot.application import build_application
from bot.config import DeliverySettings, Settings
from bot.delivery import DeliveryPolicy, Dispatcher, QuietHours, scheduled_dispatcher
from bot.delivery.dispatcher import retry_delay
from bot.offline_updates import OfflineUser
from core.notifications import NewNotification, Notification, NotificationKind, NotificationStatus
from storage.outbox import Outbox
from tests.bot.conftest import AIKO, BEN, DANA, HANA, Harness

# A fast per-chat rate keeps the timing tests short: 20 messages a second,
# so two messages to one chat are at least 50 ms apart.
FAST_CHAT_RATE = 20.0
CANCELLED_PAYLOAD: dict[str, Any] = {
    "po_number": "PO 7",
    "quantity": 2,
    "customer": "Clinic Am See",
    "customer_timezone": "Europe/Berlin",
    "dealer": "Dealer Berlin",
    "dealer_timezone": "Europe/Berlin",
    "ordered_at": "2026-12-04T09:00:00+00:00",
    "issued_at": None,
}


async def add_notifications(harness: Harness, user: OfflineUser, count: int) -> None:
    """Store ``count`` order-cancelled notifications to ``user``'s chat."""
    async with harness.database.unit_of_work() as uow:
        member = await uow.members.get_by_telegram_user(user.id)
        assert member is not None
        for _ in range(count):
            await uow.notifications.add(
                NewNotification(
                    kind=NotificationKind.ORDER_CANCELLED,
                    member_id=member.id,
                    chat_id=user.id,
                    created_at=harness.clock.now(),
                    payload=CANCELLED_PAYLOAD,
                    timezone="Europe/Berlin",
                )
            )
        await uow.commit()


class TimedBot:
    """The harness's bot, recording (chat id, event loop time) of each send_message call.

    The Dispatcher calls send_message right after its per-chat limiter lets
    it, so these times show the limiter's spacing without the jitter of the
    HTTP layer below.
    """

    def __init__(self, bot: Any) -> None:
        self._bot = bot
        self.times: list[tuple[int, float]] = []

    async def send_message(self, chat_id: int, *args: Any, **kwargs: Any) -> Any:
        self.times.append((chat_id, asyncio.get_running_loop().time()))
        return await self._bot.send_message(chat_id, *args, **kwargs)


def dispatcher(harness: Harness, bot: Any = None, **policy: Any) -> Dispatcher:
    return Dispatcher(
        bot or harness.application.bot,
        Outbox(harness.database),
        claimer="limits-test",
        policy=DeliveryPolicy(**policy),
        unit_of_work=harness.database.unit_of_work,
    )


async def stored(harness: Harness) -> list[Notification]:
    return sorted(await Outbox(harness.database).list(None, 1000), key=lambda item: item.id)


def sends_to(harness: Harness, chat_id: int) -> int:
    return sum(
        1
        for call in harness.api.calls_of("sendMessage")
        if call.params["chat_id"] == chat_id and call.error is None
    )


# Settings


def test_policy_from_default_settings() -> None:
    policy = DeliveryPolicy.from_settings(DeliverySettings())

    assert policy.claim_timeout == timedelta(minutes=10)
    assert policy.max_attempts == 5
    assert policy.max_messages_per_chat_per_second == 1.0
    assert policy.quiet_hours == QuietHours(time(22, 0), time(7, 0))


def test_policy_from_configured_settings() -> None:
    settings = DeliverySettings(
        claim_timeout_seconds=60,
        max_attempts=2,
        max_messages_per_chat_per_second=0.05,
        quiet_hours_start="23:15",
        quiet_hours_end="23:15",
    )

    policy = DeliveryPolicy.from_settings(settings)

    assert policy.claim_timeout == timedelta(seconds=60)
    assert policy.max_attempts == 2
    assert policy.max_messages_per_chat_per_second == 0.05
    assert policy.quiet_hours is not None
    assert not policy.quiet_hours.contains(time(23, 15))


async def test_application_uses_delivery_settings(harness: Harness) -> None:
    settings = Settings(delivery=DeliverySettings(max_attempts=3, interval_seconds=7))

    application = build_application(
        settings, database=harness.database, clock=harness.clock, request=harness.api
    )

    scheduled = scheduled_dispatcher(application)
    assert scheduled.policy == DeliveryPolicy.from_settings(settings.delivery)
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name("deliver-notifications")
    assert job.job.trigger.interval == timedelta(seconds=7)


async def test_overall_rate_from_settings(harness: Harness) -> None:
    settings = Settings(delivery=DeliverySettings(max_messages_per_second=12))

    application = build_application(
        settings, database=harness.database, clock=harness.clock, request=harness.api
    )

    # AIORateLimiter keeps its overall limiter in _base_limiter
    # (python-telegram-bot 22.8); it has no public accessor.
    limiter = application.bot.rate_limiter
    assert limiter is not None
    assert limiter._base_limiter is not None
    base = limiter._base_limiter
    assert base.max_rate == 1
    assert base.time_period == pytest.approx(1 / 12)


# Per-chat rate


async def test_one_chat_spaced_by_rate(harness: Harness) -> None:
    await add_notifications(harness, DANA, 5)
    timed = TimedBot(harness.application.bot)

    report = await dispatcher(
        harness, timed, max_messages_per_chat_per_second=FAST_CHAT_RATE
    ).deliver_due(harness.clock.now())

    dana_times = [moment for chat_id, moment in timed.times if chat_id == DANA.id]
    gaps = [later - earlier for earlier, later in itertools.pairwise(dana_times)]
    assert report.sent == 5
    assert len(gaps) == 4
    # 1 ms allows for float rounding in the limiter's arithmetic.
    for gap in gaps:
        assert gap >= 1 / FAST_CHAT_RATE - 0.001


async def test_other_chats_not_delayed(harness: Harness) -> None:
    await add_notifications(harness, DANA, 5)
    for user in (AIKO, BEN, HANA):
        await add_notifications(harness, user, 1)
    timed = TimedBot(harness.application.bot)

    report = await dispatcher(
        harness, timed, max_messages_per_chat_per_second=FAST_CHAT_RATE
    ).deliver_due(harness.clock.now())

    dana_times = [moment for chat_id, moment in timed.times if chat_id == DANA.id]
    others = {chat_id: moment for chat_id, moment in timed.times if chat_id != DANA.id}
    assert report.sent == 8
    assert set(others) == {AIKO.id, BEN.id, HANA.id}
    # Each other chat's message goes out before DANA's second one, which
    # waits for DANA's rate.
    for moment in others.values():
        assert moment < dana_times[1]


async def test_rate_kept_across_runs(harness: Harness) -> None:
    timed = TimedBot(harness.application.bot)
    shared = dispatcher(harness, timed, max_messages_per_chat_per_second=FAST_CHAT_RATE)

    await add_notifications(harness, DANA, 1)
    await shared.deliver_due(harness.clock.now())
    await add_notifications(harness, DANA, 1)
    await shared.deliver_due(harness.clock.now())

    [(_, first), (_, second)] = timed.times
    assert second - first >= 1 / FAST_CHAT_RATE - 0.001


async def test_limiters_bounded(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.delivery.dispatcher, "MAX_CHAT_LIMITERS", 2)
    shared = dispatcher(harness, max_messages_per_chat_per_second=FAST_CHAT_RATE)
    for user in (AIKO, BEN, HANA, DANA):
        await add_notifications(harness, user, 1)

    report = await shared.deliver_due(harness.clock.now())

    assert report.sent == 4
    assert shared.rate_limited_chats <= 2


async def test_time_up_hands_rest_back(harness: Harness) -> None:
    # A third of a 0.9 s claim timeout leaves 0.3 s to start sends, which at
    # 10 messages a second to one chat is enough for three or four of five.
    await add_notifications(harness, DANA, 5)
    short = dispatcher(
        harness,
        max_messages_per_chat_per_second=10.0,
        claim_timeout=timedelta(seconds=0.9),
    )

    first = await short.deliver_due(harness.clock.now())
    handed_back = [
        item for item in await stored(harness) if item.status is NotificationStatus.PENDING
    ]
    second = await short.deliver_due(harness.clock.now())

    assert first.sent >= 1
    assert first.postponed >= 1
    assert first.sent + first.postponed == 5
    assert [item.attempts for item in handed_back] == [0] * first.postponed
    assert second.sent == first.postponed
    assert sends_to(harness, DANA.id) == 5


# Attempts


async def test_backoff_then_failed(harness: Harness) -> None:
    await add_notifications(harness, DANA, 1)
    harness.api.fail_next(
        "sendMessage", error_code=500, description="Internal Server Error", count=3
    )
    three_attempts = dispatcher(harness, max_attempts=3)

    first = await three_attempts.deliver_due(harness.clock.now())
    harness.clock.advance(retry_delay(1) - timedelta(seconds=1))
    early = await three_attempts.deliver_due(harness.clock.now())
    harness.clock.advance(timedelta(seconds=1))
    second = await three_attempts.deliver_due(harness.clock.now())
    harness.clock.advance(retry_delay(2))
    third = await three_attempts.deliver_due(harness.clock.now())
    harness.clock.advance(timedelta(days=1))
    after = await three_attempts.deliver_due(harness.clock.now())

    [failed] = await stored(harness)
    assert first.retried == 1
    assert early.claimed == 0
    assert second.retried == 1
    assert third.failed == 1
    assert after.claimed == 0
    assert failed.status is NotificationStatus.FAILED
    assert failed.attempts == 3
    assert failed.last_error == "Internal Server Error"


async def test_flood_control_counts_no_attempt(harness: Harness) -> None:
    await add_notifications(harness, DANA, 1)
    harness.api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 3",
        retry_after=3,
    )
    one_attempt = dispatcher(harness, max_attempts=1)

    flooded = await one_attempt.deliver_due(harness.clock.now())
    [waiting] = await stored(harness)
    harness.clock.advance(timedelta(seconds=2))
    early = await one_attempt.deliver_due(harness.clock.now())
    harness.clock.advance(timedelta(seconds=1))
    due = await one_attempt.deliver_due(harness.clock.now())

    assert flooded.retried == 1
    assert waiting.attempts == 0
    assert waiting.status is NotificationStatus.PENDING
    assert early.claimed == 0
    assert due.sent == 1


async def test_urgent_sent_in_quiet_hours(harness: Harness) -> None:
    night = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
    harness.clock.current = night
    async with harness.database.unit_of_work() as uow:
        member = await uow.members.get_by_telegram_user(DANA.id)
        assert member is not None
        for urgent in (True, False):
            await uow.notifications.add(
                NewNotification(
                    kind=NotificationKind.ORDER_CANCELLED,
                    member_id=member.id,
                    chat_id=DANA.id,
                    created_at=night,
                    payload=CANCELLED_PAYLOAD,
                    urgent=urgent,
                    timezone="Europe/Berlin",
                )
            )
        await uow.commit()

    report = await scheduled_dispatcher(harness.application).deliver_due(night)

    statuses = {item.urgent: item.status for item in await stored(harness)}
    assert report.sent == 1
    assert report.postponed == 1
    assert statuses[True] is NotificationStatus.SENT
    assert statuses[False] is NotificationStatus.PENDING


async def test_flood_control_holds_rest_of_run(harness: Harness) -> None:
    from bot.delivery.dispatcher import DeliveryPolicy, Dispatcher
    from core.notifications import NewNotification, NotificationKind
    from storage import Outbox

    async with harness.database.unit_of_work() as uow:
        for index in range(3):
            await uow.notifications.add(
                NewNotification(
                    kind=NotificationKind.ORDER_CANCELLED,
                    member_id=1,
                    chat_id=800_002,
                    created_at=harness.clock.now(),
                    payload={
                        "po_number": f"PO-{index}",
                        "quantity": 1,
                        "customer": "Clinic Am See",
                        "customer_timezone": "UTC",
                        "dealer": "Dealer Berlin",
                        "dealer_timezone": "UTC",
                        "ordered_at": harness.clock.now().isoformat(),
                        "issued_at": None,
                    },
                )
            )
        await uow.commit()
    harness.api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 30",
        retry_after=30,
    )
    dispatcher = Dispatcher(
        harness.application.bot,
        Outbox(harness.database),
        claimer="flood-test",
        policy=DeliveryPolicy(),
    )

    first = await dispatcher.deliver_due(harness.clock.now())
    too_early = await dispatcher.deliver_due(harness.clock.now() + timedelta(seconds=29))
    after = await dispatcher.deliver_due(harness.clock.now() + timedelta(seconds=30))

    assert first.sent == 0
    assert too_early.claimed == 0
    assert after.sent == 3
    sent = [
        call.params["text"] for call in harness.api.calls_of("sendMessage") if call.error is None
    ]
    assert [text.count("PO-0") for text in sent] == [1, 0, 0]
