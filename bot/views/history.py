"""The order history message and its buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import AskCancelOrder, ConfirmCancelOrder, ShowHistoryPage, encode
from bot.views.formatting import button_label, escape, local_date, local_datetime, plural
from core.orders import Order
from core.use_cases.history import HistoryRow, OrderHistory
from core.use_cases.ordering import CancelPreview


def render_history(
    history: OrderHistory, notice: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Return the text and keyboard of one history page, newest order first."""
    page = history.page
    timezone = history.customer.timezone
    header = (
        f"<b>Order history</b> of {escape(history.customer.name)}\n"
        f"Page {page.number} of {page.total_pages}, {plural(page.total_items, 'order')}"
    )
    lines = [header]
    if notice:
        lines.insert(0, notice + "\n")
    if not page.items:
        lines.append("\nNo orders yet. Place one with /order.")
    for row in page.items:
        lines.append("\n" + _render_row(row, timezone))

    keyboard = [
        [
            InlineKeyboardButton(
                f"Cancel {button_label(row.order.po_number)}",
                callback_data=encode(AskCancelOrder(row.order.id, page.number)),
            )
        ]
        for row in page.items
        if row.can_cancel
    ]
    if page.total_pages > 1:
        keyboard.append(_navigation_row(page.number, page.total_pages))
    markup = InlineKeyboardMarkup(keyboard) if keyboard else None
    return "\n".join(lines), markup


def render_cancel_question(preview: CancelPreview, page: int) -> tuple[str, InlineKeyboardMarkup]:
    order = preview.order
    timezone = preview.customer.timezone
    text = (
        f"Cancel order <b>{escape(order.po_number)}</b>?\n"
        f"{plural(order.quantity, 'license')}, ordered {local_date(order.ordered_at, timezone)}.\n"
        f"It can be cancelled until {local_datetime(preview.deadline, timezone)}. "
        "A cancelled order stays in the history as Order Canceled."
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "Yes, cancel the order",
                    callback_data=encode(ConfirmCancelOrder(order.id, page)),
                ),
                InlineKeyboardButton(
                    "No, keep it", callback_data=encode(ShowHistoryPage(page, 0))
                ),
            ]
        ]
    )
    return text, markup


def cancelled_notice(order: Order) -> str:
    return f"Order <b>{escape(order.po_number)}</b> has been cancelled."


def _render_row(row: HistoryRow, timezone: str) -> str:
    order = row.order
    text = (
        f"<b>{escape(order.po_number)}</b>\n"
        f"Ordered {local_date(order.ordered_at, timezone)} · "
        f"Issued {local_date(order.issued_at, timezone)} · "
        f"{plural(order.quantity, 'license')} · {order.status.label}"
    )
    if row.cancel_deadline is not None:
        text += f"\nCan be cancelled until {local_datetime(row.cancel_deadline, timezone)}"
    return text


def _navigation_row(current: int, last: int) -> list[InlineKeyboardButton]:
    targets = [("«", 1), ("‹", max(1, current - 1)), ("›", min(last, current + 1)), ("»", last)]
    return [
        InlineKeyboardButton(label, callback_data=encode(ShowHistoryPage(target, current)))
        for label, target in targets
    ]
