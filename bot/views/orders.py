"""Texts of the order form."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ConfirmOrder, DiscardOrder, encode
from bot.views.formatting import escape, local_date, local_datetime, plural
from core.orders import MAX_PO_LENGTH
from core.use_cases.ordering import OrderForm, PlacedOrder

CANCEL_HINT = "Send /cancel to stop without ordering."


def ask_po_number(form: OrderForm, quantity: int | None = None) -> str:
    """Return the PO number question; ``quantity`` is the number of licenses if already set."""
    licenses = f" of {plural(quantity, 'license')}" if quantity is not None else ""
    return (
        f"New order{licenses} for <b>{escape(form.customer.name)}</b> from dealer "
        f"<b>{escape(form.dealer.name)}</b>.\n\n"
        f"Send the PO number (up to {MAX_PO_LENGTH} characters). {CANCEL_HINT}"
    )


def ask_quantity(po_number: str, maximum: int) -> str:
    return (
        f"PO number: <b>{escape(po_number)}</b>\n\n"
        f"How many licenses? Send a whole number from 1 to {maximum}. {CANCEL_HINT}"
    )


def retry_question(reason: str, question: str) -> str:
    """Repeat the question after a rejected answer, reason first."""
    return f"{escape(reason)}\n\n{question}"


def summary(
    form: OrderForm, po_number: str, quantity: int, draft: int
) -> tuple[str, InlineKeyboardMarkup]:
    text = (
        "<b>Please check your order</b>\n"
        f"Customer: {escape(form.customer.name)}\n"
        f"Dealer: {escape(form.dealer.name)}\n"
        f"PO number: {escape(po_number)}\n"
        f"Licenses: {quantity}\n\n"
        "Press Confirm to place the order."
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Confirm", callback_data=encode(ConfirmOrder(draft))),
                InlineKeyboardButton("Cancel", callback_data=encode(DiscardOrder(draft))),
            ]
        ]
    )
    return text, markup


def placed(result: PlacedOrder, cancel_window: timedelta) -> str:
    order = result.order
    timezone = result.customer.timezone
    deadline = order.cancel_deadline(cancel_window)
    return (
        f"Order placed: <b>{escape(order.po_number)}</b>, "
        f"{plural(order.quantity, 'license')} from {escape(result.dealer.name)}, "
        f"ordered {local_date(order.ordered_at, timezone)}. Status: {order.status.label}.\n"
        f"You can cancel it in /history until {local_datetime(deadline, timezone)}."
    )


DISCARDED = "Order discarded. Nothing was ordered."
PRESS_A_BUTTON = "Press Confirm or Cancel under the summary above, or send /cancel."
SEND_TEXT = "Please answer with text."
TIMED_OUT = (
    "The order form was closed after {minutes} minutes without an answer. "
    "Nothing was ordered; send /order to start again."
)
FORM_CLOSED = (
    "This order form is closed, so nothing was ordered from it. Send /order to start a new one."
)
OUTDATED_FORM = (
    "This summary belongs to an older order form. Use the buttons of the latest summary."
)
ALREADY_PLACED = "This order was already placed (PO {po_number}). See /history."
UNKNOWN_ORDER_BUTTON = "This button is no longer valid. Send /order to order licenses."
FORM_BUSY_BUTTON = (
    "You are in the middle of another form. Answer its question, or send /cancel "
    "to leave it, then press the button again."
)
NO_OPEN_FORM = (
    "No form is open, so there is nothing to leave. To cancel a placed order, open /history."
)
