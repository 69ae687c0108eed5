"""The dealer's side through the real Application: /pending, /stock and issuing an order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.callbacks import AskIssue, ConfirmIssue, ShowPendingPage, encode
from bot.delivery.jobs import IMMEDIATE_JOB_NAME
from bot.handlers.fallback import ISSUE_NEEDS_REPLY, NOT_UNDERSTOOD
from bot.handlers.issuing import is_confirming_word
from bot.offline_api import ApiCall, SentMessage
from bot.offline_updates import OfflineUser
from bot.views.issuing import NOT_AN_ORDER_NOTIFICATION, NOT_ISSUED
from core.orders import Order, OrderStatus
from core.use_cases.issuing import issue_order
from core.use_cases.membership import add_member
from core.use_cases.ordering import cancel_order, place_order
from tests.bot.conftest import (
    AIKO,
    BEN,
    DANA,
    Harness,
    alerts,
    assert_valid_html,
    audit_entries,
    button_labels,
    keyboard,
    popup_flags,
    sent_texts,
    stored_order,
)

# A second administrator of Dealer Berlin, and one of Dealer Munich.
DIRK = OfflineUser(6002, "Dirk", "Brandt", language_code="de")
MIA = OfflineUser(6101, "Mia", "Huber", language_code="de")
NOT_VISIBLE = "That order was not found among the orders placed with your dealer."


async def add_dealer_member(harness: Harness, user: OfflineUser, dealer: str) -> None:
    await add_member(
        harness.database.unit_of_work(),
        organisation_name=dealer,
        telegram_user_id=user.id,
        name=user.full_name,
        now=harness.clock.now(),
    )


async def place(
    harness: Harness, po_number: str, quantity: int, user: OfflineUser = AIKO
) -> Order:
    placed = await place_order(
        harness.database.unit_of_work(),
        telegram_user_id=user.id,
        po_number=po_number,
        quantity=quantity,
        policy=harness.policy,
        now=harness.clock.now(),
    )
    return placed.order


async def stock_of(harness: Harness, dealer: str = "Dealer Berlin") -> int:
    async with harness.database.unit_of_work() as uow:
        return await uow.licenses.count_in_stock(harness.organisation_ids[dealer])


async def unused_licenses(harness: Harness, customer: str = "Clinic Am See") -> int:
    async with harness.database.unit_of_work() as uow:
        unused, _ = await uow.licenses.count_inventory(
            harness.organisation_ids[customer], harness.clock.now()
        )
    return unused


async def notified(harness: Harness, order: Order, user: OfflineUser = DANA) -> SentMessage:
    """Deliver the outbox and return the notification of ``order`` in ``user``'s chat."""
    await harness.deliver()
    for message in reversed(harness.api.messages_to(user.id)):
        if f"PO number: <b>{order.po_number}</b>" in message.source_text:
            return message
    raise LookupError(f"no notification of {order.po_number} in chat {user.id}")


async def reply(harness: Harness, user: OfflineUser, text: str, message_id: int) -> list[ApiCall]:
    return await harness.send(harness.updates.reply(user, text, to_message_id=message_id))


def press_update(harness: Harness, user: OfflineUser, data: str) -> dict[str, Any]:
    return harness.updates.callback_query(user, harness.last_message(user).message_id, data)


# Notification of a new order


async def test_order_notification_to_dealer(harness: Harness) -> None:
    order = await place(harness, "PO 7", 3)

    report = await harness.deliver()

    [call] = harness.api.calls_of("sendMessage")
    assert report.sent == 1
    assert call.params["chat_id"] == DANA.id
    assert "from <b>Clinic Am See</b>" in call.params["text"]
    assert "PO number: <b>PO 7</b>" in call.params["text"]
    assert "Licenses: 3" in call.params["text"]
    assert "Ordered: 2026-12-04" in call.params["text"]
    assert "Reply <b>issue</b> to this message to issue it." in call.params["text"]
    assert keyboard(call) == [[("Issue", encode(AskIssue(order.id)))]]
    assert_valid_html([call])


