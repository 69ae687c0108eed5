"""The Order button of a shortage warning: the order form with the number of licenses preset."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.callbacks import OrderMissing, encode
from bot.scheduling import run_scheduled_work
from bot.services import SERVICES_KEY
from bot.views.orders import FORM_BUSY_BUTTON, UNKNOWN_ORDER_BUTTON
from core.orders import OrderStatus
from core.use_cases.ordering import place_order
from tests.bot.conftest import (
    AIKO,
    DANA,
    Harness,
    alerts,
    assign_to,
    button_labels,
    give_licenses,
    methods,
    popup_flags,
    sent_texts,
    stored_orders,
)

ASK_PO = (
    "New order of 3 licenses for <b>Clinic Am See</b> from dealer <b>Dealer Berlin</b>.\n\n"
    "Send the PO number (up to 64 characters). Send /cancel to stop without ordering."
)
NOT_UNDERSTOOD = "I did not understand that. Send /help to see what you can do."


async def press_order_missing(harness: Harness, quantity: int = 3) -> list:
    """Press an Order button for ``quantity`` licenses on AIKO's latest message."""
    await harness.command(AIKO, "help")
    return await harness.send(
        harness.updates.callback_query(
            AIKO, harness.last_message(AIKO).message_id, encode(OrderMissing(quantity))
        )
    )


async def test_button_asks_po_number(harness: Harness) -> None:
    calls = await press_order_missing(harness)

    assert alerts(calls) == [""]
    assert sent_texts(calls) == [ASK_PO]


async def test_po_number_goes_to_summary(harness: Harness) -> None:
    await press_order_missing(harness)

    calls = await harness.text(AIKO, "PO 9")

    [text] = sent_texts(calls)
    assert text.startswith("<b>Please check your order</b>\n")
    assert "PO number: PO 9\nLicenses: 3\n" in text
    assert button_labels(calls[-1]) == ["Confirm", "Cancel"]


async def test_confirm_places_preset_quantity(harness: Harness) -> None:
    await press_order_missing(harness)
    await harness.text(AIKO, "PO 9")

    calls = await harness.press_label(AIKO, "Confirm")

    assert alerts(calls) == ["Order placed"]
    [order] = await stored_orders(harness, "Clinic Am See")
    assert order.po_number == "PO 9"
    assert order.quantity == 3
    assert order.status is OrderStatus.ON_ORDER


async def test_confirm_notifies_dealer(harness: Harness) -> None:
    await press_order_missing(harness)
    await harness.text(AIKO, "PO 9")
    await harness.press_label(AIKO, "Confirm")

    await harness.deliver()

    assert "Licenses: 3" in harness.last_message(DANA).text


async def test_discard_stores_nothing(harness: Harness) -> None:
    await press_order_missing(harness)
    await harness.text(AIKO, "PO 9")

    await harness.press_label(AIKO, "Cancel")

    assert await stored_orders(harness, "Clinic Am See") == []


async def test_cancel_command_leaves(harness: Harness) -> None:
    await press_order_missing(harness)

    calls = await harness.command(AIKO, "cancel")

    assert sent_texts(calls) == ["Order discarded. Nothing was ordered."]
    assert sent_texts(await harness.text(AIKO, "PO 9")) == [NOT_UNDERSTOOD]


async def test_duplicate_po_asked_again(harness: Harness) -> None:
    await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        po_number="PO 9",
        quantity=1,
        policy=harness.policy,
        now=harness.clock.now(),
    )
    await press_order_missing(harness)

    calls = await harness.text(AIKO, "po 9")

    [text] = sent_texts(calls)
    assert text.startswith("PO number po 9 was used on an earlier order")
    assert text.endswith(ASK_PO)
    [summary] = sent_texts(await harness.text(AIKO, "PO 10"))
    assert "Licenses: 3\n" in summary


