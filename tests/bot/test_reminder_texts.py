"""Texts of the reminders, as the scheduler's scan stores them and the dispatcher sends them.

Most tests take the real path: a use case changes the database, the clock
moves, ``run_scheduled_work`` adds the reminders and the harness delivers
them through the offline Bot API. The tests at the end render hand-made
payloads for the cases the path cannot reach.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.callbacks import AskCancelOrder, OrderMissing, encode
from bot.offline_api import ApiCall
from bot.scheduling import run_scheduled_work
from bot.services import SERVICES_KEY
from bot.views.notifications import InvalidPayload, render_notification
from core.licenses import License
from core.notifications import Notification, NotificationKind, NotificationStatus
from core.orders import Order, OrderStatus
from core.use_cases.issuing import issue_order
from core.use_cases.license_users import set_auto_assign
from core.use_cases.ordering import place_order
from tests.bot.conftest import (
    AIKO,
    BEN,
    BRUNO,
    CLAIRE,
    DANA,
    HANA,
    Harness,
    alerts,
    assert_valid_html,
    assign_to,
    give_licenses,
    keyboard,
    sent_texts,
    stored_order,
)

CANCEL_WINDOW = timedelta(days=14)


async def scan(harness: Harness) -> list[ApiCall]:
    """Run the scheduler's work once at the harness time and deliver; return the Bot API calls.

    Notifications stored before the scan are delivered first and left out.
    """
    await harness.deliver()
    before = len(harness.api.calls)
    services = harness.application.bot_data[SERVICES_KEY]
    await run_scheduled_work(services, harness.clock.now())
    await harness.deliver()
    return harness.api.calls[before:]


def texts_to(calls: list[ApiCall], chat_id: int) -> list[str]:
    return sent_texts([call for call in calls if call.params.get("chat_id") == chat_id])


async def place(harness: Harness, po_number: str, quantity: int = 2) -> Order:
    placed = await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        po_number=po_number,
        quantity=quantity,
        policy=harness.policy,
        now=harness.clock.now(),
    )
    await harness.deliver()
    return placed.order


# Cancel window


async def test_window_closing_text(harness: Harness) -> None:
    await place(harness, "PO <7> & co")
    harness.clock.advance(timedelta(days=13))

    calls = await scan(harness)

    [text] = texts_to(calls, AIKO.id)
    # Placed 2026-12-04 09:00 UTC: the window closes 14 days later, 10:00 in Berlin.
    assert text.startswith("<b>Cancel window closes soon</b>\n")
    assert (
        "The cancel window of order <b>PO &lt;7&gt; &amp; co</b> closes on "
        "2026-12-18 10:00 CET. Cancel it now if you no longer need it." in text
    )
    assert "2 licenses from Dealer Berlin, ordered 2026-12-04." in text
    assert_valid_html(calls)


async def test_window_closing_button(harness: Harness) -> None:
    order = await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=13))

    calls = await scan(harness)

    [message] = [call for call in calls if call.params.get("chat_id") == AIKO.id]
    assert keyboard(message) == [[("Cancel PO 7", encode(AskCancelOrder(order.id, 1)))]]


async def test_window_closing_only_to_customer(harness: Harness) -> None:
    await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=13))

    calls = await scan(harness)

    recipients = {call.params["chat_id"] for call in calls if call.method == "sendMessage"}
    assert recipients == {AIKO.id}


async def test_window_closing_not_before_lead(harness: Harness) -> None:
    await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=13) - timedelta(seconds=1))

    calls = await scan(harness)

    assert texts_to(calls, AIKO.id) == []


async def test_reminder_cancel_opens_question(harness: Harness) -> None:
    await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=13))
    await scan(harness)

    calls = await harness.press_label(AIKO, "Cancel PO 7")

    [edit] = [call for call in calls if call.method == "editMessageText"]
    assert edit.params["text"].startswith("Cancel order <b>PO 7</b>?")
    assert [label for row in keyboard(edit) for label, _ in row] == [
        "Yes, cancel the order",
        "No, keep it",
    ]


async def test_reminder_keep_shows_history(harness: Harness) -> None:
    order = await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=13))
    await scan(harness)
    await harness.press_label(AIKO, "Cancel PO 7")

    calls = await harness.press_label(AIKO, "No, keep it")

    [edit] = [call for call in calls if call.method == "editMessageText"]
    assert edit.params["text"].startswith("<b>Order history</b> of Clinic Am See\nPage 1 of 1")
    assert (await stored_order(harness, order.id)).status is OrderStatus.ON_ORDER


async def test_reminder_cancel_confirmed(harness: Harness) -> None:
    order = await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=13))
    await scan(harness)
    await harness.press_label(AIKO, "Cancel PO 7")

    calls = await harness.press_label(AIKO, "Yes, cancel the order")

    assert alerts(calls) == ["Order cancelled"]
    assert (await stored_order(harness, order.id)).status is OrderStatus.CANCELLED


async def test_reminder_cancel_after_close(harness: Harness) -> None:
    order = await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=13))
    await scan(harness)
    harness.clock.advance(timedelta(days=1))

    calls = await harness.press_label(AIKO, "Cancel PO 7")

    [alert] = alerts(calls)
    assert "window" in alert
    assert (await stored_order(harness, order.id)).status is OrderStatus.ON_ORDER


async def test_window_closed_text(harness: Harness) -> None:
    await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=13))
    await scan(harness)
    harness.clock.advance(timedelta(days=1))

    calls = await scan(harness)

    [text] = texts_to(calls, AIKO.id)
    assert text.startswith("<b>Cancel window closed</b>\n")
    assert (
        "The cancel window of order <b>PO 7</b> closed on 2026-12-18 10:00 CET. The order "
        "can no longer be cancelled; it waits for Dealer Berlin to issue it." in text
    )
    assert [call for call in calls if call.params.get("reply_markup")] == []


async def test_late_scan_sends_closed_only(harness: Harness) -> None:
    await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=15))

    calls = await scan(harness)

    [text] = texts_to(calls, AIKO.id)
    assert text.startswith("<b>Cancel window closed</b>")


async def test_window_reminders_sent_once(harness: Harness) -> None:
    await place(harness, "PO 7")
    harness.clock.advance(timedelta(days=13))
    await scan(harness)

    harness.clock.advance(timedelta(minutes=1))
    calls = await scan(harness)

    assert texts_to(calls, AIKO.id) == []


# Issuance window


async def issue(harness: Harness, order: Order) -> None:
    await issue_order(
        harness.database.unit_of_work(),
        telegram_user_id=DANA.id,
        order_id=order.id,
        now=harness.clock.now(),
    )
    await harness.deliver()


async def test_issuance_closing_headquarters(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO & 8", quantity=3)
    await issue(harness, order)
    harness.clock.advance(timedelta(days=13))

    calls = await scan(harness)

    [text] = texts_to(calls, HANA.id)
    # Vendor HQ is in Asia/Tokyo: 2026-12-18 09:00 UTC is 18:00 JST.
    assert text.startswith("<b>Issuance can be cancelled until 2026-12-18 18:00 JST</b>\n")
    assert "Customer: Clinic Am See\nDealer: Dealer Berlin\n" in text
    assert "PO number: <b>PO &amp; 8</b>\n" in text
    assert "Licenses: 3, issued 2026-12-04\n" in text
    assert "cancel it with /issuances before that time." in text
    assert_valid_html(calls)


async def test_issuance_closing_business_centre(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 8", quantity=3)
    await issue(harness, order)
    harness.clock.advance(timedelta(days=13))

    calls = await scan(harness)

    [text] = texts_to(calls, BRUNO.id)
    assert text.startswith("<b>Issuance can be cancelled until 2026-12-18 10:00 CET</b>\n")
    assert texts_to(calls, CLAIRE.id) == []
    assert texts_to(calls, AIKO.id) == []


async def test_issuance_closing_skips_used(harness: Harness) -> None:
    await give_licenses(harness, 2)
    await assign_to(harness, "anna@example.com")
    harness.clock.advance(timedelta(days=13))

    calls = await scan(harness)

    assert texts_to(calls, HANA.id) == []
    assert texts_to(calls, BRUNO.id) == []


# License expiry


async def assigned_license(harness: Harness, email: str = "anna@example.com") -> License:
    await give_licenses(harness, 1)
    return await assign_to(harness, email)


async def test_expiring_in_30_days(harness: Harness) -> None:
    license = await assigned_license(harness)
    assert license.expires_at is not None
    harness.clock.current = license.expires_at - timedelta(days=30)

    calls = await scan(harness)

    [text] = texts_to(calls, AIKO.id)
    # Assigned 2026-12-04 10:00 in Berlin, so it expires at the start of 2027-12-04 there.
    assert text.startswith("<b>License expires in 30 days</b>\n")
    assert "The license of anna@example.com expires on 2027-12-04, in 30 days." in text
    assert "/autoassign anna@example.com off" in text


async def test_expiring_in_7_days(harness: Harness) -> None:
    license = await assigned_license(harness)
    assert license.expires_at is not None
    harness.clock.current = license.expires_at - timedelta(days=30)
    await scan(harness)
    harness.clock.current = license.expires_at - timedelta(days=7)

    calls = await scan(harness)

    [text] = [text for text in texts_to(calls, AIKO.id) if "License expires" in text]
    assert "expires on 2027-12-04, in 7 days." in text


async def test_expiring_late_counts_days_left(harness: Harness) -> None:
    license = await assigned_license(harness)
    assert license.expires_at is not None
    harness.clock.current = license.expires_at - timedelta(days=5, hours=1)

    calls = await scan(harness)

    [text] = [text for text in texts_to(calls, AIKO.id) if "License expires" in text]
    assert text.startswith("<b>License expires in 6 days</b>\n")


async def test_auto_assigned_text(harness: Harness) -> None:
    license = await assigned_license(harness)
    await give_licenses(harness, 1)
    assert license.expires_at is not None
    harness.clock.current = license.expires_at

    calls = await scan(harness)

    [renewed] = texts_to(calls, AIKO.id)
    assert renewed.startswith("<b>License renewed by auto-assign</b>\n")
    assert "The license of anna@example.com expired on 2027-12-04." in renewed
    # The fresh license is assigned on 2027-12-04, so it expires a year later.
    assert "which expires on 2028-12-04." in renewed


async def test_auto_assign_failed_text(harness: Harness) -> None:
    license = await assigned_license(harness)
    assert license.expires_at is not None
    harness.clock.current = license.expires_at

    calls = await scan(harness)

    [text] = texts_to(calls, AIKO.id)
    assert text.startswith("<b>No license left for anna@example.com</b>\n")
    assert "auto-assign found no unused license" in text
    assert "/order" in text
    assert "/activate KEY" in text
    assert "/assign anna@example.com" in text


async def test_expired_with_auto_assign_off(harness: Harness) -> None:
    license = await assigned_license(harness)
    await give_licenses(harness, 1)
    await set_auto_assign(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        email="anna@example.com",
        enabled=False,
        now=harness.clock.now(),
    )
    assert license.expires_at is not None
    harness.clock.current = license.expires_at

    calls = await scan(harness)

    [text] = texts_to(calls, AIKO.id)
    assert text.startswith("<b>License expired</b>\n")
    assert "The license of anna@example.com expired on 2027-12-04." in text
    assert "/autoassign anna@example.com on" in text


async def test_expiry_not_sent_to_others(harness: Harness) -> None:
    license = await assigned_license(harness)
    assert license.expires_at is not None
    harness.clock.current = license.expires_at - timedelta(days=7)

    calls = await scan(harness)

    recipients = {call.params["chat_id"] for call in calls if call.method == "sendMessage"}
    assert recipients == {AIKO.id}
    assert BEN.id not in recipients


# Shortage


async def test_shortage_text(harness: Harness) -> None:
    await give_licenses(harness, 3)
    expiring = [await assign_to(harness, f"user{n}@example.com") for n in range(3)]
    await give_licenses(harness, 1)
    expires_at = expiring[0].expires_at
    assert expires_at is not None
    harness.clock.current = expires_at - timedelta(days=13)

    calls = await scan(harness)

    [message] = [call for call in calls if "run short" in call.params.get("text", "")]
    assert message.params["chat_id"] == AIKO.id
    text = message.params["text"]
    assert text.startswith("<b>Licenses will run short</b>\n")
    assert (
        "3 users' licenses expire within 14 days, but only 1 unused license is left; "
        "2 are missing." in text
    )
    assert keyboard(message) == [[("Order 2 licenses", encode(OrderMissing(2)))]]


async def test_shortage_warned_once(harness: Harness) -> None:
    await give_licenses(harness, 2)
    expiring = [await assign_to(harness, f"user{n}@example.com") for n in range(2)]
    expires_at = expiring[0].expires_at
    assert expires_at is not None
    harness.clock.current = expires_at - timedelta(days=13)
    await scan(harness)

    harness.clock.advance(timedelta(days=1))
    calls = await scan(harness)

    assert [text for text in texts_to(calls, AIKO.id) if "run short" in text] == []


# Hand-made payloads


def notification(
    kind: NotificationKind,
    payload: dict[str, Any],
    *,
    order_id: int | None = 42,
    created_at: datetime = datetime(2027, 11, 26, 8, 0, tzinfo=UTC),
) -> Notification:
    return Notification(
        id=7,
        kind=kind,
        member_id=1,
        chat_id=AIKO.id,
        created_at=created_at,
        status=NotificationStatus.SENDING,
        order_id=order_id,
        payload=payload,
    )


ORDER: dict[str, Any] = {
    "po_number": "PO 7",
    "quantity": 1,
    "customer": "Clinic Am See",
    "customer_timezone": "Europe/Berlin",
    "dealer": "Dealer <Berlin>",
    "dealer_timezone": "Europe/Berlin",
    "ordered_at": "2027-11-12T09:00:00+00:00",
    "issued_at": None,
    "deadline": "2027-11-26T09:00:00+00:00",
    "recipient_timezone": "America/New_York",
}
LICENSE: dict[str, Any] = {
    "license_id": 3,
    "email": "anna@example.com",
    "expires_at": "2027-12-03T23:00:00+00:00",
    "customer": "Clinic Am See",
    "customer_timezone": "Europe/Berlin",
    "days": 7,
}
SHORTAGE: dict[str, Any] = {
    "customer": "Clinic Am See",
    "customer_timezone": "Europe/Berlin",
    "missing": 1,
    "users": 1,
    "available": 0,
    "horizon_days": 14,
}


def test_one_user_shortage() -> None:
    text, markup = render_notification(notification(NotificationKind.SHORTAGE, SHORTAGE))

    assert (
        "1 user's license expires within 14 days, but no unused license is left; "
        "1 is missing." in text
    )
    assert markup is not None
    assert markup.inline_keyboard[0][0].text == "Order 1 license"


def test_shortage_none_missing() -> None:
    payload = SHORTAGE | {"missing": 0}

    with pytest.raises(InvalidPayload, match="missing must be at least 1"):
        render_notification(notification(NotificationKind.SHORTAGE, payload))


def test_closing_without_order() -> None:
    with pytest.raises(InvalidPayload, match="names no order"):
        render_notification(notification(NotificationKind.WINDOW_CLOSING, ORDER, order_id=None))


def test_dealer_name_escaped() -> None:
    text, _ = render_notification(notification(NotificationKind.WINDOW_CLOSED, ORDER))

    assert "Dealer &lt;Berlin&gt;" in text


def test_issuance_in_recipient_zone() -> None:
    payload = ORDER | {"issued_at": "2027-11-12T10:00:00+00:00"}

    text, _ = render_notification(notification(NotificationKind.ISSUANCE_WINDOW_CLOSING, payload))

    assert "until 2027-11-26 04:00 EST" in text


def test_issuance_without_issue_date() -> None:
    with pytest.raises(InvalidPayload, match="issued_at"):
        render_notification(notification(NotificationKind.ISSUANCE_WINDOW_CLOSING, ORDER))


def test_expiring_days_from_creation() -> None:
    # Created 09:00 on 26 November in Berlin; expires at the start of 4 December there.
    text, _ = render_notification(notification(NotificationKind.LICENSE_EXPIRING, LICENSE))

    assert "expires on 2027-12-04, in 8 days." in text


def test_expiring_at_least_one_day() -> None:
    created_at = datetime(2027, 12, 3, 22, 59, tzinfo=UTC)

    text, _ = render_notification(
        notification(NotificationKind.LICENSE_EXPIRING, LICENSE, created_at=created_at)
    )

    assert text.startswith("<b>License expires in 1 day</b>")


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        (NotificationKind.WINDOW_CLOSING, "deadline"),
        (NotificationKind.WINDOW_CLOSED, "customer_timezone"),
        (NotificationKind.LICENSE_EXPIRING, "email"),
        (NotificationKind.LICENSE_EXPIRED, "expires_at"),
        (NotificationKind.AUTO_ASSIGNED, "new_expires_at"),
        (NotificationKind.AUTO_ASSIGN_FAILED, "email"),
        (NotificationKind.SHORTAGE, "users"),
    ],
)
def test_missing_key_rejected(kind: NotificationKind, key: str) -> None:
    payload = ORDER | LICENSE | SHORTAGE | {"new_expires_at": "2028-12-03T23:00:00+00:00"}
    del payload[key]

    with pytest.raises(InvalidPayload, match=key):
        render_notification(notification(kind, payload))


def test_every_kind_has_text() -> None:
    payload = (
        ORDER
        | LICENSE
        | SHORTAGE
        | {
            "issued_at": "2027-11-12T10:00:00+00:00",
            "new_expires_at": "2028-12-03T23:00:00+00:00",
            "cancelled_by": "Vendor HQ",
            "reason": "mistake",
            "cancel_deadline": "2027-11-26T09:00:00+00:00",
        }
    )

    for kind in NotificationKind:
        text, _ = render_notification(notification(kind, payload))
        assert text, kind