async def test_order_notification_escapes_po(harness: Harness) -> None:
    await place(harness, "<b>PO</b> & co", 1)

    await harness.deliver()

    [call] = harness.api.calls_of("sendMessage")
    assert "PO number: <b>&lt;b&gt;PO&lt;/b&gt; &amp; co</b>" in call.params["text"]
    assert_valid_html([call])


async def test_order_date_in_dealer_zone(harness: Harness) -> None:
    # 23:30 UTC on 4 December is already 5 December in Berlin.
    harness.clock.advance(harness.clock.now().replace(hour=23, minute=30) - harness.clock.now())
    await place(harness, "PO late", 1)

    await harness.deliver()

    assert "Ordered: 2026-12-05" in harness.last_message(DANA).source_text


# Issuing by reply


async def test_reply_issue_then_yes(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 10)
    order = await place(harness, "PO 7", 4)
    notification = await notified(harness, order)

    question = await reply(harness, DANA, "Issue", notification.message_id)
    issued = await harness.press_label(DANA, "Yes, issue")

    [question_text] = sent_texts(question)
    assert question_text.startswith("Issue order <b>PO 7</b>?")
    assert "Your stock: 10 now, 6 after issuing." in question_text
    assert button_labels(question[0]) == ["Yes, issue", "No"]
    assert alerts(issued) == ["Licenses issued"]
    assert sent_texts(issued)[0].startswith("Issued order <b>PO 7</b>: 4 licenses")
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED
    assert await stock_of(harness) == 6
    assert await unused_licenses(harness) == 4


async def test_issued_notification_to_customer(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 10)
    order = await place(harness, "PO 7", 4)
    notification = await notified(harness, order)
    await reply(harness, DANA, "issue", notification.message_id)
    await harness.press_label(DANA, "Yes, issue")

    report = await harness.deliver()

    text = harness.last_message(AIKO).source_text
    assert report.sent == 1
    assert text.startswith("<b>Licenses issued</b> by <b>Dealer Berlin</b>")
    assert "PO number: <b>PO 7</b>" in text
    assert "Licenses: 4" in text
    assert "Issued: 2026-12-04" in text
    assert "see /inventory" in text


@pytest.mark.parametrize(
    "text", ["issue", "ISSUE", " Yes! ", "ok.", "Okay", "confirm", "«Confirm»", "issue。"]
)
def test_confirming_words(text: str) -> None:
    assert is_confirming_word(text)


@pytest.mark.parametrize("text", ["issue it", "yess", "o k", "", "!!", "👍", "sí"])
def test_not_confirming_words(text: str) -> None:
    assert not is_confirming_word(text)


@pytest.mark.parametrize("word", ["Issue.", "YES", "ok", "Okay!", "confirm"])
async def test_reply_words_ask_confirmation(harness: Harness, word: str) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    notification = await notified(harness, order)

    calls = await reply(harness, DANA, word, notification.message_id)

    assert sent_texts(calls)[0].startswith("Issue order <b>PO 7</b>?")


