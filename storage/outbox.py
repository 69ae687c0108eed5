"""The delivery side of the notification outbox, for the bot's dispatcher.

Use cases add notifications through ``core.ports.NotificationRepository``
in the transaction of the change they report. A dispatcher then claims due
notifications with ``Outbox.claim_due``, sends each one, and records the
outcome with one of the ``mark_*`` methods, or hands it back unsent with
``postpone``. Every method runs in its own transaction.

A claim is a conditional UPDATE that sets the status to ``sending`` and
names the claimer, so two dispatchers never claim the same notification at
once. A claim older than ``stale_after`` is taken to be left by a crashed
dispatcher and can be claimed again. So a message that was sent just before
its dispatcher crashed, without being marked sent, is sent a second time.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.notifications import Notification, NotificationStatus
from storage.repositories.notifications import NOTIFICATIONS, to_notification

if TYPE_CHECKING:
    from storage.database import Database

_PENDING = NotificationStatus.PENDING.value
_SENDING = NotificationStatus.SENDING.value
_REQUEUEABLE = (NotificationStatus.FAILED.value, NotificationStatus.UNREACHABLE.value)

# Clears the claim when a delivery attempt ends, whatever its outcome.
_NO_CLAIM = {"claimed_by": None, "claimed_at": None}


class Outbox:
    """Claims due notifications and records how their delivery went."""

    def __init__(self, database: Database) -> None:
        self._engine: AsyncEngine = database.engine

    async def claim_due(
        self, *, now: datetime, limit: int, claimer: str, stale_after: timedelta
    ) -> builtins.list[Notification]:
        """Claim up to ``limit`` due notifications for ``claimer`` and return them.

        Due are pending notifications whose next attempt time is unset or not
        after ``now``, and notifications still ``sending`` under a claim made
        before ``now - stale_after``. Urgent ones come first, then the oldest.
        On PostgreSQL the candidates are locked with SKIP LOCKED, so a second
        dispatcher picks other rows instead of waiting. On SQLite, BEGIN
        IMMEDIATE lets one dispatcher in at a time.
        """
        if limit < 1:
            raise ValueError(f"Expected a limit >= 1, got {limit}.")
        claimable = _claimable(now, now - stale_after)
        candidates = (
            select(NOTIFICATIONS.c.id)
            .where(claimable)
            .order_by(NOTIFICATIONS.c.urgent.desc(), NOTIFICATIONS.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._engine.begin() as connection:
            candidate_ids = (await connection.execute(candidates)).scalars().all()
            claimed_ids = []
            for notification_id in candidate_ids:
                # The condition is checked again in the UPDATE, so a row that
                # another dispatcher claimed meanwhile changes no row here.
                claim = (
                    update(NOTIFICATIONS)
                    .where(NOTIFICATIONS.c.id == notification_id, claimable)
                    .values(status=_SENDING, claimed_by=claimer, claimed_at=now)
                )
                if (await connection.execute(claim)).rowcount == 1:
                    claimed_ids.append(notification_id)
            if not claimed_ids:
                return []
            rows = await connection.execute(
                select(NOTIFICATIONS)
                .where(NOTIFICATIONS.c.id.in_(claimed_ids))
                .order_by(NOTIFICATIONS.c.urgent.desc(), NOTIFICATIONS.c.id)
            )
            return [to_notification(row) for row in rows.mappings()]

    async def mark_sent(
        self, notification_id: int, *, claimer: str, message_id: int, now: datetime
    ) -> bool:
        """Record that the notification became Telegram message ``message_id``.

        Returns False, and changes nothing, when the notification is no longer
        claimed by ``claimer``, because the claim went stale and another
        dispatcher took it.
        """
        return await self._finish(
            notification_id,
            claimer,
            status=NotificationStatus.SENT.value,
            sent_message_id=message_id,
            sent_at=now,
            next_attempt_at=None,
        )

    async def mark_retry(
        self, notification_id: int, *, claimer: str, error: str, retry_at: datetime
    ) -> bool:
        """Put the notification back as pending, due again at ``retry_at``.

        Returns False, and changes nothing, when ``claimer`` lost the claim.
        """
        return await self._finish(
            notification_id, claimer, status=_PENDING, last_error=error, next_attempt_at=retry_at
        )

    async def mark_failed(self, notification_id: int, *, claimer: str, error: str) -> bool:
        """Give up on the notification, which is then sent only after ``requeue``.

        Returns False, and changes nothing, when ``claimer`` lost the claim.
        """
        return await self._finish(
            notification_id,
            claimer,
            status=NotificationStatus.FAILED.value,
            last_error=error,
            next_attempt_at=None,
        )

    async def mark_unreachable(self, notification_id: int, *, claimer: str, error: str) -> bool:
        """Give up on the notification because its chat cannot be reached, such as a blocked bot.

        Returns False, and changes nothing, when ``claimer`` lost the claim.
        """
        return await self._finish(
            notification_id,
            claimer,
            status=NotificationStatus.UNREACHABLE.value,
            last_error=error,
            next_attempt_at=None,
        )

    async def postpone(self, notification_id: int, *, claimer: str, until: datetime) -> bool:
        """Put the claimed notification back as pending, due again at ``until``, unsent.

        Use it for a message held back by quiet hours. Unlike ``mark_retry``,
        it counts no attempt and keeps ``last_error``. Returns False, and
        changes nothing, when ``claimer`` lost the claim.
        """
        return await self._end_claim(
            notification_id, claimer, count_attempt=False, status=_PENDING, next_attempt_at=until
        )

    async def requeue(self, notification_id: int) -> bool:
        """Put a failed or unreachable notification back as pending, due now, with no attempts.

        Returns False when the notification is unknown or in another status.
        ``last_error`` is kept until the next attempt replaces it.
        """
        statement = (
            update(NOTIFICATIONS)
            .where(
                NOTIFICATIONS.c.id == notification_id,
                NOTIFICATIONS.c.status.in_(_REQUEUEABLE),
            )
            .values(status=_PENDING, attempts=0, next_attempt_at=None, **_NO_CLAIM)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def get(self, notification_id: int) -> Notification | None:
        """Return the notification with this id, in any status, or None."""
        statement = select(NOTIFICATIONS).where(NOTIFICATIONS.c.id == notification_id)
        async with self._engine.begin() as connection:
            row = (await connection.execute(statement)).mappings().one_or_none()
            return to_notification(row) if row else None

    async def list(
        self, statuses: Sequence[NotificationStatus] | None = None, limit: int = 50
    ) -> builtins.list[Notification]:
        """Return at most ``limit`` notifications, newest first.

        With ``statuses`` only notifications in one of them are returned,
        and none for an empty sequence. With None every status counts.
        Each notification carries its ``attempts`` and ``last_error``.
        """
        if limit < 1:
            raise ValueError(f"Expected a limit >= 1, got {limit}.")
        statement = select(NOTIFICATIONS).order_by(NOTIFICATIONS.c.id.desc()).limit(limit)
        if statuses is not None:
            values = [status.value for status in statuses]
            statement = statement.where(NOTIFICATIONS.c.status.in_(values))
        async with self._engine.begin() as connection:
            rows = await connection.execute(statement)
            return [to_notification(row) for row in rows.mappings()]

    async def _finish(self, notification_id: int, claimer: str, **values: Any) -> bool:
        """End the claimer's delivery attempt with ``values``, if the claim is still its own."""
        return await self._end_claim(notification_id, claimer, count_attempt=True, **values)

    async def _end_claim(
        self, notification_id: int, claimer: str, *, count_attempt: bool, **values: Any
    ) -> bool:
        """Release the claimer's claim and set ``values``, if the claim is still its own."""
        if count_attempt:
            values["attempts"] = NOTIFICATIONS.c.attempts + 1
        statement = (
            update(NOTIFICATIONS)
            .where(
                NOTIFICATIONS.c.id == notification_id,
                NOTIFICATIONS.c.status == _SENDING,
                NOTIFICATIONS.c.claimed_by == claimer,
            )
            .values(**_NO_CLAIM, **values)
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1


def _claimable(now: datetime, stale_before: datetime) -> Any:
    pending_and_due = and_(
        NOTIFICATIONS.c.status == _PENDING,
        or_(NOTIFICATIONS.c.next_attempt_at.is_(None), NOTIFICATIONS.c.next_attempt_at <= now),
    )
    claim_gone_stale = and_(
        NOTIFICATIONS.c.status == _SENDING, NOTIFICATIONS.c.claimed_at < stale_before
    )
    return or_(pending_and_due, claim_gone_stale)
