"""License users table access: per-user settings, stored only once changed."""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import LicenseUserRow
from storage.upsert import dialect_insert

_LICENSE_USERS: Table = LicenseUserRow.__table__  # type: ignore[assignment]


class SqlLicenseUserRepository:
    """Implements ``core.ports.LicenseUserRepository``.

    ``email`` is compared exactly, so pass it in the normal form of
    ``core.licenses.normalise_email``.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def auto_assign(self, customer_id: int, email: str) -> bool:
        """Return whether auto-assign is on for the user, which it is when no row is stored."""
        statement = select(_LICENSE_USERS.c.auto_assign).where(
            _LICENSE_USERS.c.customer_id == customer_id, _LICENSE_USERS.c.email == email
        )
        stored = (await self._session.execute(statement)).scalar_one_or_none()
        return True if stored is None else stored

    async def set_auto_assign(self, customer_id: int, email: str, enabled: bool) -> None:
        """Insert or update the user's setting."""
        statement = dialect_insert(self._session, _LICENSE_USERS).values(
            customer_id=customer_id, email=email, auto_assign=enabled
        )
        statement = statement.on_conflict_do_update(
            index_elements=[_LICENSE_USERS.c.customer_id, _LICENSE_USERS.c.email],
            set_={"auto_assign": statement.excluded.auto_assign},
        )
        await self._session.execute(statement)
