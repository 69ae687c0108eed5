"""Delivery of the outbox through the real Application and the offline Bot API."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.application import build_application
from bot.callbacks import AskIssue, encode
from bot.config import Settings
from bot.delivery import DeliveryReport, scheduled_dispatcher
from bot.delivery.dispatcher import (
    DEFAULT_CLAIM_TIMEOUT,
    FIRST_RETRY_DELAY,
    MAX_ATTEMPTS,
    MAX_RETRY_DELAY,
    retry_delay,
)
from bot.delivery.jobs import (
    DEFAULT_DELIVERY_INTERVAL,
    DELIVERY_JOB_NAME,
    IMMEDIATE_JOB_NAME,
    new_claimer_id,
)
from bot.offline_updates import OfflineUser
from bot.views.notifications import InvalidPayload, render_notification
from core.notifications import (
    NewNotification,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from core.orders import Order
from core.organisations import Tier
from core.use_cases.issuances import cancel_issuance
from core.use_cases.issuing import issue_order
from core.use_cases.membership import add_member
from core.use_cases.ordering import cancel_order, place_order
from storage.outbox import Outbox
from tests.bot.conftest import (
    AIKO,
    BRUNO,
    DANA,
    Harness,
    assert_valid_html,
    keyboard,
    sent_texts,
)

DIRK = OfflineUser(6002, "Dirk", "Brandt", language_code="de")
ALL_STATUSES = tuple(NotificationStatus)


async def place(harness: Harness, po_number: str = "PO 7", quantity: int = 2) -> Order:
    placed = await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        po_number=po_number,
        quantity=quantity,
        policy=harness.policy,
        now=harness.clock.now(),
    )
    return placed.order


async def add_dirk(harness: Harness) -> None:
    """Make DIRK a second administrator of Dealer Berlin."""
    await add_member(
        harness.database.unit_of_work(),
        organisation_name="Dealer Berlin",
        telegram_user_id=DIRK.id,
        name=DIRK.full_name,
        now=harness.clock.now(),
    )


async def stored(harness: Harness) -> list[Notification]:
    """Return every notification of the outbox, oldest first."""
    newest_first = await Outbox(harness.database).list(ALL_STATUSES, limit=1000)
    return sorted(newest_first, key=lambda item: item.id)


def sends_to(harness: Harness, chat_id: int) -> int:
    """Return how many sendMessage calls to ``chat_id`` Telegram accepted."""
    return sum(
        1
        for call in harness.api.calls_of("sendMessage")
        if call.params["chat_id"] == chat_id and call.error is None
    )


def notification(kind: NotificationKind, payload: dict[str, Any]) -> Notification:
    return Notification(
        id=1,
        kind=kind,
        member_id=1,
        chat_id=DANA.id,
        created_at=datetime(2026, 12, 4, 23, 30, tzinfo=UTC),
        status=NotificationStatus.SENDING,
        order_id=42,
        payload=payload,
    )


ORDER_PAYLOAD: dict[str, Any] = {
    "po_number": "PO <7>",
    "quantity": 3,
    "customer": "Clinic & Co",
    "customer_timezone": "Asia/Tokyo",
    "dealer": "Dealer Berlin",
    "dealer_timezone": "America/New_York",
    "ordered_at": "2026-12-04T23:30:00+00:00",
    "issued_at": "2026-12-05T16:00:00+00:00",
}
CANCELLED_ISSUANCE_PAYLOAD = ORDER_PAYLOAD | {
    "reason": "Wrong <customer>",
    "cancelled_by": "BC Germany",
    "cancel_deadline": "2026-12-19T16:00:00+00:00",
}


@asynccontextmanager
async def restarted(harness: Harness) -> AsyncIterator[Application]:
    """Run a second Application on the harness's database, Bot API and clock."""
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


# Sending and recording


async def test_sent_once(harness: Harness) -> None:
    await place(harness)

    first = await harness.deliver()
    second = await harness.deliver()

    assert first.sent == 1
    assert second.claimed == 0
    assert sends_to(harness, DANA.id) == 1


