"""/history: the paged order history and its navigation buttons."""

from __future__ import annotations

import re

import pytest

from bot.offline_api import ApiCall
from core.orders import Order
from tests.bot.conftest import (
    AIKO,
    DANA,
    STRANGER,
    Harness,
    alerts,
    button_labels,
    edits,
    keyboard,
    mark_issued,
    methods,
    place_orders,
    popup_flags,
    sent_texts,
)

HISTORY_BUTTON_INVALID = "This button is no longer valid. Send /history to see your orders again."
GENERAL_BUTTON_INVALID = "This button is no longer valid. Send /help to start again."
NAVIGATION_LABELS = ["«", "‹", "›", "»"]


def header(text: str) -> str:
    """Return the "Page X of Y, N orders" line of a history message."""
    match = re.search(r"^Page \d+ of \d+, \d+ orders?$", text, flags=re.MULTILINE)
    assert match is not None, text
    return match.group(0)


def shown_po_numbers(text: str) -> list[str]:
    return re.findall(r"^<b>(PO \d+)</b>$", text, flags=re.MULTILINE)


def navigation(call: ApiCall) -> list[tuple[str, str]]:
    """Return the navigation row (the row of « ‹ › »), or an empty list if there is none."""
    rows = [row for row in keyboard(call) if [label for label, _ in row] == NAVIGATION_LABELS]
    return rows[0] if rows else []


def cancel_buttons(call: ApiCall) -> list[tuple[str, str]]:
    return [button for row in keyboard(call) for button in row if button[0].startswith("Cancel")]


async def open_history(harness: Harness) -> ApiCall:
    calls = await harness.command(AIKO, "history")
    assert methods(calls) == ["sendMessage"]
    return calls[0]


# Page sizes


async def test_history_empty(harness: Harness) -> None:
    history = await open_history(harness)

    assert history.params["parse_mode"] == "HTML"
    assert history.params["text"] == (
        "<b>Order history</b> of Clinic Am See\n"
        "Page 1 of 1, 0 orders\n\n"
        "No orders yet. Place one with /order."
    )
    assert "reply_markup" not in history.params


async def test_history_one_order(harness: Harness) -> None:
    [order] = await place_orders(harness, AIKO, 1)

    history = await open_history(harness)

    assert history.params["text"] == (
        "<b>Order history</b> of Clinic Am See\n"
        "Page 1 of 1, 1 order\n\n"
        "<b>PO 1</b>\n"
        "Ordered 2026-12-04 · Issued - · 1 license · Licenses on Order\n"
        "Can be cancelled until 2026-12-18 10:01 CET"
    )
    assert keyboard(history) == [[("Cancel PO 1", f"oc?:{order.id}:1")]]


async def test_history_ten_orders(harness: Harness) -> None:
    orders = await place_orders(harness, AIKO, 10)

    history = await open_history(harness)

    text = history.params["text"]
    assert header(text) == "Page 1 of 1, 10 orders"
    assert shown_po_numbers(text) == [f"PO {n}" for n in range(10, 0, -1)]
    assert navigation(history) == []
    assert cancel_buttons(history) == [
        (f"Cancel {order.po_number}", f"oc?:{order.id}:1") for order in reversed(orders)
    ]


async def test_history_eleven_orders(harness: Harness) -> None:
    await place_orders(harness, AIKO, 11)

    history = await open_history(harness)

    text = history.params["text"]
    assert header(text) == "Page 1 of 2, 11 orders"
    assert shown_po_numbers(text) == [f"PO {n}" for n in range(11, 1, -1)]
    assert navigation(history) == [
        ("«", "hp:1:1"),
        ("‹", "hp:1:1"),
        ("›", "hp:2:1"),
        ("»", "hp:2:1"),
    ]
    assert keyboard(history)[-1] == navigation(history)


async def test_history_ninety_five_orders(harness: Harness) -> None:
    await place_orders(harness, AIKO, 95)

    history = await open_history(harness)

    assert header(history.params["text"]) == "Page 1 of 10, 95 orders"
    assert shown_po_numbers(history.params["text"]) == [f"PO {n}" for n in range(95, 85, -1)]
    assert [data for _, data in navigation(history)] == ["hp:1:1", "hp:1:1", "hp:2:1", "hp:10:1"]


