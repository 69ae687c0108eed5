"""Texts of the reminders: cancel windows, issuance windows, license expiry and shortages.

The scheduler stores each reminder with a payload (see
``core.use_cases.reminders`` and ``core.use_cases.expiry``); these functions
turn kind and payload into the message. Dates are shown in the recipient's
time zone: ``customer_timezone`` for a customer's members, and
``recipient_timezone`` for headquarters and business centres.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import AskCancelOrder, OrderMissing, encode
from bot.views.formatting import button_label, escape, local_date, local_datetime, plural
from bot.views.payload import InvalidPayload, Rendered, read_moment, read_number, read_text
from core.notifications import Notification, NotificationKind

# The history page that the Cancel button of a reminder returns to.
_HISTORY_PAGE = 1
ASSIGN_HINT = "Order licenses with /order or add one from a license card with /activate KEY."


def _window_closing(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "customer_timezone")
    po_number = read_text(payload, "po_number")
    deadline = local_datetime(read_moment(payload, "deadline"), timezone)
    text = (
        f"<b>Cancel window closes soon</b>\n"
        f"The cancel window of order <b>{escape(po_number)}</b> closes on {deadline}. "
        "Cancel it now if you no longer need it.\n\n"
        f"{_order_line(payload, timezone)}"
    )
    order_id = _order_id(notification)
    button = InlineKeyboardButton(
        f"Cancel {button_label(po_number)}",
        callback_data=encode(AskCancelOrder(order_id, _HISTORY_PAGE)),
    )
    return text, InlineKeyboardMarkup([[button]])


def _window_closed(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "customer_timezone")
    deadline = local_datetime(read_moment(payload, "deadline"), timezone)
    text = (
        f"<b>Cancel window closed</b>\n"
        f"The cancel window of order <b>{escape(read_text(payload, 'po_number'))}</b> "
        f"closed on {deadline}. The order can no longer be cancelled; it waits for "
        f"{escape(read_text(payload, 'dealer'))} to issue it.\n\n"
        f"{_order_line(payload, timezone)}"
    )
    return text, None


def _issuance_window_closing(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "recipient_timezone")
    deadline = local_datetime(read_moment(payload, "deadline"), timezone)
    quantity = read_number(payload, "quantity")
    issued = local_date(read_moment(payload, "issued_at"), timezone)
    text = (
        f"<b>Issuance can be cancelled until {deadline}</b>\n"
        f"Customer: {escape(read_text(payload, 'customer'))}\n"
        f"Dealer: {escape(read_text(payload, 'dealer'))}\n"
        f"PO number: <b>{escape(read_text(payload, 'po_number'))}</b>\n"
        f"Licenses: {quantity}, issued {issued}\n\n"
        "None of its licenses has been assigned yet. If the issuance was a mistake, "
        "cancel it with /issuances before that time."
    )
    return text, None


def _license_expiring(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "customer_timezone")
    email = escape(read_text(payload, "email"))
    expires_at = read_moment(payload, "expires_at")
    days = _days_between(notification.created_at, expires_at, timezone)
    text = (
        f"<b>License expires in {plural(days, 'day')}</b>\n"
        f"The license of {email} expires on {local_date(expires_at, timezone)}, "
        f"in {plural(days, 'day')}.\n\n"
        f"{_auto_assign_hint(email)}"
    )
    return text, None


def _license_expired(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "customer_timezone")
    email = escape(read_text(payload, "email"))
    expired = local_date(read_moment(payload, "expires_at"), timezone)
    text = (
        f"<b>License expired</b>\n"
        f"The license of {email} expired on {expired}. No license was assigned in its "
        "place, because auto-assign is off for this address or the address has "
        "another license already.\n\n"
        f"To give {email} a license, send /assign {email}. To have this done "
        f"automatically next time, send /autoassign {email} on."
    )
    return text, None


def _auto_assigned(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "customer_timezone")
    email = escape(read_text(payload, "email"))
    expired = local_date(read_moment(payload, "expires_at"), timezone)
    new_expiry = local_date(read_moment(payload, "new_expires_at"), timezone)
    text = (
        f"<b>License renewed by auto-assign</b>\n"
        f"The license of {email} expired on {expired}. Auto-assign gave {email} "
        "another license from your inventory in its place, which expires on "
        f"{new_expiry}.\n\n"
        "See /inventory for your licenses."
    )
    return text, None


def _auto_assign_failed(notification: Notification) -> Rendered:
    payload = notification.payload
    timezone = read_text(payload, "customer_timezone")
    email = escape(read_text(payload, "email"))
    expired = local_date(read_moment(payload, "expires_at"), timezone)
    text = (
        f"<b>No license left for {email}</b>\n"
        f"The license of {email} expired on {expired}, and auto-assign found no "
        "unused license to assign in its place.\n\n"
        f"{ASSIGN_HINT} Then send /assign {email}."
    )
    return text, None


def _shortage(notification: Notification) -> Rendered:
    payload = notification.payload
    users = read_number(payload, "users")
    available = read_number(payload, "available")
    missing = read_number(payload, "missing")
    horizon = plural(read_number(payload, "horizon_days"), "day")
    if missing < 1:
        raise ValueError(f"missing must be at least 1, not {missing}")
    expiring = "1 user's license expires" if users == 1 else f"{users} users' licenses expire"
    left = {0: "no unused license is left", 1: "only 1 unused license is left"}.get(
        available, f"only {available} unused licenses are left"
    )
    missing_text = "1 is missing" if missing == 1 else f"{missing} are missing"
    text = (
        f"<b>Licenses will run short</b>\n"
        f"{expiring} within {horizon}, but {left}; {missing_text}.\n\n"
        "Auto-assign gives each of these users an unused license when the old one "
        "expires. Order the missing licenses now, or add licenses from license cards "
        "with /activate KEY."
    )
    button = InlineKeyboardButton(
        f"Order {plural(missing, 'license')}", callback_data=encode(OrderMissing(missing))
    )
    return text, InlineKeyboardMarkup([[button]])


REMINDER_RENDERERS: dict[NotificationKind, Callable[[Notification], Rendered]] = {
    NotificationKind.WINDOW_CLOSING: _window_closing,
    NotificationKind.WINDOW_CLOSED: _window_closed,
    NotificationKind.ISSUANCE_WINDOW_CLOSING: _issuance_window_closing,
    NotificationKind.LICENSE_EXPIRING: _license_expiring,
    NotificationKind.LICENSE_EXPIRED: _license_expired,
    NotificationKind.AUTO_ASSIGNED: _auto_assigned,
    NotificationKind.AUTO_ASSIGN_FAILED: _auto_assign_failed,
    NotificationKind.SHORTAGE: _shortage,
}


def _order_line(payload: Mapping[str, Any], timezone: str) -> str:
    quantity = plural(read_number(payload, "quantity"), "license")
    ordered = local_date(read_moment(payload, "ordered_at"), timezone)
    return f"{quantity} from {escape(read_text(payload, 'dealer'))}, ordered {ordered}."


def _order_id(notification: Notification) -> int:
    if notification.order_id is None:
        raise InvalidPayload(f"order notification {notification.id} names no order")
    return notification.order_id


def _days_between(start: datetime, end: datetime, timezone: str) -> int:
    """Return the number of calendar days from ``start`` to ``end`` in ``timezone``.

    NOTE: counted from when the reminder was stored, so a reminder held back
    by quiet hours past midnight shows one day more than is left.
    """
    zone = ZoneInfo(timezone)
    days = (end.astimezone(zone).date() - start.astimezone(zone).date()).days
    # An expiry reminder is stored before the expiry date starts, so at least one day is left.
    return max(days, 1)


def _auto_assign_hint(email: str) -> str:
    return (
        f"If auto-assign is on for {email} (it is by default), an unused license from "
        "your inventory is assigned when this one expires. "
        f"/autoassign {email} off turns that off."
    )
