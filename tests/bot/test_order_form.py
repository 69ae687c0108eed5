"""The /order form: PO number, number of licenses, summary, Confirm."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.offline_api import SentMessage
from core.orders import OrderStatus
from core.use_cases.ordering import cancel_order, place_order
from tests.bot.conftest import (
    AIKO,
    BEN,
    DANA,
    STRANGER,
    Harness,
    alerts,
    audit_entries,
    edits,
    keyboard,
    media_message,
    methods,
    place_orders,
    popup_flags,
    remove_dealer,
    sent_texts,
    stored_orders,
)

DISCARDED = "Order discarded. Nothing was ordered."
NOT_UNDERSTOOD = "I did not understand that. Send /help to see what you can do."
FORM_CLOSED = (
    "This order form is closed, so nothing was ordered from it. Send /order to start a new one."
)
OUTDATED_FORM = (
    "This summary belongs to an older order form. Use the buttons of the latest summary."
)
SEND_TEXT = "Please answer with text. Send /cancel to stop without ordering."
PO_QUESTION = (
    "New order for <b>Clinic Am See</b> from dealer <b>Dealer Berlin</b>.\n\n"
    "Send the PO number (up to 64 characters). Send /cancel to stop without ordering."
)


def quantity_question(po_number: str) -> str:
    return (
        f"PO number: <b>{po_number}</b>\n\n"
        "How many licenses? Send a whole number from 1 to 1000. "
        "Send /cancel to stop without ordering."
    )


async def open_summary(
    harness: Harness, po_number: str = "PO 1", quantity: str = "5"
) -> SentMessage:
    """Fill the form for AIKO up to the summary and return the summary message."""
    await harness.command(AIKO, "order")
    await harness.text(AIKO, po_number)
    await harness.text(AIKO, quantity)
    summary = harness.last_message(AIKO)
    assert summary.text.startswith("Please check your order"), summary.text
    return summary


def button_data(message: SentMessage, label: str) -> str:
    for row in message.inline_keyboard:
        for button in row:
            if button["text"] == label:
                return button["callback_data"]
    raise LookupError(f"no button labelled {label!r} on message {message.message_id}")


async def po_numbers(harness: Harness, customer: str = "Clinic Am See") -> list[str]:
    return [order.po_number for order in await stored_orders(harness, customer)]


# The whole form


async def test_order_asks_po_number(harness: Harness) -> None:
    calls = await harness.command(AIKO, "order")

    assert methods(calls) == ["sendMessage"]
    assert calls[0].params["parse_mode"] == "HTML"
    assert calls[0].params["text"] == PO_QUESTION


async def test_order_asks_quantity(harness: Harness) -> None:
    await harness.command(AIKO, "order")

    calls = await harness.text(AIKO, "  PO   4711 ")

    assert sent_texts(calls) == [quantity_question("PO 4711")]


async def test_order_shows_summary(harness: Harness) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 1")

    calls = await harness.text(AIKO, "5")

    assert methods(calls) == ["sendMessage"]
    assert calls[0].params["text"] == (
        "<b>Please check your order</b>\n"
        "Customer: Clinic Am See\n"
        "Dealer: Dealer Berlin\n"
        "PO number: PO 1\n"
        "Licenses: 5\n\n"
        "Press Confirm to place the order."
    )
    [[(confirm_label, confirm_data), (cancel_label, cancel_data)]] = keyboard(calls[0])
    assert confirm_label == "Confirm"
    assert cancel_label == "Cancel"
    assert confirm_data.startswith("ord+:")
    assert cancel_data == "ord-:" + confirm_data.removeprefix("ord+:")


async def test_confirm_places_order(harness: Harness) -> None:
    summary = await open_summary(harness)

    calls = await harness.press_label(AIKO, "Confirm")

    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert alerts(calls) == ["Order placed"]
    edit = calls[1].params
    assert edit["message_id"] == summary.message_id
    assert edit["parse_mode"] == "HTML"
    assert edit["text"] == (
        "Order placed: <b>PO 1</b>, 5 licenses from Dealer Berlin, ordered 2026-12-04. "
        "Status: Licenses on Order.\n"
        "You can cancel it in /history until 2026-12-18 10:00 CET."
    )
    assert "reply_markup" not in edit


async def test_confirm_stores_one_order(harness: Harness) -> None:
    await open_summary(harness)

    await harness.press_label(AIKO, "Confirm")

    [order] = await stored_orders(harness, "Clinic Am See")
    assert order.po_number == "PO 1"
    assert order.quantity == 5
    assert order.status is OrderStatus.ON_ORDER
    assert order.dealer_id == harness.organisation_ids["Dealer Berlin"]
    assert order.ordered_at == harness.clock.now()
    assert [entry.action for entry in await audit_entries(harness, "order", order.id)] == [
        "order.placed"
    ]


async def test_confirm_then_history(harness: Harness) -> None:
    await open_summary(harness)
    await harness.press_label(AIKO, "Confirm")

    calls = await harness.command(AIKO, "history")

    assert "Page 1 of 1, 1 order\n" in sent_texts(calls)[0]
    assert "<b>PO 1</b>" in sent_texts(calls)[0]


async def test_one_license_singular(harness: Harness) -> None:
    await open_summary(harness, quantity="1")

    calls = await harness.press_label(AIKO, "Confirm")

    assert "<b>PO 1</b>, 1 license from Dealer Berlin" in sent_texts(calls)[0]


async def test_quantity_leading_zeros(harness: Harness) -> None:
    summary = await open_summary(harness, quantity="0005")

    assert "Licenses: 5\n" in summary.text


async def test_summary_cancel_button(harness: Harness) -> None:
    summary = await open_summary(harness)

    calls = await harness.press_label(AIKO, "Cancel")

    assert alerts(calls) == [""]
    assert [call.params["message_id"] for call in edits(calls)] == [summary.message_id]
    assert sent_texts(calls) == [DISCARDED]
    assert await po_numbers(harness) == []


async def test_confirm_after_summary_cancel(harness: Harness) -> None:
    summary = await open_summary(harness)
    await harness.press_label(AIKO, "Cancel")

    calls = await harness.press(AIKO, button_data(summary, "Confirm"), summary.message_id)

    assert alerts(calls) == [FORM_CLOSED]
    assert popup_flags(calls) == [True]
    assert await po_numbers(harness) == []


# Rejected answers


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("0", "At least one license must be ordered."),
        ("-1", "That is not a whole number."),
        ("+5", "That is not a whole number."),
        ("1.5", "That is not a whole number."),
        ("1e3", "That is not a whole number."),
        ("1,000", "That is not a whole number."),
        ("abc", "That is not a whole number."),
        ("1001", "At most 1000 licenses can be ordered at once."),
        ("٥", "That is not a whole number."),
        ("５", "That is not a whole number."),
        ("9" * 5000, "That number is too large."),
        ("5️⃣", "That is not a whole number."),
        ("👍", "That is not a whole number."),
    ],
    ids=[
        "zero",
        "negative",
        "plus-sign",
        "decimal",
        "exponent",
        "separator",
        "letters",
        "above-maximum",
        "arabic-indic-digit",
        "fullwidth-digit",
        "5000-digits",
        "keycap-emoji",
        "emoji",
    ],
)
async def test_bad_quantity_repeats_question(harness: Harness, answer: str, reason: str) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 1")

    calls = await harness.text(AIKO, answer)

    [text] = sent_texts(calls)
    assert text.startswith(reason)
    assert "1 to 1000" in text
    assert text.endswith(quantity_question("PO 1"))
    assert "reply_markup" not in calls[0].params


@pytest.mark.parametrize("answer", ["0", "1.5", "٥", "9" * 5000, "👍"])
async def test_bad_quantity_keeps_question(harness: Harness, answer: str) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 1")
    await harness.text(AIKO, answer)

    calls = await harness.text(AIKO, "7")

    assert "Licenses: 7\n" in sent_texts(calls)[0]
    assert await po_numbers(harness) == []


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("   ", "A PO number is required; send the number from your PO."),
        ("P" * 65, "A PO number has at most 64 characters; this one has 65."),
        ("PO\n17", "A PO number must be on one line"),
        ("PO\t17", "A PO number must be on one line"),
    ],
    ids=["blank", "65-characters", "newline", "tab"],
)
async def test_bad_po_repeats_question(harness: Harness, answer: str, reason: str) -> None:
    await harness.command(AIKO, "order")

    calls = await harness.text(AIKO, answer)

    [text] = sent_texts(calls)
    assert text.startswith(reason)
    assert text.endswith(PO_QUESTION)


async def test_po_of_64_characters(harness: Harness) -> None:
    await harness.command(AIKO, "order")

    calls = await harness.text(AIKO, "P" * 64)

    assert sent_texts(calls) == [quantity_question("P" * 64)]


async def test_bad_po_keeps_question(harness: Harness) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO\n17")

    calls = await harness.text(AIKO, "PO 17")

    assert sent_texts(calls) == [quantity_question("PO 17")]


@pytest.mark.parametrize("answer", ["po 17", "PO   17", " Po 17 "])
async def test_duplicate_po_rejected(harness: Harness, answer: str) -> None:
    await place_orders(harness, AIKO, 17)

    await harness.command(AIKO, "order")
    calls = await harness.text(AIKO, answer)

    [text] = sent_texts(calls)
    assert text.startswith(f"PO number {' '.join(answer.split())} was used on an earlier order")
    assert text.endswith(PO_QUESTION)


async def test_duplicate_po_after_cancel(harness: Harness) -> None:
    [order] = await place_orders(harness, AIKO, 1)
    await cancel_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        order_id=order.id,
        policy=harness.policy,
        now=harness.clock.now(),
    )

    await harness.command(AIKO, "order")
    calls = await harness.text(AIKO, "PO 1")

    assert "cancelled orders count too" in sent_texts(calls)[0]
    assert sent_texts(calls)[0].endswith(PO_QUESTION)


async def test_same_po_other_customer(harness: Harness) -> None:
    await place_orders(harness, BEN, 1)

    await harness.command(AIKO, "order")
    calls = await harness.text(AIKO, "PO 1")

    assert sent_texts(calls) == [quantity_question("PO 1")]


async def test_text_at_summary_reminds(harness: Harness) -> None:
    await open_summary(harness)

    calls = await harness.text(AIKO, "yes")

    assert sent_texts(calls) == [
        "Press Confirm or Cancel under the summary above, or send /cancel."
    ]
    assert await po_numbers(harness) == []


# Leaving the form with /cancel


async def test_cancel_at_po_question(harness: Harness) -> None:
    await harness.command(AIKO, "order")

    calls = await harness.command(AIKO, "cancel")
    after = await harness.text(AIKO, "PO 1")

    assert sent_texts(calls) == [DISCARDED]
    assert sent_texts(after) == [NOT_UNDERSTOOD]
    assert await po_numbers(harness) == []


async def test_cancel_at_quantity_question(harness: Harness) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 1")

    calls = await harness.command(AIKO, "cancel")
    after = await harness.text(AIKO, "5")

    assert sent_texts(calls) == [DISCARDED]
    assert sent_texts(after) == [NOT_UNDERSTOOD]
    assert await po_numbers(harness) == []


async def test_cancel_at_summary(harness: Harness) -> None:
    await open_summary(harness)

    calls = await harness.command(AIKO, "cancel")
    after = await harness.text(AIKO, "PO 2")

    assert sent_texts(calls) == [DISCARDED]
    assert sent_texts(after) == [NOT_UNDERSTOOD]
    assert await po_numbers(harness) == []


async def test_confirm_after_cancel_command(harness: Harness) -> None:
    summary = await open_summary(harness)
    await harness.command(AIKO, "cancel")

    calls = await harness.press(AIKO, button_data(summary, "Confirm"), summary.message_id)

    assert alerts(calls) == [FORM_CLOSED]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []
    assert await po_numbers(harness) == []


# Messages without text


@pytest.mark.parametrize("kind", ["photo", "sticker"])
async def test_media_at_po_question(harness: Harness, kind: str) -> None:
    await harness.command(AIKO, "order")

    calls = await harness.send(media_message(harness, AIKO, kind))
    after = await harness.text(AIKO, "PO 1")

    assert sent_texts(calls) == [SEND_TEXT]
    assert sent_texts(after) == [quantity_question("PO 1")]


@pytest.mark.parametrize("kind", ["photo", "sticker"])
async def test_media_at_quantity_question(harness: Harness, kind: str) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 1")

    calls = await harness.send(media_message(harness, AIKO, kind))
    after = await harness.text(AIKO, "5")

    assert sent_texts(calls) == [SEND_TEXT]
    assert "Licenses: 5\n" in sent_texts(after)[0]


async def test_media_at_summary(harness: Harness) -> None:
    await open_summary(harness)

    calls = await harness.send(media_message(harness, AIKO, "photo"))
    confirmed = await harness.press_label(AIKO, "Confirm")

    assert sent_texts(calls) == [SEND_TEXT]
    assert alerts(confirmed) == ["Order placed"]


# Presses that must not place a second order


async def test_second_confirm_already_placed(harness: Harness) -> None:
    summary = await open_summary(harness)
    confirm = button_data(summary, "Confirm")
    await harness.press(AIKO, confirm, summary.message_id)

    calls = await harness.press(AIKO, confirm, summary.message_id)

    assert alerts(calls) == ["This order was already placed (PO PO 1). See /history."]
    assert edits(calls) == []
    assert await po_numbers(harness) == ["PO 1"]


async def test_older_summary_after_restart(harness: Harness) -> None:
    old = await open_summary(harness, "PO 1")
    await harness.command(AIKO, "order")

    calls = await harness.press(AIKO, button_data(old, "Confirm"), old.message_id)

    assert alerts(calls) == [FORM_CLOSED]
    assert popup_flags(calls) == [True]
    assert await po_numbers(harness) == []


async def test_older_summary_beside_newer(harness: Harness) -> None:
    old = await open_summary(harness, "PO 1")
    new = await open_summary(harness, "PO 2")

    calls = await harness.press(AIKO, button_data(old, "Confirm"), old.message_id)

    assert alerts(calls) == [OUTDATED_FORM]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []
    assert await po_numbers(harness) == []
    placed = await harness.press(AIKO, button_data(new, "Confirm"), new.message_id)
    assert alerts(placed) == ["Order placed"]
    assert await po_numbers(harness) == ["PO 2"]


async def test_older_cancel_beside_newer(harness: Harness) -> None:
    old = await open_summary(harness, "PO 1")
    await open_summary(harness, "PO 2")

    calls = await harness.press(AIKO, button_data(old, "Cancel"), old.message_id)
    confirmed = await harness.press_label(AIKO, "Confirm")

    assert alerts(calls) == [OUTDATED_FORM]
    assert alerts(confirmed) == ["Order placed"]
    assert await po_numbers(harness) == ["PO 2"]


async def test_po_used_before_confirm(harness: Harness) -> None:
    summary = await open_summary(harness, "PO 1")
    harness.clock.advance(timedelta(seconds=5))
    await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        po_number="po 1",
        quantity=2,
        policy=harness.policy,
        now=harness.clock.now(),
    )

    calls = await harness.press_label(AIKO, "Confirm")

    assert methods(calls) == ["answerCallbackQuery", "sendMessage"]
    assert alerts(calls) == [""]
    [text] = sent_texts(calls)
    assert text.startswith("PO number PO 1 was used on an earlier order")
    assert text.endswith(PO_QUESTION)
    assert await po_numbers(harness) == ["po 1"]
    again = await harness.press(AIKO, button_data(summary, "Confirm"), summary.message_id)
    assert alerts(again) == [FORM_CLOSED]


async def test_po_used_then_new_po(harness: Harness) -> None:
    await open_summary(harness, "PO 1")
    await place_orders(harness, AIKO, 1)
    await harness.press_label(AIKO, "Confirm")

    await harness.text(AIKO, "PO 2")
    await harness.text(AIKO, "3")
    calls = await harness.press_label(AIKO, "Confirm")

    assert alerts(calls) == ["Order placed"]
    assert await po_numbers(harness) == ["PO 2", "PO 1"]


# Who may order


async def test_order_refused_for_dealer(harness: Harness) -> None:
    calls = await harness.command(DANA, "order")
    after = await harness.text(DANA, "PO 1")

    assert sent_texts(calls) == [
        "Only customer administrators can order licenses; "
        "you are a member of Dealer Berlin, a dealer."
    ]
    assert sent_texts(after) == [NOT_UNDERSTOOD]


async def test_order_refused_for_stranger(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "order")

    assert sent_texts(calls) == [
        "You are not linked to an organisation yet. Ask your administrator "
        "for an invite code, then send /start CODE."
    ]


async def test_order_without_dealer(harness: Harness) -> None:
    await remove_dealer(harness, "Clinic Am See")

    calls = await harness.command(AIKO, "order")
    after = await harness.text(AIKO, "PO 1")

    assert sent_texts(calls) == [
        "Clinic Am See has no dealer to order from. Choose one with /dealer."
    ]
    assert sent_texts(after) == [NOT_UNDERSTOOD]


async def test_dealer_removed_before_confirm(harness: Harness) -> None:
    summary = await open_summary(harness)
    await remove_dealer(harness, "Clinic Am See")

    calls = await harness.press_label(AIKO, "Confirm")
    again = await harness.press(AIKO, button_data(summary, "Confirm"), summary.message_id)

    assert alerts(calls) == ["Clinic Am See has no dealer to order from. Choose one with /dealer."]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []
    assert alerts(again) == [FORM_CLOSED]
    assert await po_numbers(harness) == []
