"""/issuances through the real Application: listing, cancelling, refusals and notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from telegram.ext import ConversationHandler

from bot.callbacks import AskCancelIssuance, ConfirmCancelIssuance, IssuancesPage, encode
from bot.handlers.fallback import NOT_UNDERSTOOD
from bot.handlers.forms import FORM_BUSY
from bot.offline_updates import OfflineUser
from bot.views import issuances as views
from core.orders import Order, OrderStatus
from core.use_cases.issuing import issue_order
from core.use_cases.ordering import place_order
from tests.bot.conftest import (
    AIKO,
    BEN,
    BRUNO,
    CLAIRE,
    DANA,
    HANA,
    LEA,
    MAX,
    PIERRE,
    Harness,
    add_other_dealers,
    alerts,
    assign_to,
    button_labels,
    edits,
    inventory_counts,
    keyboard,
    media_message,
    popup_flags,
    sent_texts,
    stored_order,
)

WINDOW = timedelta(days=14)
YES = "Yes, cancel the issuance"
NOT_ALLOWED = "Only headquarters and business centre administrators can cancel issuances."
NOT_FOUND = "That issuance was not found among those you may cancel."


async def issued_order(
    harness: Harness,
    po_number: str = "PO-1",
    quantity: int = 3,
    *,
    customer: OfflineUser = AIKO,
    dealer: OfflineUser = DANA,
    dealer_name: str = "Dealer Berlin",
) -> Order:
    """Stock the dealer, place the order as ``customer`` and issue it as ``dealer``, now."""
    await harness.add_stock(dealer_name, quantity)
    placed = await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=customer.id,
        po_number=po_number,
        quantity=quantity,
        policy=harness.policy,
        now=harness.clock.now(),
    )
    issued = await issue_order(
        harness.database.unit_of_work(),
        telegram_user_id=dealer.id,
        order_id=placed.order.id,
        now=harness.clock.now(),
    )
    return issued.order


async def stock_of(harness: Harness, dealer_name: str) -> int:
    async with harness.database.unit_of_work() as uow:
        return await uow.licenses.count_in_stock(harness.organisation_ids[dealer_name])


async def open_summary(
    harness: Harness, user: OfflineUser, order: Order, reason: str = "Ordered twice"
) -> None:
    """Send /issuances, press the order's cancel button and send the reason."""
    await harness.command(user, "issuances")
    await harness.press_label(user, f"Cancel issuance of {order.po_number}")
    await harness.text(user, reason)


def issuances_conversation(harness: Harness) -> ConversationHandler:
    for handler in harness.application.handlers[0]:
        if isinstance(handler, ConversationHandler) and handler.name == "issuances":
            return handler
    raise LookupError("the issuances conversation is not registered")


def listed_po_numbers(text: str) -> list[str]:
    """Return the PO numbers of a list message, in the order shown."""
    rows = text.split("\n")[2:]
    return [line[3:-4] for line in rows if line.startswith("<b>") and line.endswith("</b>")]


# The list


async def test_list_shows_issuance(harness: Harness) -> None:
    order = await issued_order(harness)

    calls = await harness.command(HANA, "issuances")

    [text] = sent_texts(calls)
    assert text == (
        "<b>Issuances you can cancel</b>\n"
        "Page 1 of 1, 1 issuance\n"
        "\n"
        "<b>PO-1</b>\n"
        "Customer: Clinic Am See\n"
        "Dealer: Dealer Berlin\n"
        "3 licenses, issued 2026-12-04\n"
        "Can be cancelled until 2026-12-18 18:00 JST"
    )
    assert keyboard(calls[-1]) == [
        [("Cancel issuance of PO-1", encode(AskCancelIssuance(order.id, 1)))]
    ]


async def test_list_uses_own_timezone(harness: Harness) -> None:
    await issued_order(harness)

    calls = await harness.command(BRUNO, "issuances")

    assert "Can be cancelled until 2026-12-18 10:00 CET" in sent_texts(calls)[0]


async def test_list_empty(harness: Harness) -> None:
    calls = await harness.command(HANA, "issuances")

    assert sent_texts(calls) == [
        "<b>Issuances you can cancel</b>\n"
        "Page 1 of 1, 0 issuances\n"
        "\n"
        "No issuance can be cancelled now. An issuance can be cancelled for 14 days "
        "after its issue date, while none of its licenses has been assigned."
    ]
    assert button_labels(calls[-1]) == []