async def test_po_used_before_confirm(harness: Harness) -> None:
    await press_order_missing(harness)
    await harness.text(AIKO, "PO 9")
    await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        po_number="PO 9",
        quantity=1,
        policy=harness.policy,
        now=harness.clock.now(),
    )

    calls = await harness.press_label(AIKO, "Confirm")

    [text] = sent_texts(calls)
    assert text.endswith(ASK_PO)
    [summary] = sent_texts(await harness.text(AIKO, "PO 10"))
    assert "PO number: PO 10\nLicenses: 3\n" in summary


@pytest.mark.parametrize(
    ("quantity", "alert"),
    [
        (0, "At least one license must be ordered. Send a whole number from 1 to 1000."),
        (
            1001,
            "At most 1000 licenses can be ordered at once. Send a whole number from 1 to "
            "1000, or place several orders.",
        ),
    ],
    ids=["zero", "above-maximum"],
)
async def test_forged_quantity_rejected(harness: Harness, quantity: int, alert: str) -> None:
    calls = await press_order_missing(harness, quantity)

    assert alerts(calls) == [alert]
    assert popup_flags(calls) == [True]
    assert methods(calls) == ["answerCallbackQuery"]
    assert sent_texts(await harness.text(AIKO, "PO 9")) == [NOT_UNDERSTOOD]


async def test_rejected_press_keeps_form(harness: Harness) -> None:
    await harness.command(AIKO, "order")

    calls = await harness.press(AIKO, encode(OrderMissing(0)))

    [alert] = alerts(calls)
    assert alert.startswith("At least one license must be ordered.")
    [question] = sent_texts(await harness.text(AIKO, "PO 9"))
    assert "How many licenses?" in question


async def test_maximum_quantity_accepted(harness: Harness) -> None:
    calls = await press_order_missing(harness, 1000)

    assert alerts(calls) == [""]
    [text] = sent_texts(calls)
    assert text.startswith("New order of 1000 licenses")


@pytest.mark.parametrize("data", ["om:abc", "om:1:2", "om:", "om:99999999999"])
async def test_malformed_button_rejected(harness: Harness, data: str) -> None:
    await harness.command(AIKO, "help")

    calls = await harness.press(AIKO, data)

    assert alerts(calls) == [UNKNOWN_ORDER_BUTTON]
    assert methods(calls) == ["answerCallbackQuery"]


async def test_dealer_cannot_order(harness: Harness) -> None:
    await harness.command(DANA, "help")

    calls = await harness.press(DANA, encode(OrderMissing(3)))

    [alert] = alerts(calls)
    assert alert.startswith("Only customer administrators can order licenses")
    assert methods(calls) == ["answerCallbackQuery"]


async def test_other_form_kept(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await harness.command(AIKO, "assign")

    calls = await harness.press(AIKO, encode(OrderMissing(3)))

    assert alerts(calls) == [FORM_BUSY_BUTTON]
    [text] = sent_texts(await harness.text(AIKO, "anna@example.com"))
    assert "anna@example.com" in text


async def test_restarts_open_order_form(harness: Harness) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 8")

    calls = await harness.press(AIKO, encode(OrderMissing(3)))

    assert sent_texts(calls) == [ASK_PO]
    [summary] = sent_texts(await harness.text(AIKO, "PO 9"))
    assert "PO number: PO 9\nLicenses: 3\n" in summary


async def test_from_shortage_warning(harness: Harness) -> None:
    await give_licenses(harness, 2)
    first = await assign_to(harness, "anna@example.com")
    await assign_to(harness, "ben@example.com")
    assert first.expires_at is not None
    harness.clock.current = first.expires_at - timedelta(days=10)
    await run_scheduled_work(harness.application.bot_data[SERVICES_KEY], harness.clock.now())
    await harness.deliver()

    calls = await harness.press_label(AIKO, "Order 2 licenses")

    [text] = sent_texts(calls)
    assert text.startswith("New order of 2 licenses for <b>Clinic Am See</b>")
