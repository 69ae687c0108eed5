"""Texts of the notifications that the dispatcher sends from the outbox.

A notification stores its kind and a payload of JSON values (see
``core.use_cases.notify.order_payload``). The text is made when the message
is sent, with every date in the time zone of the recipient's organisation:
``dealer_timezone`` for a dealer's members, ``customer_timezone`` for a
customer's members. The texts of reminders are in ``bot.views.reminders``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import AskIssue, encode
from bot.views.formatting import escape, local_date, local_datetime
from bot.views.payload import InvalidPayload, Rendered, read_moment, read_number, read_text
from bot.views.reminders import REMINDER_RENDERERS
from core.notifications import Notification, NotificationKind
from core.organisations import Tier

ISSUE_BUTTON = "Issue"
REPLY_HINT = "Reply <b>issue</b> to this message to issue it."


def render_notification(notification: Notification) -> Rendered:
    """Return the HTML text and the buttons of a notification.

    Raises InvalidPayload when the payload cannot be shown, so the
    dispatcher can mark that one notification failed and go on.
    """
    renderer = _RENDERERS.get(notification.kind)
    if renderer is None:
        raise InvalidPayload(f"no text for notification kind {notification.kind!r}")
    try:
        return renderer(notification)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidPayload(
            f"payload of notification {notification.id} ({notification.kind}) "
            f"cannot be shown: {error!r}"
        ) from error


def _order_placed(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "dealer_timezone")
    text = (
        f"<b>New order</b> from <b>{escape(read_text(payload, 'customer'))}</b>\n"
        f"PO number: <b>{escape(read_text(payload, 'po_number'))}</b>\n"
        f"Licenses: {read_number(payload, 'quantity')}\n"
        f"Ordered: {local_date(read_moment(payload, 'ordered_at'), timezone)}\n\n"
        f"{REPLY_HINT} Or press {ISSUE_BUTTON}."
    )
    order_id = notification.order_id
    if order_id is None:
        raise InvalidPayload(f"order notification {notification.id} names no order")
    button = InlineKeyboardButton(ISSUE_BUTTON, callback_data=encode(AskIssue(order_id)))
    return text, InlineKeyboardMarkup([[button]])


def _order_cancelled(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "dealer_timezone")
    quantity = read_number(payload, "quantity")
    ordered = local_date(read_moment(payload, "ordered_at"), timezone)
    text = (
        f"<b>Order cancelled</b> by <b>{escape(read_text(payload, 'customer'))}</b>\n"
        f"PO number: <b>{escape(read_text(payload, 'po_number'))}</b>\n"
        f"Licenses: {quantity}, ordered {ordered}\n"
        f"Cancelled: {local_date(notification.created_at, timezone)}\n\n"
        "Nothing is to be issued for this order."
    )
    return text, None


def _order_issued(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "customer_timezone")
    text = (
        f"<b>Licenses issued</b> by <b>{escape(read_text(payload, 'dealer'))}</b>\n"
        f"PO number: <b>{escape(read_text(payload, 'po_number'))}</b>\n"
        f"Licenses: {read_number(payload, 'quantity')}\n"
        f"Issued: {local_date(read_moment(payload, 'issued_at'), timezone)}\n\n"
        "The licenses are in your inventory now; see /inventory."
    )
    return text, None


def _issuance_cancelled(notification: Notification) -> Rendered:
    payload = notification.payload
    quantity = read_number(payload, "quantity")
    text = (
        f"<b>Issuance cancelled</b> by <b>{escape(read_text(payload, 'cancelled_by'))}</b>\n"
        f"PO number: <b>{escape(read_text(payload, 'po_number'))}</b>\n"
        f"Customer: {escape(read_text(payload, 'customer'))}\n"
        f"Dealer: {escape(read_text(payload, 'dealer'))}\n"
        f"Licenses: {quantity}\n"
        f"Reason: {escape(read_text(payload, 'reason'))}\n\n"
    )
    customer_deadline = local_datetime(
        read_moment(payload, "cancel_deadline"), read_text(payload, "customer_timezone")
    )
    recipient = _recipient_tier(payload)
    if recipient is Tier.CUSTOMER:
        return (
            text + f"The {quantity} went back to the dealer, and the order is "
            "Licenses on Order again.\n"
            f"You may now cancel the order until {customer_deadline}.",
            None,
        )
    if recipient is Tier.DEALER:
        return (
            text + f"The {quantity} are back in your stock, and the order waits "
            "in /pending to be issued again.",
            None,
        )
    return (
        text + f"The {quantity} went back to the dealer's stock, and the order is "
        "Licenses on Order again.\n"
        f"The customer may now cancel the order until {customer_deadline}.",
        None,
    )


_RENDERERS: dict[NotificationKind, Callable[[Notification], Rendered]] = {
    NotificationKind.ORDER_PLACED: _order_placed,
    NotificationKind.ORDER_CANCELLED: _order_cancelled,
    NotificationKind.ORDER_ISSUED: _order_issued,
    NotificationKind.ISSUANCE_CANCELLED: _issuance_cancelled,
    **REMINDER_RENDERERS,
}


def _recipient_tier(payload: Mapping[str, Any]) -> Tier | None:
    """Return the tier of the recipient's organisation, if the payload names it.

    Without it, the text is written for either side.
    """
    if payload.get("recipient_tier") is None:
        return None
    return Tier(read_number(payload, "recipient_tier"))