async def test_list_newest_issue_first(harness: Harness) -> None:
    for number in range(1, 4):
        harness.clock.advance(timedelta(hours=1))
        await issued_order(harness, f"PO-{number}", 1)

    calls = await harness.command(HANA, "issuances")

    assert listed_po_numbers(sent_texts(calls)[0]) == ["PO-3", "PO-2", "PO-1"]


async def test_list_leaves_out_assigned(harness: Harness) -> None:
    await issued_order(harness, "PO-1", 1)
    await issued_order(harness, "PO-2", 1)
    await assign_to(harness, "anna@example.com")

    calls = await harness.command(HANA, "issuances")

    assert len(listed_po_numbers(sent_texts(calls)[0])) == 1


async def test_list_leaves_out_old(harness: Harness) -> None:
    await issued_order(harness)
    harness.clock.advance(WINDOW)

    calls = await harness.command(HANA, "issuances")

    assert "Page 1 of 1, 0 issuances" in sent_texts(calls)[0]


async def test_list_refused_for_lower_tiers(harness: Harness) -> None:
    for user in (AIKO, DANA):
        calls = await harness.command(user, "issuances")

        assert sent_texts(calls) == [NOT_ALLOWED]


# Paging


async def test_pages_move_in_place(harness: Harness) -> None:
    size = harness.policy.page_size
    for number in range(1, size + 2):
        harness.clock.advance(timedelta(minutes=1))
        await issued_order(harness, f"PO-{number}", 1)
    await harness.command(HANA, "issuances")

    calls = await harness.press_label(HANA, "›")

    [edit] = edits(calls)
    assert "Page 2 of 2, 11 issuances" in edit.params["text"]
    assert listed_po_numbers(edit.params["text"]) == ["PO-1"]
    assert edit.params["message_id"] == harness.last_message(HANA).message_id


async def test_same_page_changes_nothing(harness: Harness) -> None:
    for number in range(1, harness.policy.page_size + 2):
        await issued_order(harness, f"PO-{number}", 1)
    await harness.command(HANA, "issuances")

    calls = await harness.press_label(HANA, "«")

    assert alerts(calls) == ["You are already on page 1."]
    assert edits(calls) == []


async def test_forged_page_rejected(harness: Harness) -> None:
    await issued_order(harness)
    await harness.command(HANA, "issuances")

    calls = await harness.press(HANA, encode(IssuancesPage(99, 99)))

    assert alerts(calls) == ["Page 99 does not exist; there is 1 page."]
    assert edits(calls) == []


async def test_garbled_button_rejected(harness: Harness) -> None:
    await harness.command(HANA, "issuances")

    calls = await harness.press(HANA, "ic?:abc:1")

    assert alerts(calls) == [views.UNKNOWN_BUTTON]


# Cancelling


async def test_cancel_on_day_13(harness: Harness) -> None:
    order = await issued_order(harness)
    harness.clock.advance(WINDOW - timedelta(minutes=1))
    await open_summary(harness, HANA, order)

    calls = await harness.press_label(HANA, YES)

    assert alerts(calls) == ["Issuance cancelled"]
    assert sent_texts(calls) == [
        "Issuance of order <b>PO-1</b> cancelled; 3 licenses returned to Dealer Berlin's "
        "stock. The customer and the dealer will be notified."
    ]
    assert await stock_of(harness, "Dealer Berlin") == 3
    assert await inventory_counts(harness) == (0, 0)
    stored = await stored_order(harness, order.id)
    assert stored.status is OrderStatus.ON_ORDER
    assert stored.issued_at is None
    assert stored.cancel_deadline(WINDOW) == harness.clock.now() + WINDOW


async def test_customer_cancels_afterwards(harness: Harness) -> None:
    order = await issued_order(harness)
    harness.clock.advance(WINDOW - timedelta(minutes=1))
    await open_summary(harness, HANA, order)
    await harness.press_label(HANA, YES)
    # The original window closed long ago; the new one ends 14 days after the cancellation.
    harness.clock.advance(WINDOW - timedelta(seconds=1))

    history = await harness.command(AIKO, "history")
    await harness.press_label(AIKO, "Cancel PO-1")
    calls = await harness.press_label(AIKO, "Yes, cancel the order")

    assert "Cancel PO-1" in button_labels(history[-1])
    assert alerts(calls) == ["Order cancelled"]
    assert (await stored_order(harness, order.id)).status is OrderStatus.CANCELLED


