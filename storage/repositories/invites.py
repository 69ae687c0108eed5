"""Invites table access."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.members import Invite
from storage.tables import InviteRow


class SqlInviteRepository:
    """Implements ``core.ports.InviteRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, code: str) -> Invite | None:
        statement = select(InviteRow).where(InviteRow.code == code)
        row = (await self._session.scalars(statement)).one_or_none()
        return _to_invite(row) if row else None

    async def add(self, invite: Invite) -> None:
        self._session.add(
            InviteRow(
                code=invite.code,
                organisation_id=invite.organisation_id,
                created_at=invite.created_at,
                expires_at=invite.expires_at,
                used_at=invite.used_at,
                used_by_telegram_user_id=invite.used_by_telegram_user_id,
            )
        )
        await self._session.flush()

    async def mark_used(self, code: str, *, telegram_user_id: int, now: datetime) -> bool:
        """Mark an unused invite as used, and return False if it is used or unknown.

        The check and the change are one conditional UPDATE, so of two
        requests that redeem the same code only one changes the row.
        """
        statement = (
            update(InviteRow)
            .where(InviteRow.code == code, InviteRow.used_at.is_(None))
            .values(used_at=now, used_by_telegram_user_id=telegram_user_id)
        )
        result = await self._session.execute(statement)
        return result.rowcount == 1


def _to_invite(row: InviteRow) -> Invite:
    return Invite(
        code=row.code,
        organisation_id=row.organisation_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        used_by_telegram_user_id=row.used_by_telegram_user_id,
    )
