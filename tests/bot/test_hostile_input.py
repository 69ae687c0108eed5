"""User text with markup, emoji and extreme lengths, and updates of unusual shapes.

HTML texts must escape what a person typed, so that Telegram shows it as
typed. Button labels and callback query alerts are plain text and must not.
"""

from __future__ import annotations

import pytest

from bot.handlers.fallback import EDIT_NOT_READ
from bot.offline_html import utf16_length
from bot.offline_updates import OfflineUser
from core.organisations import Tier
from core.use_cases.membership import add_member, create_invite
from core.use_cases.organisations import add_organisation
from tests.bot.conftest import (
    AIKO,
    Harness,
    alerts,
    assert_valid_html,
    button_labels,
    edited_message,
    keyboard,
    methods,
    popup_flags,
    sent_texts,
    stored_orders,
)

MARKUP_PO = "<b>bold</b> & <i>"
ESCAPED_MARKUP_PO = "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;"
# Family (man, woman, girl, boy) and rainbow flag: emoji joined by U+200D.
ZWJ_PO = "PO 👨‍👩‍👧‍👦 🏳️‍🌈 7"
SORRY_PREFIX = "Sorry, something went wrong"
HOSTILE_USER = OfflineUser(9005, "<b>Eve</b>", "& <i>Co")


async def place_through_form(harness: Harness, po_number: str, quantity: str = "3") -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, po_number)
    await harness.text(AIKO, quantity)
    await harness.press_label(AIKO, "Confirm")


# Markup in a PO number


async def test_markup_po_escaped_in_form(harness: Harness) -> None:
    await harness.command(AIKO, "order")

    question = await harness.text(AIKO, MARKUP_PO)
    summary = await harness.text(AIKO, "3")
    placed = await harness.press_label(AIKO, "Confirm")

    assert f"PO number: <b>{ESCAPED_MARKUP_PO}</b>" in sent_texts(question)[0]
    assert f"PO number: {ESCAPED_MARKUP_PO}\n" in sent_texts(summary)[0]
    assert f"Order placed: <b>{ESCAPED_MARKUP_PO}</b>," in sent_texts(placed)[0]
    assert_valid_html(harness.api.calls)


async def test_markup_po_shown_as_typed(harness: Harness) -> None:
    await place_through_form(harness, MARKUP_PO)

    message = harness.last_message(AIKO)

    assert message.text.startswith(f"Order placed: {MARKUP_PO}, 3 licenses")
    assert [entity["type"] for entity in message.entities] == ["bold"]


async def test_markup_po_stored_as_typed(harness: Harness) -> None:
    await place_through_form(harness, MARKUP_PO)

    [order] = await stored_orders(harness, "Clinic Am See")

    assert order.po_number == MARKUP_PO


async def test_markup_po_in_history(harness: Harness) -> None:
    await place_through_form(harness, MARKUP_PO)

    calls = await harness.command(AIKO, "history")

    assert f"<b>{ESCAPED_MARKUP_PO}</b>\nOrdered" in sent_texts(calls)[0]
    assert button_labels(calls[0]) == [f"Cancel {MARKUP_PO}"]
    assert_valid_html(calls)


async def test_markup_po_cancel_flow(harness: Harness) -> None:
    await place_through_form(harness, MARKUP_PO)
    await harness.command(AIKO, "history")

    question = await harness.press_label(AIKO, f"Cancel {MARKUP_PO}")
    cancelled = await harness.press_label(AIKO, "Yes, cancel the order")

    assert sent_texts(question)[0].startswith(f"Cancel order <b>{ESCAPED_MARKUP_PO}</b>?")
    assert sent_texts(cancelled)[0].startswith(
        f"Order <b>{ESCAPED_MARKUP_PO}</b> has been cancelled."
    )
    assert_valid_html(harness.api.calls)


async def test_markup_po_alert_plain(harness: Harness) -> None:
    await place_through_form(harness, MARKUP_PO)
    [order] = await stored_orders(harness, "Clinic Am See")
    await harness.command(AIKO, "history")
    await harness.press(AIKO, f"oc!:{order.id}:1")

    calls = await harness.press(AIKO, f"oc!:{order.id}:1")

    assert alerts(calls) == [f"Order {MARKUP_PO} was already cancelled."]


