"""The dealer's messages: pending orders, stock, and the issue confirmation."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import AskIssue, ConfirmIssue, DeclineIssue, ShowPendingPage, encode
from bot.views.formatting import button_label, escape, local_date, plural
from core.organisations import Organisation
from core.use_cases.issuing import IssuedOrder, IssuePreview, PendingOrder, PendingOrders


def render_pending(pending: PendingOrders) -> tuple[str, InlineKeyboardMarkup | None]:
    """Return the text and keyboard of one page of pending orders, oldest first."""
    page = pending.page
    timezone = pending.dealer.timezone
    lines = [
        f"<b>Orders waiting for issuance</b> at {escape(pending.dealer.name)}\n"
        f"Stock: {plural(pending.stock, 'license')}\n"
        f"Page {page.number} of {page.total_pages}, {plural(page.total_items, 'order')}"
    ]
    if not page.items:
        lines.append("\nNo order is waiting to be issued.")
    for row in page.items:
        lines.append("\n" + _render_pending_row(row, timezone))

    keyboard = [
        [
            InlineKeyboardButton(
                f"Issue {button_label(row.order.po_number)}",
                callback_data=encode(AskIssue(row.order.id)),
            )
        ]
        for row in page.items
    ]
    if page.total_pages > 1:
        keyboard.append(_navigation_row(page.number, page.total_pages))
    markup = InlineKeyboardMarkup(keyboard) if keyboard else None
    return "\n".join(lines), markup


def render_stock(dealer: Organisation, stock: int) -> str:
    return (
        f"<b>{escape(dealer.name)}</b> has {plural(stock, 'license')} in stock.\n"
        "Send /pending to see the orders waiting for them."
    )


def render_issue_question(preview: IssuePreview) -> tuple[str, InlineKeyboardMarkup]:
    order = preview.order
    timezone = preview.dealer.timezone
    text = (
        f"Issue order <b>{escape(order.po_number)}</b>?\n"
        f"Customer: {escape(preview.customer.name)}\n"
        f"Licenses: {order.quantity}, ordered {local_date(order.ordered_at, timezone)}\n"
        f"Your stock: {preview.stock} now, {preview.stock - order.quantity} after issuing.\n\n"
        "Issuing moves the licenses to the customer's inventory."
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes, issue", callback_data=encode(ConfirmIssue(order.id))),
                InlineKeyboardButton("No", callback_data=encode(DeclineIssue(order.id))),
            ]
        ]
    )
    return text, markup


def render_issued(issued: IssuedOrder) -> str:
    order = issued.order
    return (
        f"Issued order <b>{escape(order.po_number)}</b>: "
        f"{plural(order.quantity, 'license')} moved to {escape(issued.customer.name)} "
        f"on {local_date(order.issued_at, issued.dealer.timezone)}.\n"
        f"Your stock now: {plural(issued.stock_left, 'license')}. "
        "The customer's members will be notified."
    )


NOT_ISSUED = "Nothing was issued. The order still waits in /pending."
NOT_AN_ORDER_NOTIFICATION = (
    "That message is not the notification of a new order, so there is nothing to issue. "
    "Reply to the notification of the order, or press an Issue button in /pending."
)


def unknown_reply(accepted_words: tuple[str, ...]) -> str:
    """Explain which replies issue the order; nothing was changed."""
    words = ", ".join(f"<b>{word}</b>" for word in accepted_words)
    return (
        "I did not understand that reply, so the order was not issued. To issue it, "
        f"reply to its notification with one of: {words} (any case), or press its "
        "Issue button."
    )


def _render_pending_row(row: PendingOrder, timezone: str) -> str:
    order = row.order
    return (
        f"<b>{escape(order.po_number)}</b> · {escape(row.customer.name)}\n"
        f"{plural(order.quantity, 'license')} · ordered {local_date(order.ordered_at, timezone)}"
    )


def _navigation_row(current: int, last: int) -> list[InlineKeyboardButton]:
    targets = [("«", 1), ("‹", max(1, current - 1)), ("›", min(last, current + 1)), ("»", last)]
    return [
        InlineKeyboardButton(label, callback_data=encode(ShowPendingPage(target, current)))
        for label, target in targets
    ]
