"""Cancelling an order from /history: question, confirmation, cancel window, forged ids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.orders import Order, OrderStatus
from tests.bot.conftest import (
    AIKO,
    BEN,
    DANA,
    Harness,
    alerts,
    audit_entries,
    edits,
    keyboard,
    mark_issued,
    methods,
    place_orders,
    popup_flags,
    sent_texts,
    stored_order,
)

CANCEL_WINDOW = timedelta(days=14)
NOT_FOUND = "That order was not found among your orders."
WINDOW_CLOSED = (
    "The cancel window of order PO 1 has closed; an order can be cancelled "
    "within 14 days of being placed."
)


async def one_open_order(harness: Harness) -> Order:
    """Place PO 1 for AIKO and show AIKO's history with its Cancel button."""
    [order] = await place_orders(harness, AIKO, 1)
    await harness.command(AIKO, "history")
    return order


async def cancel_actions(harness: Harness, order: Order) -> list[str]:
    entries = await audit_entries(harness, "order", order.id)
    return [entry.action for entry in entries if entry.action == "order.cancelled"]


# Question and answer


async def test_cancel_asks_confirmation(harness: Harness) -> None:
    order = await one_open_order(harness)
    message_id = harness.last_message(AIKO).message_id

    calls = await harness.press_label(AIKO, "Cancel PO 1")

    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert alerts(calls) == [""]
    [edit] = edits(calls)
    assert edit.params["message_id"] == message_id
    assert edit.params["parse_mode"] == "HTML"
    assert edit.params["text"] == (
        "Cancel order <b>PO 1</b>?\n"
        "1 license, ordered 2026-12-04.\n"
        "It can be cancelled until 2026-12-18 10:01 CET. "
        "A cancelled order stays in the history as Order Canceled."
    )
    assert keyboard(edit) == [
        [("Yes, cancel the order", f"oc!:{order.id}:1"), ("No, keep it", "hp:1:0")]
    ]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ON_ORDER


async def test_cancel_yes_cancels(harness: Harness) -> None:
    order = await one_open_order(harness)
    message_id = harness.last_message(AIKO).message_id
    await harness.press_label(AIKO, "Cancel PO 1")

    calls = await harness.press_label(AIKO, "Yes, cancel the order")

    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert alerts(calls) == ["Order cancelled"]
    [edit] = edits(calls)
    assert edit.params["message_id"] == message_id
    assert edit.params["text"] == (
        "Order <b>PO 1</b> has been cancelled.\n\n"
        "<b>Order history</b> of Clinic Am See\n"
        "Page 1 of 1, 1 order\n\n"
        "<b>PO 1</b>\n"
        "Ordered 2026-12-04 · Issued - · 1 license · Order Canceled"
    )
    assert "reply_markup" not in edit.params
    assert (await stored_order(harness, order.id)).status is OrderStatus.CANCELLED


async def test_cancel_yes_audited(harness: Harness) -> None:
    order = await one_open_order(harness)
    await harness.press_label(AIKO, "Cancel PO 1")

    await harness.press_label(AIKO, "Yes, cancel the order")

    entries = await audit_entries(harness, "order", order.id)
    [entry] = [e for e in entries if e.action == "order.cancelled"]
    assert entry.actor_member_id is not None
    assert entry.before == {"status": "on_order"}
    assert entry.after == {"status": "cancelled"}
    assert entry.at == harness.clock.now()


async def test_cancelled_stays_in_history(harness: Harness) -> None:
    await one_open_order(harness)
    await harness.press_label(AIKO, "Cancel PO 1")
    await harness.press_label(AIKO, "Yes, cancel the order")

    calls = await harness.command(AIKO, "history")

    assert "Page 1 of 1, 1 order\n" in sent_texts(calls)[0]
    assert "1 license · Order Canceled" in sent_texts(calls)[0]
    assert "reply_markup" not in calls[0].params


async def test_cancel_no_keeps_order(harness: Harness) -> None:
    order = await one_open_order(harness)
    await harness.press_label(AIKO, "Cancel PO 1")

    calls = await harness.press_label(AIKO, "No, keep it")

    assert alerts(calls) == [""]
    [edit] = edits(calls)
    assert "1 license · Licenses on Order" in edit.params["text"]
    assert keyboard(edit) == [[("Cancel PO 1", f"oc?:{order.id}:1")]]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ON_ORDER
    assert await cancel_actions(harness, order) == []


async def test_cancel_from_second_page(harness: Harness) -> None:
    orders = await place_orders(harness, AIKO, 11)
    await harness.command(AIKO, "history")
    await harness.press_label(AIKO, "›")

    question = await harness.press_label(AIKO, "Cancel PO 1")
    calls = await harness.press_label(AIKO, "Yes, cancel the order")

    assert keyboard(edits(question)[0])[0][0][1] == f"oc!:{orders[0].id}:2"
    [edit] = edits(calls)
    assert "Page 2 of 2, 11 orders" in edit.params["text"]
    assert edit.params["text"].startswith("Order <b>PO 1</b> has been cancelled.")


async def test_cancel_with_forged_page(harness: Harness) -> None:
    """The order is cancelled, and page 1 is shown in place of a page that does not exist."""
    order = await one_open_order(harness)

    calls = await harness.press(AIKO, f"oc!:{order.id}:999")

    assert alerts(calls) == ["Order cancelled"]
    assert "Page 1 of 1, 1 order" in edits(calls)[0].params["text"]
    assert (await stored_order(harness, order.id)).status is OrderStatus.CANCELLED


# The cancel window