async def test_sent_message_recorded(harness: Harness) -> None:
    await place(harness)

    await harness.deliver()

    [stored_notification] = await stored(harness)
    assert stored_notification.status is NotificationStatus.SENT
    assert stored_notification.sent_message_id == harness.last_message(DANA).message_id
    assert stored_notification.sent_at == harness.clock.now()


async def test_every_member_notified(harness: Harness) -> None:
    await add_dirk(harness)
    await place(harness)

    report = await harness.deliver()

    assert report.sent == 2
    assert sends_to(harness, DANA.id) == 1
    assert sends_to(harness, DIRK.id) == 1


async def test_order_cancelled_to_dealer(harness: Harness) -> None:
    order = await place(harness)
    await harness.deliver()
    harness.clock.advance(timedelta(days=1))
    await cancel_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        order_id=order.id,
        policy=harness.policy,
        now=harness.clock.now(),
    )

    await harness.deliver()

    text = harness.last_message(DANA).source_text
    assert text.startswith("<b>Order cancelled</b> by <b>Clinic Am See</b>")
    assert "PO number: <b>PO 7</b>" in text
    assert "Cancelled: 2026-12-05" in text
    assert harness.last_message(DANA).inline_keyboard == []


async def test_issuance_cancelled_to_both(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness)
    await issue_order(
        harness.database.unit_of_work(),
        telegram_user_id=DANA.id,
        order_id=order.id,
        now=harness.clock.now(),
    )
    await cancel_issuance(
        harness.database.unit_of_work(),
        telegram_user_id=BRUNO.id,
        order_id=order.id,
        reason="Ordered <twice>",
        policy=harness.policy,
        now=harness.clock.now(),
    )

    await harness.deliver()

    customer_text = harness.last_message(AIKO).source_text
    dealer_text = harness.last_message(DANA).source_text
    for text in (customer_text, dealer_text):
        assert text.startswith("<b>Issuance cancelled</b> by <b>BC Germany</b>")
        assert "Reason: Ordered &lt;twice&gt;" in text
    assert "cancel the order until 2026-12-18 10:00 CET" in customer_text
    assert_valid_html(harness.api.calls_of("sendMessage"))


# Failures


async def test_retry_after_waits(harness: Harness) -> None:
    await place(harness)
    harness.api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 3",
        retry_after=3,
    )

    first = await harness.deliver()
    harness.clock.advance(timedelta(seconds=2))
    early = await harness.deliver()
    harness.clock.advance(timedelta(seconds=1))
    due = await harness.deliver()

    assert first.retried == 1
    assert early.claimed == 0
    assert due.sent == 1
    assert sends_to(harness, DANA.id) == 1


async def test_blocked_member_unreachable(harness: Harness) -> None:
    await add_dirk(harness)
    await place(harness)
    harness.api.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )

    report = await harness.deliver()

    [blocked_call] = [call for call in harness.api.calls_of("sendMessage") if call.error]
    blocked_chat = blocked_call.params["chat_id"]
    other_chat = DIRK.id if blocked_chat == DANA.id else DANA.id
    statuses = {item.chat_id: item.status for item in await stored(harness)}
    assert report.unreachable == 1
    assert report.sent == 1
    assert statuses[blocked_chat] is NotificationStatus.UNREACHABLE
    assert sends_to(harness, other_chat) == 1


async def test_unreachable_not_retried(harness: Harness) -> None:
    await place(harness)
    harness.api.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )
    await harness.deliver()
    harness.clock.advance(MAX_RETRY_DELAY * 10)

    report = await harness.deliver()

    assert report.claimed == 0
    assert sends_to(harness, DANA.id) == 0


async def test_chat_not_found_unreachable(harness: Harness) -> None:
    await place(harness)
    harness.api.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found")

    report = await harness.deliver()

    [stored_notification] = await stored(harness)
    assert report.unreachable == 1
    assert stored_notification.status is NotificationStatus.UNREACHABLE
    assert stored_notification.last_error == "Chat not found"