async def test_reply_other_word_explains(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    notification = await notified(harness, order)

    calls = await reply(harness, DANA, "maybe", notification.message_id)

    [text] = sent_texts(calls)
    assert "<b>issue</b>, <b>yes</b>, <b>ok</b>, <b>okay</b>, <b>confirm</b>" in text
    assert "was not issued" in text
    assert keyboard(calls[0]) == []
    assert (await stored_order(harness, order.id)).status is OrderStatus.ON_ORDER


async def test_reply_other_word_when_stock_short(harness: Harness) -> None:
    order = await place(harness, "PO 7", 2)
    notification = await notified(harness, order)

    calls = await reply(harness, DANA, "later", notification.message_id)

    assert "<b>confirm</b>" in sent_texts(calls)[0]


async def test_reply_to_issued_order(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    notification = await notified(harness, order)
    await issue_order(
        harness.database.unit_of_work(),
        telegram_user_id=DANA.id,
        order_id=order.id,
        now=harness.clock.now(),
    )

    calls = await reply(harness, DANA, "issue", notification.message_id)

    assert sent_texts(calls) == ["Order PO 7 was already issued on 2026-12-04."]


async def test_reply_any_text_to_issued_order(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    notification = await notified(harness, order)
    await issue_order(
        harness.database.unit_of_work(),
        telegram_user_id=DANA.id,
        order_id=order.id,
        now=harness.clock.now(),
    )

    calls = await reply(harness, DANA, "thanks", notification.message_id)

    assert sent_texts(calls) == ["Order PO 7 was already issued on 2026-12-04."]


async def test_reply_to_cancelled_order(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    notification = await notified(harness, order)
    await cancel_order(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        order_id=order.id,
        policy=harness.policy,
        now=harness.clock.now(),
    )

    calls = await reply(harness, DANA, "yes", notification.message_id)

    assert sent_texts(calls) == ["Order PO 7 was cancelled on 2026-12-04, so it cannot be issued."]


async def test_reply_stock_short(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 3)
    order = await place(harness, "PO 7", 5)
    notification = await notified(harness, order)

    calls = await reply(harness, DANA, "issue", notification.message_id)

    [text] = sent_texts(calls)
    assert "has 3 licenses" in text
    assert "needs 5" in text
    assert await stock_of(harness) == 3


async def test_reply_to_other_message_falls_through(harness: Harness) -> None:
    await add_dealer_member(harness, MIA, "Dealer Munich")
    await harness.command(MIA, "stock")

    calls = await reply(harness, MIA, "issue", harness.last_message(MIA).message_id)

    # "issue" outside a reply to an order notification gets the hint how to issue.
    assert sent_texts(calls) == [ISSUE_NEEDS_REPLY]


async def test_reply_to_pending_list(harness: Harness) -> None:
    await place(harness, "PO 7", 2)
    await harness.command(DANA, "pending")

    calls = await reply(harness, DANA, "issue", harness.last_message(DANA).message_id)

    assert sent_texts(calls) == [NOT_AN_ORDER_NOTIFICATION]


async def test_reply_to_own_message_falls_through(harness: Harness) -> None:
    await harness.text(DANA, "hello")
    own_message_id = harness.api.next_message_id(DANA.id) - 1

    calls = await reply(harness, DANA, "issue", own_message_id)

    # "issue" outside a reply to an order notification gets the hint how to issue.
    assert sent_texts(calls) == [ISSUE_NEEDS_REPLY]


async def test_customer_reply_reaches_form(harness: Harness) -> None:
    await harness.command(AIKO, "order")

    calls = await reply(harness, AIKO, "PO 9", harness.last_message(AIKO).message_id)

    assert "How many licenses?" in sent_texts(calls)[0]


async def test_customer_reply_to_issued_notice(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    await issue_order(
        harness.database.unit_of_work(),
        telegram_user_id=DANA.id,
        order_id=order.id,
        now=harness.clock.now(),
    )
    notice = await notified(harness, order, AIKO)

    calls = await reply(harness, AIKO, "ok", notice.message_id)

    assert sent_texts(calls) == [NOT_UNDERSTOOD]


# Issuing by button


async def test_issue_button_on_notification(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    notification = await notified(harness, order)

    calls = await harness.press(DANA, encode(AskIssue(order.id)), notification.message_id)

    assert alerts(calls) == [""]
    assert sent_texts(calls)[0].startswith("Issue order <b>PO 7</b>?")
    assert harness.api.messages_to(DANA.id)[-2].source_text == notification.source_text


async def test_no_changes_nothing(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    notification = await notified(harness, order)
    await reply(harness, DANA, "issue", notification.message_id)

    calls = await harness.press_label(DANA, "No")

    assert sent_texts(calls) == [NOT_ISSUED]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ON_ORDER
    assert await stock_of(harness) == 5


async def test_issue_writes_audit_entry(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    await harness.command(DANA, "pending")
    await harness.press_label(DANA, "Issue PO 7")

    await harness.press_label(DANA, "Yes, issue")

    actions = [entry.action for entry in await audit_entries(harness, "order", order.id)]
    assert actions[-1] == "order.issued"


async def test_issue_requests_delivery(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    await harness.press(
        DANA, encode(AskIssue(order.id)), (await notified(harness, order)).message_id
    )

    await harness.press_label(DANA, "Yes, issue")

    job_queue = harness.application.job_queue
    assert job_queue is not None
    assert len(job_queue.get_jobs_by_name(IMMEDIATE_JOB_NAME)) == 1


async def test_double_yes_issues_once(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    notification = await notified(harness, order)
    await reply(harness, DANA, "issue", notification.message_id)
    question_id = harness.last_message(DANA).message_id
    await harness.press(DANA, encode(ConfirmIssue(order.id)), question_id)

    second = await harness.press(DANA, encode(ConfirmIssue(order.id)), question_id)

    assert alerts(second) == ["Order PO 7 was already issued on 2026-12-04."]
    assert await stock_of(harness) == 3
    assert await unused_licenses(harness) == 2


async def test_two_members_at_once(harness: Harness) -> None:
    await add_dealer_member(harness, DIRK, "Dealer Berlin")
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    for user in (DANA, DIRK):
        notification = await notified(harness, order, user)
        await reply(harness, user, "issue", notification.message_id)
    confirm = encode(ConfirmIssue(order.id))

    before = len(harness.api.calls)
    await asyncio.gather(
        harness.send(press_update(harness, DANA, confirm)),
        harness.send(press_update(harness, DIRK, confirm)),
    )

    answers = alerts(harness.api.calls[before:])
    assert answers.count("Licenses issued") == 1
    assert len(answers) == 2
    assert await stock_of(harness) == 3
    assert await unused_licenses(harness) == 2
    actions = [entry.action for entry in await audit_entries(harness, "order", order.id)]
    assert actions.count("order.issued") == 1


async def test_stock_short_on_button(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 3)
    order = await place(harness, "PO 7", 5)
    notification = await notified(harness, order)

    calls = await harness.press(DANA, encode(AskIssue(order.id)), notification.message_id)

    [alert] = alerts(calls)
    assert "has 3 licenses" in alert
    assert "needs 5" in alert
    assert popup_flags(calls) == [True]


async def test_stock_short_at_yes(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    first = await place(harness, "PO 7", 5)
    second = await place(harness, "PO 8", 3)
    notification = await notified(harness, first)
    await reply(harness, DANA, "issue", notification.message_id)
    await issue_order(
        harness.database.unit_of_work(),
        telegram_user_id=DANA.id,
        order_id=second.id,
        now=harness.clock.now(),
    )

    calls = await harness.press_label(DANA, "Yes, issue")

    [alert] = alerts(calls)
    assert "has 2 licenses" in alert
    assert "needs 5" in alert
    assert (await stored_order(harness, first.id)).status is OrderStatus.ON_ORDER
    assert await stock_of(harness) == 2
    assert await unused_licenses(harness) == 3


async def test_forged_confirm_other_dealer(harness: Harness) -> None:
    await add_dealer_member(harness, MIA, "Dealer Munich")
    await harness.add_stock("Dealer Munich", 5)
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    await harness.command(MIA, "stock")

    calls = await harness.press(MIA, encode(ConfirmIssue(order.id)))

    assert alerts(calls) == [NOT_VISIBLE]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ON_ORDER
    assert await stock_of(harness, "Dealer Munich") == 5


async def test_forged_ask_other_dealer(harness: Harness) -> None:
    await add_dealer_member(harness, MIA, "Dealer Munich")
    order = await place(harness, "PO 7", 2)
    await harness.command(MIA, "stock")

    calls = await harness.press(MIA, encode(AskIssue(order.id)))

    assert alerts(calls) == [NOT_VISIBLE]


async def test_customer_confirm_rejected(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    await harness.command(AIKO, "history")

    calls = await harness.press(AIKO, encode(ConfirmIssue(order.id)))

    [alert] = alerts(calls)
    assert alert.startswith("Only dealer administrators can issue licenses")
    assert (await stored_order(harness, order.id)).status is OrderStatus.ON_ORDER


async def test_unknown_order_rejected(harness: Harness) -> None:
    await harness.command(DANA, "stock")

    calls = await harness.press(DANA, encode(ConfirmIssue(999)))

    assert alerts(calls) == [NOT_VISIBLE]


# /pending and /stock


async def test_pending_oldest_first(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 7)
    await place(harness, "PO A", 1)
    await place(harness, "PO B", 2, user=BEN)

    calls = await harness.command(DANA, "pending")

    [text] = sent_texts(calls)
    assert "Stock: 7 licenses" in text
    assert "Page 1 of 1, 2 orders" in text
    assert text.index("PO A") < text.index("PO B")
    assert "<b>PO B</b> · Praxis Ost" in text
    assert button_labels(calls[0]) == ["Issue PO A", "Issue PO B"]


async def test_pending_empty(harness: Harness) -> None:
    calls = await harness.command(DANA, "pending")

    assert "No order is waiting to be issued." in sent_texts(calls)[0]
    assert keyboard(calls[0]) == []


async def test_pending_skips_other_orders(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    issued = await place(harness, "PO issued", 1)
    await issue_order(
        harness.database.unit_of_work(),
        telegram_user_id=DANA.id,
        order_id=issued.id,
        now=harness.clock.now(),
    )
    await place(harness, "PO open", 1)

    calls = await harness.command(DANA, "pending")

    assert button_labels(calls[0]) == ["Issue PO open"]


async def test_pending_pages(harness: Harness) -> None:
    size = harness.policy.page_size
    for number in range(1, size + 2):
        await place(harness, f"PO {number:02d}", 1)
    await harness.command(DANA, "pending")

    calls = await harness.press(DANA, encode(ShowPendingPage(2, 1)))

    [text] = sent_texts(calls)
    assert f"Page 2 of 2, {size + 1} orders" in text
    assert button_labels(calls[-1])[0] == f"Issue PO {size + 1:02d}"


async def test_pending_same_page(harness: Harness) -> None:
    await place(harness, "PO 1", 1)
    await harness.command(DANA, "pending")

    calls = await harness.press(DANA, encode(ShowPendingPage(1, 1)))

    assert alerts(calls) == ["You are already on page 1."]


async def test_pending_missing_page(harness: Harness) -> None:
    await place(harness, "PO 1", 1)
    await harness.command(DANA, "pending")

    calls = await harness.press(DANA, encode(ShowPendingPage(3, 1)))

    assert alerts(calls) == ["Page 3 does not exist; there is 1 page."]


async def test_pending_issue_flow(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 5)
    order = await place(harness, "PO 7", 2)
    await harness.command(DANA, "pending")

    await harness.press_label(DANA, "Issue PO 7")
    calls = await harness.press_label(DANA, "Yes, issue")

    assert alerts(calls) == ["Licenses issued"]
    assert (await stored_order(harness, order.id)).status is OrderStatus.ISSUED


async def test_pending_rejected_for_customer(harness: Harness) -> None:
    calls = await harness.command(AIKO, "pending")

    assert sent_texts(calls)[0].startswith("Only dealer administrators can issue licenses")


async def test_stock_shows_level(harness: Harness) -> None:
    await harness.add_stock("Dealer Berlin", 7)

    calls = await harness.command(DANA, "stock")

    assert sent_texts(calls)[0].startswith("<b>Dealer Berlin</b> has 7 licenses in stock.")


async def test_stock_rejected_for_customer(harness: Harness) -> None:
    calls = await harness.command(AIKO, "stock")

    assert sent_texts(calls)[0].startswith("Only dealer administrators can see stock")


async def test_forged_issuing_data(harness: Harness) -> None:
    await harness.command(DANA, "stock")

    calls = await harness.press(DANA, "is!:abc")

    assert popup_flags(calls) == [True]