async def test_history_issue_date_shown(harness: Harness) -> None:
    [order] = await place_orders(harness, AIKO, 1)
    await mark_issued(harness, order.id)

    history = await open_history(harness)

    assert (
        "Ordered 2026-12-04 · Issued 2026-12-04 · 1 license · License Issued"
        in (history.params["text"])
    )
    assert "Can be cancelled" not in history.params["text"]
    assert cancel_buttons(history) == []


async def test_history_dates_in_customer_zone(harness: Harness) -> None:
    """An order placed at 23:30 UTC on 4 December is 5 December in Berlin."""
    harness.clock.advance(harness.clock.now().replace(hour=23, minute=29) - harness.clock.now())
    await place_orders(harness, AIKO, 1)

    history = await open_history(harness)

    assert "Ordered 2026-12-05 · Issued -" in history.params["text"]


async def test_history_refused_for_dealer(harness: Harness) -> None:
    calls = await harness.command(DANA, "history")

    assert sent_texts(calls) == [
        "Only customer administrators can see the order history; "
        "you are a member of Dealer Berlin, a dealer."
    ]


async def test_history_refused_for_stranger(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "history")

    assert sent_texts(calls)[0].startswith("You are not linked to an organisation yet.")


# Moving between pages


async def test_next_page_edits_message(harness: Harness) -> None:
    await place_orders(harness, AIKO, 95)
    history = await open_history(harness)
    message_id = harness.last_message(AIKO).message_id

    calls = await harness.press(AIKO, "hp:2:1", message_id)

    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert alerts(calls) == [""]
    [edit] = edits(calls)
    assert edit.params["message_id"] == message_id
    assert edit.params["chat_id"] == history.params["chat_id"]
    assert edit.params["parse_mode"] == "HTML"
    assert header(edit.params["text"]) == "Page 2 of 10, 95 orders"
    assert shown_po_numbers(edit.params["text"]) == [f"PO {n}" for n in range(85, 75, -1)]
    assert [data for _, data in navigation(edit)] == ["hp:1:2", "hp:1:2", "hp:3:2", "hp:10:2"]


async def test_last_page_edits_message(harness: Harness) -> None:
    await place_orders(harness, AIKO, 95)
    await open_history(harness)
    message_id = harness.last_message(AIKO).message_id

    calls = await harness.press_label(AIKO, "»")

    [edit] = edits(calls)
    assert edit.params["message_id"] == message_id
    assert header(edit.params["text"]) == "Page 10 of 10, 95 orders"
    assert shown_po_numbers(edit.params["text"]) == ["PO 5", "PO 4", "PO 3", "PO 2", "PO 1"]
    assert [data for _, data in navigation(edit)] == [
        "hp:1:10",
        "hp:9:10",
        "hp:10:10",
        "hp:10:10",
    ]


async def test_previous_and_first_pages(harness: Harness) -> None:
    await place_orders(harness, AIKO, 95)
    await open_history(harness)
    await harness.press_label(AIKO, "»")

    previous = await harness.press_label(AIKO, "‹")
    first = await harness.press_label(AIKO, "«")

    assert header(edits(previous)[0].params["text"]) == "Page 9 of 10, 95 orders"
    assert header(edits(first)[0].params["text"]) == "Page 1 of 10, 95 orders"


async def test_first_on_first_page(harness: Harness) -> None:
    await place_orders(harness, AIKO, 11)
    await open_history(harness)

    calls = await harness.press_label(AIKO, "«")

    assert alerts(calls) == ["You are already on page 1."]
    assert popup_flags(calls) == [False]
    assert edits(calls) == []


async def test_next_on_last_page(harness: Harness) -> None:
    await place_orders(harness, AIKO, 11)
    await open_history(harness)
    await harness.press_label(AIKO, "›")

    calls = await harness.press_label(AIKO, "›")

    assert alerts(calls) == ["You are already on page 2."]
    assert edits(calls) == []


async def test_page_shrinks_after_orders(harness: Harness) -> None:
    """A page button reloads the current data, so new orders shift the rows."""
    await place_orders(harness, AIKO, 11)
    await open_history(harness)
    await place_orders(harness, AIKO, 10, prefix="PO 1")

    calls = await harness.press_label(AIKO, "»")

    assert header(edits(calls)[0].params["text"]) == "Page 2 of 3, 21 orders"


# Forged and outdated page buttons


@pytest.mark.parametrize(
    ("data", "alert"),
    [
        ("hp:0:1", "Page 0 does not exist"),
        ("hp:999:1", "Page 999 does not exist"),
        ("hp:3:1", "Page 3 does not exist"),
        ("hp:abc", HISTORY_BUTTON_INVALID),
        ("hp:1", HISTORY_BUTTON_INVALID),
        ("hp:-1:1", HISTORY_BUTTON_INVALID),
        ("hp:01:1", HISTORY_BUTTON_INVALID),
        ("hp:99999999999999999999:1", HISTORY_BUTTON_INVALID),
        ("hp:1:1:1", HISTORY_BUTTON_INVALID),
        ("zz:1", GENERAL_BUTTON_INVALID),
        ("", HISTORY_BUTTON_INVALID),
        ("hp:" + "1" * 62, HISTORY_BUTTON_INVALID),
        ("hp:2:" + "0" * 70, HISTORY_BUTTON_INVALID),
    ],
    ids=[
        "page-zero",
        "page-999",
        "page-after-last",
        "letters",
        "one-number",
        "negative",
        "leading-zero",
        "above-int64",
        "three-numbers",
        "unknown-prefix",
        "empty",
        "65-bytes",
        "75-bytes",
    ],
)
async def test_forged_page_rejected(harness: Harness, data: str, alert: str) -> None:
    await place_orders(harness, AIKO, 11)
    await open_history(harness)

    calls = await harness.press(AIKO, data)

    [text] = alerts(calls)
    assert text.startswith(alert)
    assert popup_flags(calls) == [True]
    assert methods(calls) == ["answerCallbackQuery"]
    assert header(harness.last_message(AIKO).text) == "Page 1 of 2, 11 orders"


@pytest.mark.parametrize("data", ["hp:999:999", "hp:0:0"], ids=["page-999", "page-zero"])
async def test_forged_current_page_rejected(harness: Harness, data: str) -> None:
    await place_orders(harness, AIKO, 11)
    await open_history(harness)

    calls = await harness.press(AIKO, data)

    [text] = alerts(calls)
    assert "does not exist" in text


async def test_missing_page_alert_grammar(harness: Harness) -> None:
    await place_orders(harness, AIKO, 1)
    await open_history(harness)

    calls = await harness.press(AIKO, "hp:2:1")

    assert "there is 1 page" in alerts(calls)[0]


async def test_page_button_of_stranger(harness: Harness) -> None:
    await place_orders(harness, AIKO, 11)
    await open_history(harness)
    await harness.command(STRANGER, "help")

    calls = await harness.press(STRANGER, "hp:2:1")

    [text] = alerts(calls)
    assert text.startswith("You are not linked to an organisation yet.")
    assert edits(calls) == []


# Cancel buttons


async def test_cancel_button_only_on_open(harness: Harness) -> None:
    orders: list[Order] = await place_orders(harness, AIKO, 3)
    await mark_issued(harness, orders[0].id)
    await harness.command(AIKO, "history")
    await harness.press_label(AIKO, "Cancel PO 2")
    await harness.press_label(AIKO, "Yes, cancel the order")

    history = await open_history(harness)

    assert cancel_buttons(history) == [("Cancel PO 3", f"oc?:{orders[2].id}:1")]
    assert history.params["text"].count("Can be cancelled until") == 1


async def test_cancel_label_is_shortened(harness: Harness) -> None:
    await place_orders(harness, AIKO, 1, prefix="Q4-2026-CLINIC-AM-SEE-RADIOLOGY")

    history = await open_history(harness)

    assert button_labels(history) == ["Cancel Q4-2026-CLINIC-AM-SEE-R…"]
