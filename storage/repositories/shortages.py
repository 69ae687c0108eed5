"""Shortages table access: the shortage each customer was last warned about."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import ShortageRow
from storage.upsert import dialect_insert

_SHORTAGES: Table = ShortageRow.__table__  # type: ignore[assignment]


class SqlShortageRepository:
    """Implements ``core.ports.ShortageRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, customer_id: int) -> int | None:
        """Return the number of missing licenses the customer was warned about, or None."""
        statement = select(_SHORTAGES.c.missing).where(_SHORTAGES.c.customer_id == customer_id)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def set(self, customer_id: int, missing: int, now: datetime) -> None:
        """Record the customer's shortage, or update the missing number of a recorded one.

        ``now`` is stored as the start of the shortage only when none was
        recorded, so an update keeps the original start. ``missing`` must be
        at least 1, because the table rejects any other value.
        """
        statement = dialect_insert(self._session, _SHORTAGES).values(
            customer_id=customer_id, missing=missing, since=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[_SHORTAGES.c.customer_id],
            set_={"missing": statement.excluded.missing},
        )
        await self._session.execute(statement)

    async def clear(self, customer_id: int) -> None:
        """Delete the customer's shortage, if one is recorded."""
        await self._session.execute(
            delete(_SHORTAGES).where(_SHORTAGES.c.customer_id == customer_id)
        )

    async def list_customers(self) -> list[int]:
        """Return the ids of the customers with a recorded shortage, in ascending order."""
        statement = select(_SHORTAGES.c.customer_id).order_by(_SHORTAGES.c.customer_id)
        return list((await self._session.execute(statement)).scalars())
