"""Texts and buttons of /issuances and of the form that cancels an issuance."""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import (
    AskCancelIssuance,
    ConfirmCancelIssuance,
    IssuancesPage,
    KeepIssuance,
    encode,
)
from bot.views.formatting import button_label, escape, local_date, local_datetime, plural
from core.paging import Page
from core.use_cases.issuances import MAX_REASON_LENGTH, CancelledIssuance, Issuance

CANCEL_HINT = "Send /cancel to keep the issuance."


def render_issuances(
    page: Page[Issuance], cancel_window: timedelta, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Return the text and keyboard of one page of cancellable issuances, newest first."""
    lines = []
    if notice:
        lines.append(notice + "\n")
    lines.append(
        "<b>Issuances you can cancel</b>\n"
        f"Page {page.number} of {page.total_pages}, {plural(page.total_items, 'issuance')}"
    )
    if not page.items:
        lines.append(
            "\nNo issuance can be cancelled now. An issuance can be cancelled for "
            f"{plural(cancel_window.days, 'day')} after its issue date, while none of its "
            "licenses has been assigned."
        )
    for issuance in page.items:
        lines.append("\n" + _render_row(issuance))

    keyboard = [
        [
            InlineKeyboardButton(
                f"Cancel issuance of {button_label(issuance.order.po_number)}",
                callback_data=encode(AskCancelIssuance(issuance.order.id, page.number)),
            )
        ]
        for issuance in page.items
    ]
    if page.total_pages > 1:
        keyboard.append(_navigation_row(page.number, page.total_pages))
    markup = InlineKeyboardMarkup(keyboard) if keyboard else None
    return "\n".join(lines), markup


def ask_reason(issuance: Issuance) -> str:
    return (
        f"Cancel the issuance of <b>{escape(issuance.order.po_number)}</b>?\n"
        f"{_describe(issuance)}\n\n"
        f"Send the reason in one message, up to {MAX_REASON_LENGTH} characters. "
        f"The customer and the dealer will read it. {CANCEL_HINT}"
    )


def retry_reason(error: str, issuance: Issuance) -> str:
    """Repeat the reason question after a rejected answer, error first."""
    return f"{escape(error)}\n\n{ask_reason(issuance)}"


def confirmation(issuance: Issuance, reason: str, draft: int) -> tuple[str, InlineKeyboardMarkup]:
    order = issuance.order
    text = (
        f"<b>Please check the cancellation</b>\n"
        f"PO number: {escape(order.po_number)}\n"
        f"{_describe(issuance)}\n"
        f"Reason: {escape(reason)}\n\n"
        f"The {plural(order.quantity, 'license')} go back to the stock of "
        f"{escape(issuance.dealer.name)}, and the order returns to Licenses on Order."
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "Yes, cancel the issuance",
                    callback_data=encode(ConfirmCancelIssuance(order.id, draft)),
                ),
                InlineKeyboardButton("No", callback_data=encode(KeepIssuance(draft))),
            ]
        ]
    )
    return text, markup


def cancelled(result: CancelledIssuance) -> str:
    return (
        f"Issuance of order <b>{escape(result.order.po_number)}</b> cancelled; "
        f"{plural(result.licenses_returned, 'license')} returned to "
        f"{escape(result.dealer.name)}'s stock. The customer and the dealer will be notified."
    )


def form_replaced(po_number: str) -> str:
    return (
        f"The form to cancel the issuance of <b>{escape(po_number)}</b> was closed; "
        "nothing was cancelled."
    )


KEPT = "Nothing was cancelled; the issuance stays as it is."
ALREADY_CANCELLED = "The issuance of PO {po_number} was already cancelled by this form."
PRESS_A_BUTTON = "Press Yes or No under the summary above, or send /cancel."
SEND_TEXT = "Please send the reason as text. " + CANCEL_HINT
TIMED_OUT = (
    "The form to cancel an issuance was closed after {minutes} minutes without an answer. "
    "Nothing was cancelled; send /issuances to start again."
)
FORM_CLOSED = (
    "This form is closed, so nothing was cancelled from it. Send /issuances to start again."
)
OUTDATED_FORM = "This summary belongs to an older form. Use the buttons of the latest summary."
UNKNOWN_BUTTON = "This button is no longer valid. Send /issuances to see the list again."


def _describe(issuance: Issuance) -> str:
    order = issuance.order
    timezone = issuance.timezone
    return (
        f"Customer: {escape(issuance.customer.name)}\n"
        f"Dealer: {escape(issuance.dealer.name)}\n"
        f"{plural(order.quantity, 'license')}, issued {local_date(order.issued_at, timezone)}\n"
        f"Can be cancelled until {local_datetime(issuance.deadline, timezone)}"
    )


def _render_row(issuance: Issuance) -> str:
    return f"<b>{escape(issuance.order.po_number)}</b>\n{_describe(issuance)}"


def _navigation_row(current: int, last: int) -> list[InlineKeyboardButton]:
    targets = [("«", 1), ("‹", max(1, current - 1)), ("›", min(last, current + 1)), ("»", last)]
    return [
        InlineKeyboardButton(label, callback_data=encode(IssuancesPage(target, current)))
        for label, target in targets
    ]