async def test_customer_and_dealer_notified(harness: Harness) -> None:
    order = await issued_order(harness)
    await harness.deliver()
    await open_summary(harness, HANA, order, "Sent to the wrong clinic")
    await harness.press_label(HANA, YES)

    await harness.deliver()

    customer = harness.last_message(AIKO).text
    dealer = harness.last_message(DANA).text
    assert customer.startswith("Issuance cancelled by Vendor HQ")
    assert "Reason: Sent to the wrong clinic" in customer
    assert "You may now cancel the order until 2026-12-18 10:00 CET" in customer
    assert dealer.startswith("Issuance cancelled by Vendor HQ")
    assert "Reason: Sent to the wrong clinic" in dealer


async def test_refused_at_14_days(harness: Harness) -> None:
    order = await issued_order(harness)
    await harness.command(HANA, "issuances")
    harness.clock.advance(WINDOW)

    calls = await harness.press_label(HANA, "Cancel issuance of PO-1")

    assert alerts(calls) == [
        "The issuance of order PO-1 is 14 days old or older, so it can no longer be cancelled."
    ]
    assert popup_flags(calls) == [True]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED


async def test_yes_refused_at_14_days(harness: Harness) -> None:
    order = await issued_order(harness)
    harness.clock.advance(WINDOW - timedelta(minutes=1))
    await open_summary(harness, HANA, order)
    harness.clock.advance(timedelta(minutes=1))

    calls = await harness.press_label(HANA, YES)

    assert alerts(calls) == [
        "The issuance of order PO-1 is 14 days old or older, so it can no longer be cancelled."
    ]
    assert edits(calls) == []
    assert await stock_of(harness, "Dealer Berlin") == 0
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED


async def test_refused_after_assignment(harness: Harness) -> None:
    order = await issued_order(harness)
    await open_summary(harness, HANA, order)
    await assign_to(harness, "anna@example.com")

    calls = await harness.press_label(HANA, YES)

    assert alerts(calls) == [
        "1 of the 3 licenses of order PO-1 have been assigned, so the issuance can no "
        "longer be cancelled."
    ]
    assert await stock_of(harness, "Dealer Berlin") == 0
    assert await inventory_counts(harness) == (2, 1)
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED


async def test_double_yes(harness: Harness) -> None:
    order = await issued_order(harness)
    await open_summary(harness, HANA, order)
    summary = harness.last_message(HANA)
    yes = summary.inline_keyboard[0][0]["callback_data"]
    await harness.press(HANA, yes, summary.message_id)
    await harness.add_stock("Dealer Berlin", 2)

    calls = await harness.press(HANA, yes, summary.message_id)

    assert alerts(calls) == [views.ALREADY_CANCELLED.format(po_number="PO-1")]
    assert popup_flags(calls) == [True]
    assert await stock_of(harness, "Dealer Berlin") == 5


async def test_no_keeps_issuance(harness: Harness) -> None:
    order = await issued_order(harness)
    await open_summary(harness, HANA, order)

    calls = await harness.press_label(HANA, "No")

    assert sent_texts(calls) == [views.KEPT]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED


async def test_cancel_command_leaves_form(harness: Harness) -> None:
    order = await issued_order(harness)
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")

    calls = await harness.command(HANA, "cancel")
    after = await harness.text(HANA, "Ordered twice")

    assert sent_texts(calls) == [views.KEPT]
    assert sent_texts(after) == [NOT_UNDERSTOOD]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED


async def test_yes_after_cancel_command(harness: Harness) -> None:
    order = await issued_order(harness)
    await open_summary(harness, HANA, order)
    await harness.command(HANA, "cancel")

    calls = await harness.press_label(HANA, YES)

    assert alerts(calls) == [views.FORM_CLOSED]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED


async def test_older_summary_rejected(harness: Harness) -> None:
    first = await issued_order(harness, "PO-1")
    second = await issued_order(harness, "PO-2")
    await open_summary(harness, HANA, first)
    old_summary = harness.last_message(HANA)
    await open_summary(harness, HANA, second)

    calls = await harness.press(
        HANA, old_summary.inline_keyboard[0][0]["callback_data"], old_summary.message_id
    )

    assert alerts(calls) == [views.OUTDATED_FORM]
    assert (await stored_order(harness, first.id)).status is OrderStatus.ISSUED


async def test_forged_yes_rejected(harness: Harness) -> None:
    first = await issued_order(harness, "PO-1")
    second = await issued_order(harness, "PO-2")
    await open_summary(harness, HANA, first)
    draft = int(harness.last_message(HANA).inline_keyboard[0][0]["callback_data"].split(":")[2])

    calls = await harness.press(HANA, encode(ConfirmCancelIssuance(second.id, draft)))

    assert alerts(calls) == [views.OUTDATED_FORM]
    assert (await stored_order(harness, second.id)).status is OrderStatus.ISSUED