async def test_markup_po_duplicate_message(harness: Harness) -> None:
    await place_through_form(harness, MARKUP_PO)
    await harness.command(AIKO, "order")

    calls = await harness.text(AIKO, MARKUP_PO.upper())

    [text] = sent_texts(calls)
    assert text.startswith("PO number &lt;B&gt;BOLD&lt;/B&gt; &amp; &lt;I&gt; was used")
    assert_valid_html(calls)


@pytest.mark.parametrize(
    ("po_number", "escaped"),
    [
        ("&amp;", "&amp;amp;"),
        ("</b>", "&lt;/b&gt;"),
        ("<a href='x'>", "&lt;a href='x'&gt;"),
        ("a < b > c", "a &lt; b &gt; c"),
        ('"quoted"', '"quoted"'),
        ("&#60;", "&amp;#60;"),
    ],
    ids=["entity", "closing-tag", "link", "angles", "quotes", "numeric-reference"],
)
async def test_markup_variants_escaped(harness: Harness, po_number: str, escaped: str) -> None:
    await harness.command(AIKO, "order")

    calls = await harness.text(AIKO, po_number)

    assert f"PO number: <b>{escaped}</b>" in sent_texts(calls)[0]
    assert harness.last_message(AIKO).text.startswith(f"PO number: {po_number}\n")
    assert_valid_html(calls)


# Emoji and length


async def test_zwj_emoji_po(harness: Harness) -> None:
    await place_through_form(harness, ZWJ_PO)

    history = await harness.command(AIKO, "history")

    [order] = await stored_orders(harness, "Clinic Am See")
    assert order.po_number == ZWJ_PO
    assert f"<b>{ZWJ_PO}</b>\nOrdered" in sent_texts(history)[0]
    assert button_labels(history[0]) == [f"Cancel {ZWJ_PO}"]
    message = harness.last_message(AIKO)
    offset = utf16_length(message.text[: message.text.index(ZWJ_PO)])
    assert {"type": "bold", "offset": offset, "length": utf16_length(ZWJ_PO)} in message.entities


async def test_long_emoji_label_cut(harness: Harness) -> None:
    """A label is cut by code points, so the cut may fall inside an emoji sequence."""
    po_number = "👨‍👩‍👧‍👦" * 9
    await place_through_form(harness, po_number)

    history = await harness.command(AIKO, "history")

    [label] = button_labels(history[0])
    assert label == "Cancel " + po_number[:23] + "…"
    assert history[0].error is None


async def test_five_thousand_character_po(harness: Harness) -> None:
    await harness.command(AIKO, "order")

    calls = await harness.text(AIKO, "<" * 5000)

    assert methods(calls) == ["sendMessage"]
    assert calls[0].error is None
    [text] = sent_texts(calls)
    assert text.startswith("A PO number has at most 64 characters; this one has 5000.")
    assert "&lt;" not in text
    assert_valid_html(calls)


async def test_five_thousand_character_quantity(harness: Harness) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 1")

    calls = await harness.text(AIKO, "<b>" * 1700)

    [text] = sent_texts(calls)
    assert text.startswith("That is not a whole number.")
    assert len(text) < 300
    assert_valid_html(calls)


async def test_unknown_command_escaped(harness: Harness) -> None:
    calls = await harness.text(AIKO, "/x<b>&")

    assert sent_texts(calls)[0].startswith("Unknown command /x&lt;b&gt;&amp;.")
    assert_valid_html(calls)


# Names that contain markup


async def test_hostile_member_name(harness: Harness) -> None:
    invite = await create_invite(
        harness.database.unit_of_work(),
        organisation_name="Clinic Am See",
        now=harness.clock.now(),
    )

    calls = await harness.command(HOSTILE_USER, "start", invite.code)

    assert sent_texts(calls)[0].startswith(
        "Welcome, &lt;b&gt;Eve&lt;/b&gt; &amp; &lt;i&gt;Co. You are now an administrator"
    )
    assert_valid_html(calls)


