"""Notifications table access for the use cases: adding to the outbox and finding by message.

The dispatcher's side of the table, claiming and marking deliveries, is
``storage.outbox.Outbox``.
"""

from __future__ import annotations

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from core.notifications import (
    NewNotification,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from storage.tables import NotificationRow

NOTIFICATIONS: Table = NotificationRow.__table__  # type: ignore[assignment]


class SqlNotificationRepository:
    """Implements ``core.ports.NotificationRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, notification: NewNotification) -> None:
        """Insert ``notification`` as pending. Its payload must be JSON-serialisable."""
        statement = insert(NOTIFICATIONS).values(
            kind=notification.kind.value,
            member_id=notification.member_id,
            chat_id=notification.chat_id,
            order_id=notification.order_id,
            payload=dict(notification.payload),
            urgent=notification.urgent,
            status=NotificationStatus.PENDING.value,
            attempts=0,
            created_at=notification.created_at,
        )
        await self._session.execute(statement)

    async def get_by_message(self, chat_id: int, message_id: int) -> Notification | None:
        statement = select(NOTIFICATIONS).where(
            NOTIFICATIONS.c.chat_id == chat_id,
            NOTIFICATIONS.c.sent_message_id == message_id,
        )
        row = (await self._session.execute(statement)).mappings().one_or_none()
        return to_notification(row) if row else None


def to_notification(row: RowMapping) -> Notification:
    return Notification(
        id=row["id"],
        kind=NotificationKind(row["kind"]),
        member_id=row["member_id"],
        chat_id=row["chat_id"],
        created_at=row["created_at"],
        status=NotificationStatus(row["status"]),
        order_id=row["order_id"],
        payload=row["payload"],
        urgent=row["urgent"],
        attempts=row["attempts"],
        sent_message_id=row["sent_message_id"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
    )
