"""License cards and wrong-key attempts table access."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.tables import KeyAttemptRow, LicenseCardRow


class SqlCardRepository:
    """Implements ``core.ports.CardRepository``. Keys are stored without separators."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, key: str, now: datetime) -> None:
        self._session.add(LicenseCardRow(key=key, created_at=now))
        await self._session.flush()

    async def exists(self, key: str) -> bool:
        statement = select(LicenseCardRow.key).where(LicenseCardRow.key == key)
        return (await self._session.scalars(statement)).first() is not None

    async def activate(self, key: str, customer_id: int, now: datetime) -> bool:
        """Mark an unused key as activated, and return False if it is used or unknown.

        The check and the change are one conditional UPDATE, so of two
        requests that activate the same key only one changes the row.
        """
        statement = (
            update(LicenseCardRow)
            .where(LicenseCardRow.key == key, LicenseCardRow.activated_at.is_(None))
            .values(activated_at=now, customer_id=customer_id)
        )
        result = await self._session.execute(statement)
        return result.rowcount == 1


class SqlKeyAttemptRepository:
    """Implements ``core.ports.KeyAttemptRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_failure(self, member_id: int, now: datetime) -> None:
        self._session.add(KeyAttemptRow(member_id=member_id, at=now))
        await self._session.flush()

    async def failures_since(self, member_id: int, since: datetime) -> list[datetime]:
        """Return the times of the member's wrong keys after ``since``, oldest first."""
        statement = (
            select(KeyAttemptRow.at)
            .where(KeyAttemptRow.member_id == member_id, KeyAttemptRow.at > since)
            .order_by(KeyAttemptRow.at, KeyAttemptRow.id)
        )
        return list(await self._session.scalars(statement))
