"""The SQL unit of work: one AsyncSession, and so one transaction, per ``async with``."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import (
    SqlAuditRepository,
    SqlCardRepository,
    SqlInviteRepository,
    SqlKeyAttemptRepository,
    SqlLicenseRepository,
    SqlLicenseUserRepository,
    SqlMemberRepository,
    SqlNotificationRepository,
    SqlOrderRepository,
    SqlOrganisationRepository,
    SqlShortageRepository,
)

_REPOSITORY_NAMES = (
    "organisations",
    "members",
    "invites",
    "orders",
    "audit",
    "licenses",
    "cards",
    "key_attempts",
    "notifications",
    "license_users",
    "shortages",
)


class SqlUnitOfWork:
    """Implements ``core.ports.UnitOfWork`` on SQLAlchemy sessions.

    Each ``async with`` block opens a new session. Leaving the block without
    ``commit()`` rolls back. The same object may be entered again after the
    block ends, but not while it is open. The repositories exist only inside
    the block.
    """

    organisations: SqlOrganisationRepository
    members: SqlMemberRepository
    invites: SqlInviteRepository
    orders: SqlOrderRepository
    audit: SqlAuditRepository
    licenses: SqlLicenseRepository
    cards: SqlCardRepository
    key_attempts: SqlKeyAttemptRepository
    notifications: SqlNotificationRepository
    license_users: SqlLicenseUserRepository
    shortages: SqlShortageRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError(
                "This unit of work is already open. Enter it again only after "
                "its current 'async with' block has ended."
            )
        session = self._session_factory()
        self._session = session
        self.organisations = SqlOrganisationRepository(session)
        self.members = SqlMemberRepository(session)
        self.invites = SqlInviteRepository(session)
        self.orders = SqlOrderRepository(session)
        self.audit = SqlAuditRepository(session)
        self.licenses = SqlLicenseRepository(session)
        self.cards = SqlCardRepository(session)
        self.key_attempts = SqlKeyAttemptRepository(session)
        self.notifications = SqlNotificationRepository(session)
        self.license_users = SqlLicenseUserRepository(session)
        self.shortages = SqlShortageRepository(session)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        session = self._session
        self._session = None
        for name in _REPOSITORY_NAMES:
            delattr(self, name)
        if session is not None:
            # Closing rolls back whatever was not committed and returns the
            # connection to the pool.
            await session.close()

    async def commit(self) -> None:
        if self._session is None:
            raise RuntimeError(
                "commit() was called outside 'async with'. Call it inside the block "
                "of an open unit of work."
            )
        await self._session.commit()
