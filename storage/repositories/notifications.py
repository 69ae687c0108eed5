"""Notifications table access for the use cases: adding to the outbox and finding by message.

The dispatcher's side of the table, claiming and marking deliveries, is
``storage.outbox.Outbox``.
"""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from core.notifications import (
    NewNotification,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from storage.tables import NotificationRow
from storage.upsert import dialect_insert

NOTIFICATIONS: Table = NotificationRow.__table__  # type: ignore[assignment]


class SqlNotificationRepository:
    """Implements ``core.ports.NotificationRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, notification: NewNotification) -> bool:
        """Insert ``notification`` as pending and return True.

        Returns False, and inserts nothing, when a stored notification has
        the same ``dedupe_key``. The unique constraint decides, so of two
        transactions that add the same key at once exactly one inserts it.
        On PostgreSQL the second one waits until the first commits or rolls
        back. A notification without a key is always inserted. The payload
        must be JSON-serialisable.
        """
        statement = dialect_insert(self._session, NOTIFICATIONS).values(
            kind=notification.kind.value,
            member_id=notification.member_id,
            chat_id=notification.chat_id,
            order_id=notification.order_id,
            payload=dict(notification.payload),
            urgent=notification.urgent,
            timezone=notification.timezone,
            dedupe_key=notification.dedupe_key,
            status=NotificationStatus.PENDING.value,
            attempts=0,
            created_at=notification.created_at,
        )
        statement = statement.on_conflict_do_nothing(index_elements=[NOTIFICATIONS.c.dedupe_key])
        result = await self._session.execute(statement)
        return result.rowcount == 1

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
        timezone=row["timezone"],
        attempts=row["attempts"],
        sent_message_id=row["sent_message_id"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
        next_attempt_at=row["next_attempt_at"],
    )