async def test_other_bad_request_fails(harness: Harness) -> None:
    await place(harness)
    harness.api.fail_next(
        "sendMessage", error_code=400, description="Bad Request: message is too long"
    )

    report = await harness.deliver()

    [stored_notification] = await stored(harness)
    assert report.failed == 1
    assert stored_notification.status is NotificationStatus.FAILED


async def test_server_error_retried(harness: Harness) -> None:
    await place(harness)
    harness.api.fail_next("sendMessage", error_code=502, description="Bad Gateway")

    first = await harness.deliver()
    harness.clock.advance(FIRST_RETRY_DELAY - timedelta(seconds=1))
    early = await harness.deliver()
    harness.clock.advance(timedelta(seconds=1))
    due = await harness.deliver()

    assert first.retried == 1
    assert early.claimed == 0
    assert due.sent == 1


async def test_fails_after_max_attempts(harness: Harness) -> None:
    await place(harness)
    harness.api.fail_next(
        "sendMessage", error_code=500, description="Internal Server Error", count=MAX_ATTEMPTS
    )

    reports = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        reports.append(await harness.deliver())
        harness.clock.advance(retry_delay(attempt))
    after = await harness.deliver()

    [stored_notification] = await stored(harness)
    assert [report.retried for report in reports] == [1] * (MAX_ATTEMPTS - 1) + [0]
    assert reports[-1].failed == 1
    assert stored_notification.status is NotificationStatus.FAILED
    assert stored_notification.attempts == MAX_ATTEMPTS
    assert stored_notification.last_error == "Internal Server Error"
    assert after.claimed == 0


def test_retry_delay_doubles_up_to_maximum() -> None:
    assert retry_delay(1) == FIRST_RETRY_DELAY
    assert retry_delay(2) == FIRST_RETRY_DELAY * 2
    assert retry_delay(4) == FIRST_RETRY_DELAY * 8
    assert retry_delay(30) == MAX_RETRY_DELAY


async def test_invalid_payload_fails_alone(harness: Harness) -> None:
    async with harness.database.unit_of_work() as uow:
        await uow.notifications.add(
            NewNotification(
                kind=NotificationKind.ORDER_PLACED,
                member_id=1,
                chat_id=DANA.id,
                created_at=harness.clock.now(),
                order_id=None,
                payload={"po_number": "PO broken"},
            )
        )
        await uow.commit()
    await place(harness)

    report = await harness.deliver()

    statuses = [item.status for item in await stored(harness)]
    assert report.failed == 1
    assert report.sent == 1
    assert statuses == [NotificationStatus.FAILED, NotificationStatus.SENT]


# Unreachable members


async def deliver_as_application(harness: Harness) -> DeliveryReport:
    """Run the Application's own dispatcher, which records members unreachable."""
    return await scheduled_dispatcher(harness.application).deliver_due(harness.clock.now())


async def reachable(harness: Harness, user: OfflineUser) -> bool:
    async with harness.database.unit_of_work() as uow:
        member = await uow.members.get_by_telegram_user(user.id)
    assert member is not None
    return member.reachable


