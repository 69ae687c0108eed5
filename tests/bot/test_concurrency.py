"""Updates processed at the same time, as with several members or a double click.

``Application.process_update`` takes no lock (python-telegram-bot 22.8), so
``asyncio.gather`` over ``harness.send`` runs the handlers interleaved.
``test_double_confirm_at_once`` shows the interleaving: processed one after
the other, its second press would get the alert "already placed". The bot's
``run_polling`` processes one update at a time, because the Application is
built without ``concurrent_updates``, but two members of one customer still
act at the same moment through different chats.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.offline_api import ApiCall
from bot.offline_updates import OfflineUser
from core.orders import Order, OrderStatus
from core.use_cases.membership import add_member
from tests.bot.conftest import (
    AIKO,
    Harness,
    alerts,
    audit_entries,
    place_orders,
    sent_texts,
    stored_order,
    stored_orders,
)

KENJI = OfflineUser(5003, "Kenji", "Mori")
ALREADY_CANCELLED = "Order PO 1 was already cancelled."
CHANGED_MEANWHILE = (
    "Someone else changed this order at the same moment; nothing was changed. "
    "Look at it again and retry."
)


async def send_at_once(harness: Harness, *updates: dict[str, Any]) -> list[ApiCall]:
    """Process the updates concurrently and return every Bot API call they caused."""
    before = len(harness.api.calls)
    await asyncio.gather(*(harness.send(update) for update in updates))
    return harness.api.calls[before:]


def press_update(harness: Harness, user: OfflineUser, data: str) -> dict[str, Any]:
    return harness.updates.callback_query(user, harness.last_message(user).message_id, data)


async def add_kenji(harness: Harness) -> None:
    """Make KENJI a second administrator of Clinic Am See."""
    await add_member(
        harness.database.unit_of_work(),
        organisation_name="Clinic Am See",
        telegram_user_id=KENJI.id,
        name=KENJI.full_name,
        now=harness.clock.now(),
    )


async def cancellations(harness: Harness, order: Order) -> int:
    entries = await audit_entries(harness, "order", order.id)
    return [entry.action for entry in entries].count("order.cancelled")


async def open_summary(harness: Harness, user: OfflineUser, po_number: str) -> None:
    await harness.command(user, "order")
    await harness.text(user, po_number)
    await harness.text(user, "2")


async def test_same_user_cancels_twice(harness: Harness) -> None:
    [order] = await place_orders(harness, AIKO, 1)
    await harness.command(AIKO, "history")
    data = f"oc!:{order.id}:1"

    calls = await send_at_once(
        harness, press_update(harness, AIKO, data), press_update(harness, AIKO, data)
    )

    answers = alerts(calls)
    assert answers.count("Order cancelled") == 1
    assert len(answers) == 2
    assert answers[1 - answers.index("Order cancelled")] in {ALREADY_CANCELLED, CHANGED_MEANWHILE}
    assert (await stored_order(harness, order.id)).status is OrderStatus.CANCELLED
    assert await cancellations(harness, order) == 1


async def test_two_members_cancel_at_once(harness: Harness) -> None:
    await add_kenji(harness)
    [order] = await place_orders(harness, AIKO, 1)
    await harness.command(AIKO, "history")
    await harness.command(KENJI, "history")
    data = f"oc!:{order.id}:1"

    calls = await send_at_once(
        harness, press_update(harness, AIKO, data), press_update(harness, KENJI, data)
    )

    answers = alerts(calls)
    assert answers.count("Order cancelled") == 1
    assert len(answers) == 2
    assert answers[1 - answers.index("Order cancelled")] in {ALREADY_CANCELLED, CHANGED_MEANWHILE}
    assert await cancellations(harness, order) == 1


async def test_two_members_order_same_po(harness: Harness) -> None:
    """Both forms pass the PO check, so only the unique index stops the second order."""
    await add_kenji(harness)
    await open_summary(harness, AIKO, "PO 1")
    await open_summary(harness, KENJI, "po 1")
    aiko_confirm = harness.last_message(AIKO).inline_keyboard[0][0]["callback_data"]
    kenji_confirm = harness.last_message(KENJI).inline_keyboard[0][0]["callback_data"]

    calls = await send_at_once(
        harness,
        press_update(harness, AIKO, aiko_confirm),
        press_update(harness, KENJI, kenji_confirm),
    )

    assert sorted(alerts(calls)) == ["", "Order placed"]
    [refusal] = [text for text in sent_texts(calls) if "was used on an earlier order" in text]
    assert refusal.endswith("Send /cancel to stop without ordering.")
    assert len(await stored_orders(harness, "Clinic Am See")) == 1


async def test_two_members_different_pos(harness: Harness) -> None:
    await add_kenji(harness)
    await open_summary(harness, AIKO, "PO 1")
    await open_summary(harness, KENJI, "PO 2")
    aiko_confirm = harness.last_message(AIKO).inline_keyboard[0][0]["callback_data"]
    kenji_confirm = harness.last_message(KENJI).inline_keyboard[0][0]["callback_data"]

    calls = await send_at_once(
        harness,
        press_update(harness, AIKO, aiko_confirm),
        press_update(harness, KENJI, kenji_confirm),
    )

    assert alerts(calls) == ["Order placed", "Order placed"]
    orders = await stored_orders(harness, "Clinic Am See")
    assert sorted(order.po_number for order in orders) == ["PO 1", "PO 2"]


async def test_double_confirm_at_once(harness: Harness) -> None:
    await open_summary(harness, AIKO, "PO 1")
    confirm = harness.last_message(AIKO).inline_keyboard[0][0]["callback_data"]

    calls = await send_at_once(
        harness, press_update(harness, AIKO, confirm), press_update(harness, AIKO, confirm)
    )

    assert alerts(calls).count("Order placed") == 1
    assert len(alerts(calls)) == 2
    assert len(await stored_orders(harness, "Clinic Am See")) == 1


async def test_text_after_double_confirm(harness: Harness) -> None:
    await open_summary(harness, AIKO, "PO 1")
    confirm = harness.last_message(AIKO).inline_keyboard[0][0]["callback_data"]
    await send_at_once(
        harness, press_update(harness, AIKO, confirm), press_update(harness, AIKO, confirm)
    )

    calls = await harness.text(AIKO, "PO 2")

    assert not any(text.startswith("Sorry, something went wrong") for text in sent_texts(calls))