async def test_text_at_summary_reminds(harness: Harness) -> None:
    order = await issued_order(harness)
    await open_summary(harness, HANA, order)

    calls = await harness.text(HANA, "yes please")

    assert sent_texts(calls) == [views.PRESS_A_BUTTON]


async def test_photo_as_reason(harness: Harness) -> None:
    await issued_order(harness)
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")

    calls = await harness.send(media_message(harness, HANA, "photo"))

    assert sent_texts(calls) == [views.SEND_TEXT]


async def test_order_inside_form(harness: Harness) -> None:
    await issued_order(harness)
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")

    calls = await harness.command(HANA, "order")
    after = await harness.text(HANA, "Ordered twice")

    assert sent_texts(calls) == [FORM_BUSY.format(command="/order")]
    assert YES in button_labels(after[-1])


async def test_issuances_closes_open_form(harness: Harness) -> None:
    await issued_order(harness)
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")

    calls = await harness.command(HANA, "issuances")

    assert sent_texts(calls)[0].startswith(views.form_replaced("PO-1"))


async def test_form_closes_after_timeout(harness: Harness) -> None:
    await issued_order(harness)
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")
    job = issuances_conversation(harness).timeout_jobs[(HANA.id, HANA.id)]
    # The JobQueue runs on real time, so the test runs the timeout job itself.
    seconds_left = (job.next_t - datetime.now(UTC)).total_seconds()
    await job.run(harness.application)
    job.schedule_removal()

    after = await harness.text(HANA, "Ordered twice")

    assert 29 * 60 < seconds_left <= 30 * 60
    assert sent_texts(harness.api.calls)[-2] == views.TIMED_OUT.format(minutes=30)
    assert sent_texts(after) == [NOT_UNDERSTOOD]


async def test_refused_press_keeps_form(harness: Harness) -> None:
    await issued_order(harness)
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")

    calls = await harness.press(HANA, encode(AskCancelIssuance(999_999, 1)))
    after = await harness.text(HANA, "Ordered twice")

    assert alerts(calls) == [NOT_FOUND]
    assert YES in button_labels(after[-1])


async def test_refused_press_opens_nothing(harness: Harness) -> None:
    await harness.command(HANA, "issuances")

    await harness.press(HANA, encode(AskCancelIssuance(999_999, 1)))

    assert (HANA.id, HANA.id) not in issuances_conversation(harness).timeout_jobs


# The reason


async def test_reason_question(harness: Harness) -> None:
    await issued_order(harness)
    await harness.command(HANA, "issuances")

    calls = await harness.press_label(HANA, "Cancel issuance of PO-1")

    assert alerts(calls) == [""]
    assert sent_texts(calls) == [
        "Cancel the issuance of <b>PO-1</b>?\n"
        "Customer: Clinic Am See\n"
        "Dealer: Dealer Berlin\n"
        "3 licenses, issued 2026-12-04\n"
        "Can be cancelled until 2026-12-18 18:00 JST\n"
        "\n"
        "Send the reason in one message, up to 500 characters. The customer and the "
        "dealer will read it. Send /cancel to keep the issuance."
    ]


async def test_blank_reason_repeats_question(harness: Harness) -> None:
    await issued_order(harness)
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")

    calls = await harness.text(HANA, "   ")

    [text] = sent_texts(calls)
    assert text.startswith("A reason is required; the customer and the dealer will read it.")
    assert "Send the reason in one message" in text


async def test_long_reason_repeats_question(harness: Harness) -> None:
    await issued_order(harness)
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")

    calls = await harness.text(HANA, "x" * 501)
    fitting = await harness.text(HANA, "x" * 500)

    assert sent_texts(calls)[0].startswith(
        "A reason has at most 500 characters; this one has 501."
    )
    assert YES in button_labels(fitting[-1])


async def test_hostile_reason_escaped(harness: Harness) -> None:
    order = await issued_order(harness)
    await harness.deliver()
    await open_summary(harness, HANA, order, "<b>x</b> & 🙂")
    summary = harness.last_message(HANA)
    await harness.press_label(HANA, YES)

    await harness.deliver()

    assert "Reason: &lt;b&gt;x&lt;/b&gt; &amp; 🙂\n" in summary.source_text
    assert "Reason: <b>x</b> & 🙂\n" in summary.text
    assert "Reason: <b>x</b> & 🙂\n" in harness.last_message(AIKO).text
    assert "Reason: &lt;b&gt;x&lt;/b&gt; &amp; 🙂\n" in harness.last_message(AIKO).source_text
    assert "Reason: <b>x</b> & 🙂\n" in harness.last_message(DANA).text