async def test_hostile_organisation_names(harness: Harness) -> None:
    for name, tier, parent in [
        ("Dealer <Nord> & Söhne", Tier.DEALER, "BC Germany"),
        ("Clinic <Süd> & Co", Tier.CUSTOMER, "Dealer <Nord> & Söhne"),
    ]:
        await add_organisation(
            harness.database.unit_of_work(),
            name=name,
            tier=tier,
            parent_name=parent,
            dealer_name=None,
            timezone="Europe/Berlin",
            now=harness.clock.now(),
        )
    await add_member(
        harness.database.unit_of_work(),
        organisation_name="Clinic <Süd> & Co",
        telegram_user_id=HOSTILE_USER.id,
        name=HOSTILE_USER.full_name,
        now=harness.clock.now(),
    )

    start = await harness.command(HOSTILE_USER, "start")
    dealer = await harness.command(HOSTILE_USER, "dealer")
    order = await harness.command(HOSTILE_USER, "order")
    history = await harness.command(HOSTILE_USER, "history")

    assert "<b>Clinic &lt;Süd&gt; &amp; Co</b> (customer)" in sent_texts(start)[0]
    assert "You order from <b>Dealer &lt;Nord&gt; &amp; Söhne</b>." in sent_texts(dealer)[0]
    assert [label for row in keyboard(dealer[0]) for label, _ in row] == [
        "Dealer Berlin",
        "Dealer Munich",
    ]
    assert "from dealer <b>Dealer &lt;Nord&gt; &amp; Söhne</b>" in sent_texts(order)[0]
    assert "<b>Order history</b> of Clinic &lt;Süd&gt; &amp; Co\n" in sent_texts(history)[0]
    assert_valid_html(harness.api.calls)


async def test_hostile_dealer_label_plain(harness: Harness) -> None:
    await add_organisation(
        harness.database.unit_of_work(),
        name="Dealer <b>Ost</b>",
        tier=Tier.DEALER,
        parent_name="BC Germany",
        dealer_name=None,
        timezone="Europe/Berlin",
        now=harness.clock.now(),
    )

    calls = await harness.command(AIKO, "dealer")
    chosen = await harness.press_label(AIKO, "Dealer <b>Ost</b>")

    assert "Dealer <b>Ost</b>" in button_labels(calls[0])
    assert "Your dealer is now <b>Dealer &lt;b&gt;Ost&lt;/b&gt;</b>." in sent_texts(chosen)[0]
    assert_valid_html(harness.api.calls)


# Updates of unusual shapes


async def test_edited_message_at_po_question(harness: Harness) -> None:
    await harness.command(AIKO, "order")

    calls = await harness.send(edited_message(harness, AIKO, "PO 1"))

    assert sent_texts(calls) == [EDIT_NOT_READ]


async def test_edited_message_at_quantity(harness: Harness) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 1")

    calls = await harness.send(edited_message(harness, AIKO, "5"))

    assert sent_texts(calls) == [EDIT_NOT_READ]


async def test_edited_unknown_command(harness: Harness) -> None:
    calls = await harness.send(edited_message(harness, AIKO, "/frobnicate"))

    assert not any(text.startswith(SORRY_PREFIX) for text in sent_texts(calls))


async def test_edited_message_outside_form(harness: Harness) -> None:
    calls = await harness.send(edited_message(harness, AIKO, "hello"))

    assert sent_texts(calls) == [EDIT_NOT_READ]


@pytest.mark.parametrize("data", ["ord+:abc", "ord-:", "ord+:1:2"])
async def test_forged_order_data_no_form(harness: Harness, data: str) -> None:
    await harness.command(AIKO, "help")

    calls = await harness.press(AIKO, data)

    assert sent_texts(calls) == []
    assert popup_flags(calls) == [True]


@pytest.mark.parametrize("data", ["ord+:abc", "ord-:x", ""])
async def test_forged_order_data_at_summary(harness: Harness, data: str) -> None:
    await harness.command(AIKO, "order")
    await harness.text(AIKO, "PO 1")
    await harness.text(AIKO, "5")

    calls = await harness.press(AIKO, data)

    assert sent_texts(calls) == []
    assert popup_flags(calls) == [True]