async def test_cancel_last_second_of_window(harness: Harness) -> None:
    [order] = await place_orders(harness, AIKO, 1)
    harness.clock.advance(CANCEL_WINDOW - timedelta(seconds=1))
    history = await harness.command(AIKO, "history")

    question = await harness.press_label(AIKO, "Cancel PO 1")
    calls = await harness.press_label(AIKO, "Yes, cancel the order")

    assert keyboard(history[0]) == [[("Cancel PO 1", f"oc?:{order.id}:1")]]
    assert "Can be cancelled until 2026-12-18 10:01 CET" in sent_texts(history)[0]
    assert alerts(question) == [""]
    assert alerts(calls) == ["Order cancelled"]
    assert (await stored_order(harness, order.id)).status is OrderStatus.CANCELLED


async def test_no_cancel_button_at_window_end(harness: Harness) -> None:
    await place_orders(harness, AIKO, 1)
    harness.clock.advance(CANCEL_WINDOW)

    calls = await harness.command(AIKO, "history")

    assert "reply_markup" not in calls[0].params
    assert "Can be cancelled" not in sent_texts(calls)[0]
    assert "1 license · Licenses on Order" in sent_texts(calls)[0]


@pytest.mark.parametrize("prefix", ["oc!", "oc?"], ids=["confirm", "ask"])
async def test_stale_press_after_window(harness: Harness, prefix: str) -> None:
    order = await one_open_order(harness)
    harness.clock.advance(CANCEL_WINDOW)

    calls = await harness.press(AIKO, f"{prefix}:{order.id}:1")

    assert alerts(calls) == [WINDOW_CLOSED]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []
    assert await stored_order(harness, order.id) == order


async def test_stale_yes_after_window(harness: Harness) -> None:
    order = await one_open_order(harness)
    await harness.press_label(AIKO, "Cancel PO 1")
    harness.clock.advance(CANCEL_WINDOW)

    calls = await harness.press_label(AIKO, "Yes, cancel the order")

    assert alerts(calls) == [WINDOW_CLOSED]
    assert edits(calls) == []
    assert await stored_order(harness, order.id) == order
    assert await cancel_actions(harness, order) == []


# Presses that must change nothing


async def test_second_yes_already_cancelled(harness: Harness) -> None:
    order = await one_open_order(harness)
    await harness.press_label(AIKO, "Cancel PO 1")
    message = harness.last_message(AIKO)
    yes = message.inline_keyboard[0][0]["callback_data"]
    await harness.press(AIKO, yes, message.message_id)

    calls = await harness.press(AIKO, yes, message.message_id)

    assert alerts(calls) == ["Order PO 1 was already cancelled."]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []
    assert await cancel_actions(harness, order) == ["order.cancelled"]


async def test_second_cancel_press(harness: Harness) -> None:
    """A double click on Cancel renders the same question twice, so Telegram reports no change."""
    order = await one_open_order(harness)
    message = harness.last_message(AIKO)
    await harness.press(AIKO, f"oc?:{order.id}:1", message.message_id)

    calls = await harness.press(AIKO, f"oc?:{order.id}:1", message.message_id)

    assert alerts(calls) == [""]
    assert sent_texts(calls) == []


async def test_second_no_press(harness: Harness) -> None:
    await one_open_order(harness)
    await harness.press_label(AIKO, "Cancel PO 1")
    message = harness.last_message(AIKO)
    await harness.press(AIKO, "hp:1:0", message.message_id)

    calls = await harness.press(AIKO, "hp:1:0", message.message_id)

    assert alerts(calls) == [""]
    assert sent_texts(calls) == []


@pytest.mark.parametrize("prefix", ["oc!", "oc?"], ids=["confirm", "ask"])
async def test_other_customers_order(harness: Harness, prefix: str) -> None:
    [foreign] = await place_orders(harness, BEN, 1)
    await one_open_order(harness)

    calls = await harness.press(AIKO, f"{prefix}:{foreign.id}:1")

    assert alerts(calls) == [NOT_FOUND]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []
    assert await stored_order(harness, foreign.id) == foreign
    assert await cancel_actions(harness, foreign) == []


@pytest.mark.parametrize("prefix", ["oc!", "oc?"], ids=["confirm", "ask"])
async def test_missing_order_same_answer(harness: Harness, prefix: str) -> None:
    await one_open_order(harness)

    calls = await harness.press(AIKO, f"{prefix}:999999:1")

    assert alerts(calls) == [NOT_FOUND]


@pytest.mark.parametrize("prefix", ["oc!", "oc?"], ids=["confirm", "ask"])
async def test_issued_order_not_cancelled(harness: Harness, prefix: str) -> None:
    order = await one_open_order(harness)
    issued = await mark_issued(harness, order.id)

    calls = await harness.press(AIKO, f"{prefix}:{order.id}:1")

    assert alerts(calls) == ["Order PO 1 has been issued, so it can no longer be cancelled."]
    assert edits(calls) == []
    assert await stored_order(harness, order.id) == issued


async def test_cancel_refused_for_dealer(harness: Harness) -> None:
    [order] = await place_orders(harness, AIKO, 1)
    await harness.command(DANA, "help")

    calls = await harness.press(DANA, f"oc!:{order.id}:1")

    assert alerts(calls) == [
        "Only customer administrators can cancel orders; "
        "you are a member of Dealer Berlin, a dealer."
    ]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ON_ORDER


@pytest.mark.parametrize(
    "data", ["oc!:abc:1", "oc!:1", "oc?:", "oc!:1:1:1", "oc!:-1:1", "oc?:1:" + "9" * 60]
)
async def test_forged_cancel_data(harness: Harness, data: str) -> None:
    order = await one_open_order(harness)

    calls = await harness.press(AIKO, data)

    assert alerts(calls) == [
        "This button is no longer valid. Send /history to see your orders again."
    ]
    assert edits(calls) == []
    assert await stored_order(harness, order.id) == order