def chat_member_update(
    harness: Harness, user: OfflineUser, old: str, new: str, chat: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Build the ``my_chat_member`` update that Telegram sends when ``user`` blocks the bot.

    ``old`` and ``new`` are the bot's statuses in the chat: "kicked" when
    blocked, "member" when unblocked.
    """
    bot_user = harness.api.bot_user_json()

    def status(name: str) -> dict[str, Any]:
        member: dict[str, Any] = {"status": name, "user": bot_user}
        if name == "kicked":
            member["until_date"] = 0
        return member

    return {
        "update_id": 700_000 + len(harness.sent_updates),
        "my_chat_member": {
            "chat": chat or user.chat_json(),
            "from": user.user_json(),
            "date": harness.api.now_timestamp(),
            "old_chat_member": status(old),
            "new_chat_member": status(new),
        },
    }


async def test_blocked_member_recorded(harness: Harness) -> None:
    await add_dirk(harness)
    await place(harness, "PO 7")
    harness.api.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )

    report = await deliver_as_application(harness)
    [blocked_call] = [call for call in harness.api.calls_of("sendMessage") if call.error]
    blocked = DANA if blocked_call.params["chat_id"] == DANA.id else DIRK
    other = DIRK if blocked is DANA else DANA
    await place(harness, "PO 8")
    later = await deliver_as_application(harness)

    assert report.unreachable == 1
    assert not await reachable(harness, blocked)
    assert await reachable(harness, other)
    assert later.sent == 1
    assert sends_to(harness, other.id) == 2
    assert [item.chat_id for item in await stored(harness)].count(blocked.id) == 1


async def test_missing_chat_recorded(harness: Harness) -> None:
    await place(harness)
    harness.api.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found")

    report = await deliver_as_application(harness)

    assert report.unreachable == 1
    assert not await reachable(harness, DANA)


async def test_unblock_makes_reachable(harness: Harness) -> None:
    await harness.send(chat_member_update(harness, DANA, "member", "kicked"))
    blocked = await reachable(harness, DANA)
    await place(harness, "PO 7")

    await harness.send(chat_member_update(harness, DANA, "kicked", "member"))
    await place(harness, "PO 8")
    await deliver_as_application(harness)

    assert not blocked
    assert await reachable(harness, DANA)
    assert [item.payload["po_number"] for item in await stored(harness)] == ["PO 8"]
    assert sends_to(harness, DANA.id) == 1


async def test_start_makes_reachable(harness: Harness) -> None:
    await harness.send(chat_member_update(harness, DANA, "member", "kicked"))

    await harness.command(DANA, "start")

    assert await reachable(harness, DANA)


async def test_group_member_update_ignored(harness: Harness) -> None:
    group = {"id": -1001234567890, "type": "supergroup", "title": "Clinic Staff"}

    await harness.send(chat_member_update(harness, DANA, "member", "kicked", chat=group))

    assert await reachable(harness, DANA)


# Crashes and restarts


async def test_stale_claim_sent_once(harness: Harness) -> None:
    await place(harness)
    outbox = Outbox(harness.database)
    [claimed] = await outbox.claim_due(
        now=harness.clock.now(), limit=10, claimer="crashed", stale_after=DEFAULT_CLAIM_TIMEOUT
    )

    while_claimed = await harness.deliver()
    harness.clock.advance(DEFAULT_CLAIM_TIMEOUT + timedelta(seconds=1))
    after_timeout = await harness.deliver()
    again = await harness.deliver()

    assert while_claimed.claimed == 0
    assert after_timeout.sent == 1
    assert again.claimed == 0
    assert sends_to(harness, DANA.id) == 1
    assert not await outbox.mark_sent(
        claimed.id, claimer="crashed", message_id=1, now=harness.clock.now()
    )


async def test_restart_sends_nothing_twice(harness: Harness) -> None:
    await place(harness, "PO 7")
    await harness.deliver()
    await place(harness, "PO 8")

    async with restarted(harness) as application:
        assert application.job_queue is not None
        [job] = application.job_queue.get_jobs_by_name(DELIVERY_JOB_NAME)
        await job.run(application)

    assert sends_to(harness, DANA.id) == 2
    assert [item.status for item in await stored(harness)] == [NotificationStatus.SENT] * 2


async def test_reply_resolved_after_restart(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    await place(harness)
    await harness.deliver()
    notice_id = harness.last_message(DANA).message_id

    async with restarted(harness) as application:
        update = harness.updates.reply(DANA, "issue", to_message_id=notice_id)
        before = len(harness.api.calls)
        await application.process_update(Update.de_json(update, application.bot))
        calls = harness.api.calls[before:]

    assert sent_texts(calls)[0].startswith("Issue order <b>PO 7</b>?")


# Scheduling


def test_claimer_ids_unique() -> None:
    first, second = new_claimer_id(), new_claimer_id()

    assert first != second
    assert first.startswith(f"{socket.gethostname()}-{os.getpid()}-")


async def test_delivery_job_scheduled(harness: Harness) -> None:
    job_queue = harness.application.job_queue
    assert job_queue is not None

    [job] = job_queue.get_jobs_by_name(DELIVERY_JOB_NAME)

    assert job.job.trigger.interval == DEFAULT_DELIVERY_INTERVAL


async def test_order_form_requests_delivery(harness: Harness) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 7")
    await harness.text(AIKO, "2")

    await harness.press_label(AIKO, "Confirm")

    job_queue = harness.application.job_queue
    assert job_queue is not None
    assert len(job_queue.get_jobs_by_name(IMMEDIATE_JOB_NAME)) == 1


async def test_cancel_requests_delivery(harness: Harness) -> None:
    await place(harness)
    await harness.command(AIKO, "history")
    await harness.press_label(AIKO, "Cancel PO 7")

    await harness.press_label(AIKO, "Yes, cancel the order")

    job_queue = harness.application.job_queue
    assert job_queue is not None
    assert len(job_queue.get_jobs_by_name(IMMEDIATE_JOB_NAME)) == 1


async def test_jobs_deliver_when_running(harness: Harness) -> None:
    harness.resume_jobs()
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 7")
    await harness.text(AIKO, "2")
    await harness.press_label(AIKO, "Confirm")

    for _ in range(100):
        if sends_to(harness, DANA.id):
            break
        await asyncio.sleep(0.05)

    assert sends_to(harness, DANA.id) == 1


# Texts


def test_placed_text_in_dealer_zone() -> None:
    text, markup = render_notification(notification(NotificationKind.ORDER_PLACED, ORDER_PAYLOAD))

    assert "from <b>Clinic &amp; Co</b>" in text
    assert "PO number: <b>PO &lt;7&gt;</b>" in text
    assert "Ordered: 2026-12-04" in text
    assert markup is not None
    assert markup.inline_keyboard[0][0].callback_data == encode(AskIssue(42))


def test_issued_text_in_customer_zone() -> None:
    text, markup = render_notification(notification(NotificationKind.ORDER_ISSUED, ORDER_PAYLOAD))

    assert "Issued: 2026-12-06" in text
    assert markup is None


def test_cancelled_issuance_text_for_customer() -> None:
    payload = CANCELLED_ISSUANCE_PAYLOAD | {"recipient_tier": Tier.CUSTOMER.value}

    text, _ = render_notification(notification(NotificationKind.ISSUANCE_CANCELLED, payload))

    assert "Reason: Wrong &lt;customer&gt;" in text
    assert "You may now cancel the order until 2026-12-20 01:00 JST." in text


def test_cancelled_issuance_text_for_dealer() -> None:
    payload = CANCELLED_ISSUANCE_PAYLOAD | {"recipient_tier": Tier.DEALER.value}

    text, _ = render_notification(notification(NotificationKind.ISSUANCE_CANCELLED, payload))

    assert "are back in your stock" in text
    assert "cancel the order until" not in text


def test_cancelled_issuance_text_without_recipient() -> None:
    kind = NotificationKind.ISSUANCE_CANCELLED

    text, _ = render_notification(notification(kind, CANCELLED_ISSUANCE_PAYLOAD))

    assert "The customer may now cancel the order until 2026-12-20 01:00 JST." in text


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": "3"},
        {"ordered_at": "2026-12-04T23:30:00"},
        {"ordered_at": "yesterday"},
        {"dealer_timezone": "Mars/Olympus"},
        {"customer": None},
    ],
    ids=["quantity-text", "naive-time", "not-a-time", "unknown-zone", "missing-name"],
)
def test_invalid_payload_rejected(change: dict[str, Any]) -> None:
    payload = ORDER_PAYLOAD | change

    with pytest.raises(InvalidPayload):
        render_notification(notification(NotificationKind.ORDER_PLACED, payload))


def test_payload_without_key_rejected() -> None:
    payload = {key: value for key, value in ORDER_PAYLOAD.items() if key != "quantity"}

    with pytest.raises(InvalidPayload):
        render_notification(notification(NotificationKind.ORDER_PLACED, payload))


async def test_notification_html_valid(harness: Harness) -> None:
    await place(harness, "<i>PO</i> & <b>", 1)

    await harness.deliver()

    [call] = harness.api.calls_of("sendMessage")
    assert keyboard(call)[0][0][0] == "Issue"
    assert_valid_html([call])
