"""Members table access."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.errors import AlreadyLinked
from core.members import Member
from storage.tables import MemberRow


class SqlMemberRepository:
    """Implements ``core.ports.MemberRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_by_telegram_user(self, telegram_user_id: int) -> Member | None:
        statement = select(MemberRow).where(MemberRow.telegram_user_id == telegram_user_id)
        row = (await self._session.scalars(statement)).one_or_none()
        return _to_member(row) if row else None

    async def list_by_organisation(self, organisation_id: int) -> list[Member]:
        """Return the organisation's members, oldest first."""
        statement = (
            select(MemberRow)
            .where(MemberRow.organisation_id == organisation_id)
            .order_by(MemberRow.id)
        )
        rows = await self._session.scalars(statement)
        return [_to_member(row) for row in rows]

    async def set_reachable(self, telegram_user_id: int, reachable: bool) -> bool:
        """Record whether the member can receive messages, or return False for a non-member."""
        statement = (
            update(MemberRow)
            .where(MemberRow.telegram_user_id == telegram_user_id)
            .values(reachable=reachable)
        )
        result = await self._session.execute(statement)
        return result.rowcount == 1

    async def add(
        self, *, telegram_user_id: int, organisation_id: int, name: str, now: datetime
    ) -> Member:
        """Insert a member, or raise AlreadyLinked if the Telegram user already is one."""
        row = MemberRow(
            telegram_user_id=telegram_user_id,
            organisation_id=organisation_id,
            name=name,
            created_at=now,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError as error:
            if await self.get_by_telegram_user(telegram_user_id) is None:
                raise
            raise AlreadyLinked(
                f"Telegram user {telegram_user_id} is already a member of an organisation."
            ) from error
        return _to_member(row)


def _to_member(row: MemberRow) -> Member:
    assert row.id is not None
    return Member(
        id=row.id,
        telegram_user_id=row.telegram_user_id,
        organisation_id=row.organisation_id,
        name=row.name,
        reachable=row.reachable,
    )