async def test_summary_shows_order_and_reason(harness: Harness) -> None:
    order = await issued_order(harness)

    await open_summary(harness, HANA, order, "Ordered  twice")

    assert harness.last_message(HANA).source_text == (
        "<b>Please check the cancellation</b>\n"
        "PO number: PO-1\n"
        "Customer: Clinic Am See\n"
        "Dealer: Dealer Berlin\n"
        "3 licenses, issued 2026-12-04\n"
        "Can be cancelled until 2026-12-18 18:00 JST\n"
        "Reason: Ordered twice\n"
        "\n"
        "The 3 licenses go back to the stock of Dealer Berlin, and the order returns to "
        "Licenses on Order."
    )
    assert harness.labels(HANA) == [YES, "No"]


# Business centres


async def test_business_centre_area(harness: Harness) -> None:
    await add_other_dealers(harness)
    await issued_order(harness, "Berlin-1")
    await issued_order(harness, "Munich-1", customer=BEN, dealer=MAX, dealer_name="Dealer Munich")
    await issued_order(harness, "Paris-1", customer=LEA, dealer=PIERRE, dealer_name="Dealer Paris")

    germany = await harness.command(BRUNO, "issuances")
    france = await harness.command(CLAIRE, "issuances")
    headquarters = await harness.command(HANA, "issuances")

    assert sorted(listed_po_numbers(sent_texts(germany)[0])) == ["Berlin-1", "Munich-1"]
    assert listed_po_numbers(sent_texts(france)[0]) == ["Paris-1"]
    assert len(listed_po_numbers(sent_texts(headquarters)[0])) == 3


async def test_business_centre_cancels_munich(harness: Harness) -> None:
    await add_other_dealers(harness)
    order = await issued_order(
        harness, "Munich-1", customer=BEN, dealer=MAX, dealer_name="Dealer Munich"
    )
    await open_summary(harness, BRUNO, order)

    calls = await harness.press_label(BRUNO, YES)

    assert alerts(calls) == ["Issuance cancelled"]
    assert await stock_of(harness, "Dealer Munich") == 3


async def test_business_centre_cancels_berlin(harness: Harness) -> None:
    order = await issued_order(harness)
    await open_summary(harness, BRUNO, order)

    calls = await harness.press_label(BRUNO, YES)

    assert alerts(calls) == ["Issuance cancelled"]
    assert await stock_of(harness, "Dealer Berlin") == 3


async def test_other_centre_forged_button(harness: Harness) -> None:
    order = await issued_order(harness)
    await harness.command(CLAIRE, "issuances")

    calls = await harness.press(CLAIRE, encode(AskCancelIssuance(order.id, 1)))
    after = await harness.text(CLAIRE, "Ordered twice")

    assert alerts(calls) == [NOT_FOUND]
    assert sent_texts(after) == [NOT_UNDERSTOOD]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED


async def test_germany_forged_paris(harness: Harness) -> None:
    await add_other_dealers(harness)
    order = await issued_order(
        harness, "Paris-1", customer=LEA, dealer=PIERRE, dealer_name="Dealer Paris"
    )
    await harness.command(BRUNO, "issuances")

    calls = await harness.press(BRUNO, encode(AskCancelIssuance(order.id, 1)))

    assert alerts(calls) == [NOT_FOUND]


async def test_unknown_order_forged(harness: Harness) -> None:
    await harness.command(HANA, "issuances")

    calls = await harness.press(HANA, encode(AskCancelIssuance(999_999, 1)))

    assert alerts(calls) == [NOT_FOUND]


async def test_customer_forged_button(harness: Harness) -> None:
    order = await issued_order(harness)
    await harness.command(AIKO, "history")

    calls = await harness.press(AIKO, encode(AskCancelIssuance(order.id, 1)))

    assert alerts(calls) == [NOT_ALLOWED]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED


async def test_reason_after_window_closed_refused(harness: Harness) -> None:
    order = await issued_order(harness)
    harness.clock.advance(WINDOW - timedelta(minutes=1))
    await harness.command(HANA, "issuances")
    await harness.press_label(HANA, "Cancel issuance of PO-1")
    harness.clock.advance(timedelta(minutes=2))

    calls = await harness.text(HANA, "Ordered twice")

    [text] = sent_texts(calls)
    assert "can no longer be cancelled" in text
    assert YES not in harness.labels(HANA)
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED
