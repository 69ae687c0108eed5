"""/dealer: the customer's dealer and the choice of another dealer of its business centre."""

from __future__ import annotations

import pytest

from tests.bot.conftest import (
    AIKO,
    DANA,
    STRANGER,
    Harness,
    alerts,
    audit_entries,
    edits,
    keyboard,
    methods,
    place_orders,
    popup_flags,
    remove_dealer,
    sent_texts,
    stored_order,
)

NOT_CHOOSABLE = (
    "That dealer is not one your organisation can order from. Send /dealer to see the list."
)


def dealer_id(harness: Harness, name: str) -> int:
    return harness.organisation_ids[name]


async def stored_dealer_id(harness: Harness) -> int | None:
    async with harness.database.unit_of_work() as uow:
        customer = await uow.organisations.get(dealer_id(harness, "Clinic Am See"))
    assert customer is not None
    return customer.dealer_id


async def test_dealer_shows_current(harness: Harness) -> None:
    calls = await harness.command(AIKO, "dealer")

    assert methods(calls) == ["sendMessage"]
    assert calls[0].params["parse_mode"] == "HTML"
    assert calls[0].params["text"] == (
        "You order from <b>Dealer Berlin</b>.\n\n"
        "To order from another dealer of your country, choose it below."
    )


async def test_dealer_offers_same_centre(harness: Harness) -> None:
    """Dealer Munich sits directly under BC Germany, but Dealer Paris belongs to BC France."""
    calls = await harness.command(AIKO, "dealer")

    assert keyboard(calls[0]) == [[("Dealer Munich", f"dl:{dealer_id(harness, 'Dealer Munich')}")]]


async def test_choose_munich(harness: Harness) -> None:
    await harness.command(AIKO, "dealer")
    message_id = harness.last_message(AIKO).message_id

    calls = await harness.press_label(AIKO, "Dealer Munich")

    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert alerts(calls) == ["Dealer changed"]
    [edit] = edits(calls)
    assert edit.params["message_id"] == message_id
    assert edit.params["text"] == (
        "Your dealer is now <b>Dealer Munich</b>. "
        "Open orders stay with the dealer they were placed with.\n\n"
        "To order from another dealer of your country, choose it below."
    )
    assert keyboard(edit) == [[("Dealer Berlin", f"dl:{dealer_id(harness, 'Dealer Berlin')}")]]
    assert await stored_dealer_id(harness) == dealer_id(harness, "Dealer Munich")


async def test_choose_munich_audited(harness: Harness) -> None:
    await harness.command(AIKO, "dealer")

    await harness.press_label(AIKO, "Dealer Munich")

    entries = await audit_entries(harness, "organisation", dealer_id(harness, "Clinic Am See"))
    [change] = [entry for entry in entries if entry.action == "customer.dealer_changed"]
    assert change.before == {"dealer_id": dealer_id(harness, "Dealer Berlin")}
    assert change.after == {"dealer_id": dealer_id(harness, "Dealer Munich")}


async def test_choose_same_dealer_twice(harness: Harness) -> None:
    await harness.command(AIKO, "dealer")
    message = harness.last_message(AIKO)
    data = f"dl:{dealer_id(harness, 'Dealer Munich')}"
    await harness.press(AIKO, data, message.message_id)

    calls = await harness.press(AIKO, data, message.message_id)

    assert alerts(calls) == ["Dealer changed"]
    entries = await audit_entries(harness, "organisation", dealer_id(harness, "Clinic Am See"))
    assert [e.action for e in entries].count("customer.dealer_changed") == 1


async def test_new_dealer_for_future_orders(harness: Harness) -> None:
    [open_order] = await place_orders(harness, AIKO, 1)
    await harness.command(AIKO, "dealer")
    await harness.press_label(AIKO, "Dealer Munich")

    question = await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 2")
    await harness.text(AIKO, "4")
    placed = await harness.press_label(AIKO, "Confirm")

    assert "from dealer <b>Dealer Munich</b>" in sent_texts(question)[0]
    assert "4 licenses from Dealer Munich" in sent_texts(placed)[0]
    stored = await stored_order(harness, open_order.id)
    assert stored.dealer_id == dealer_id(harness, "Dealer Berlin")


async def test_dealer_change_during_form(harness: Harness) -> None:
    """The order takes the customer's dealer at Confirm, and the edited summary names it."""
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 1")
    await harness.text(AIKO, "2")
    await harness.command(AIKO, "dealer")
    await harness.press_label(AIKO, "Dealer Munich")

    calls = await harness.press_label(AIKO, "Confirm")

    assert "2 licenses from Dealer Munich" in sent_texts(calls)[0]


@pytest.mark.parametrize(
    "name",
    ["Dealer Paris", "Clinic Am See", "Praxis Ost", "BC Germany", "Distributor North"],
)
async def test_forged_dealer_rejected(harness: Harness, name: str) -> None:
    await harness.command(AIKO, "dealer")

    calls = await harness.press(AIKO, f"dl:{dealer_id(harness, name)}")

    assert alerts(calls) == [NOT_CHOOSABLE]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []
    assert await stored_dealer_id(harness) == dealer_id(harness, "Dealer Berlin")


@pytest.mark.parametrize("data", ["dl:", "dl:abc", "dl:4:4", "dl:-5", "dl:" + "4" * 62])
async def test_malformed_dealer_data(harness: Harness, data: str) -> None:
    await harness.command(AIKO, "dealer")

    calls = await harness.press(AIKO, data)

    assert alerts(calls) == ["This button is no longer valid. Send /dealer again."]
    assert await stored_dealer_id(harness) == dealer_id(harness, "Dealer Berlin")


async def test_dealer_refused_for_dealer_member(harness: Harness) -> None:
    calls = await harness.command(DANA, "dealer")
    pressed = await harness.press(DANA, f"dl:{dealer_id(harness, 'Dealer Munich')}")

    assert sent_texts(calls) == [
        "Only customer administrators can choose a dealer; "
        "you are a member of Dealer Berlin, a dealer."
    ]
    assert alerts(pressed) == [sent_texts(calls)[0]]


async def test_dealer_refused_for_stranger(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "dealer")

    assert sent_texts(calls)[0].startswith("You are not linked to an organisation yet.")


async def test_customer_without_dealer(harness: Harness) -> None:
    await remove_dealer(harness, "Clinic Am See")

    calls = await harness.command(AIKO, "dealer")

    assert sent_texts(calls) == [
        "<b>Clinic Am See</b> has no dealer yet.\n\n"
        "To order from another dealer of your country, choose it below."
    ]
    assert [label for row in keyboard(calls[0]) for label, _ in row] == [
        "Dealer Berlin",
        "Dealer Munich",
    ]


async def test_choose_dealer_then_order(harness: Harness) -> None:
    await remove_dealer(harness, "Clinic Am See")
    await harness.command(AIKO, "dealer")
    await harness.press_label(AIKO, "Dealer Munich")

    calls = await harness.command(AIKO, "order")

    assert "from dealer <b>Dealer Munich</b>" in sent_texts(calls)[0]
