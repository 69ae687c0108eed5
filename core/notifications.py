"""Notifications: messages to members, written to an outbox with the change they report.

A use case adds a notification in the same transaction as its change, so
the two are stored together or not at all. A dispatcher in ``bot/`` sends
the outbox later and records the Telegram message each one became, so that
a reply to that message can be traced back to the order it was about.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class NotificationKind(enum.StrEnum):
    ORDER_PLACED = "order_placed"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_ISSUED = "order_issued"
    ISSUANCE_CANCELLED = "issuance_cancelled"
    WINDOW_CLOSING = "window_closing"
    WINDOW_CLOSED = "window_closed"
    ISSUANCE_WINDOW_CLOSING = "issuance_window_closing"
    LICENSE_EXPIRING = "license_expiring"
    LICENSE_EXPIRED = "license_expired"
    AUTO_ASSIGNED = "auto_assigned"
    AUTO_ASSIGN_FAILED = "auto_assign_failed"
    SHORTAGE = "shortage"


class NotificationStatus(enum.StrEnum):
    """Delivery state of a notification; the value is stored."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class NewNotification:
    """A message to one member, not stored yet.

    ``payload`` holds the facts the message shows, as JSON values; the bot
    turns kind and payload into text when it sends the message.
    """

    kind: NotificationKind
    member_id: int
    chat_id: int
    created_at: datetime
    order_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    urgent: bool = False
    # The recipient organisation's time zone, for quiet hours.
    timezone: str = "UTC"
    # Set for reminders: a second notification with the same key is not
    # stored, so a repeated scan adds each reminder once.
    dedupe_key: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """A stored notification and its delivery state."""

    id: int
    kind: NotificationKind
    member_id: int
    chat_id: int
    created_at: datetime
    status: NotificationStatus
    order_id: int | None
    payload: dict[str, Any]
    urgent: bool = False
    timezone: str = "UTC"
    attempts: int = 0
    sent_message_id: int | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
