"""Organisations table access."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.errors import InvalidInput, InvalidOrganisation, NotFound
from core.organisations import Organisation, Tier, name_key, normalise_name
from storage.tables import OrganisationRow


class SqlOrganisationRepository:
    """Implements ``core.ports.OrganisationRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, organisation_id: int) -> Organisation | None:
        statement = select(OrganisationRow).where(OrganisationRow.id == organisation_id)
        row = (await self._session.scalars(statement)).one_or_none()
        return _to_organisation(row) if row else None

    async def get_by_name(self, name: str) -> Organisation | None:
        try:
            key = name_key(name)
        except InvalidInput:
            # An empty or over-long name cannot belong to a stored organisation.
            return None
        statement = select(OrganisationRow).where(OrganisationRow.name_key == key)
        row = (await self._session.scalars(statement)).one_or_none()
        return _to_organisation(row) if row else None

    async def add(
        self,
        *,
        name: str,
        tier: Tier,
        parent_id: int | None,
        timezone: str,
        dealer_id: int | None,
    ) -> Organisation:
        """Insert an organisation, or raise InvalidOrganisation if its name is taken."""
        row = OrganisationRow(
            name=normalise_name(name),
            name_key=name_key(name),
            tier=int(tier),
            parent_id=parent_id,
            timezone=timezone,
            dealer_id=dealer_id,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError as error:
            existing = await self.get_by_name(name)
            if existing is None:
                raise
            raise InvalidOrganisation(
                f"The name {name!r} is already taken by the organisation "
                f"{existing.name!r}, because names are compared without regard to "
                "case. Choose another name."
            ) from error
        return _to_organisation(row)

    async def set_dealer(self, customer_id: int, dealer_id: int) -> None:
        """Set the dealer a customer orders from, or raise NotFound if the customer is missing."""
        statement = (
            update(OrganisationRow)
            .where(OrganisationRow.id == customer_id)
            .values(dealer_id=dealer_id)
        )
        result = await self._session.execute(statement)
        if result.rowcount != 1:
            raise NotFound(f"Organisation {customer_id} does not exist.")

    async def lock(self, organisation_id: int) -> None:
        """Lock the organisation's row until the transaction ends.

        SELECT ... FOR UPDATE on PostgreSQL; SQLite ignores the clause, and
        BEGIN IMMEDIATE already runs its transactions one at a time.
        """
        statement = (
            select(OrganisationRow.id)
            .where(OrganisationRow.id == organisation_id)
            .with_for_update()
        )
        await self._session.execute(statement)

    async def list_children(self, parent_id: int) -> list[Organisation]:
        """Return the organisations directly under ``parent_id``, oldest first."""
        statement = (
            select(OrganisationRow)
            .where(OrganisationRow.parent_id == parent_id)
            .order_by(OrganisationRow.id)
        )
        rows = await self._session.scalars(statement)
        return [_to_organisation(row) for row in rows]

    async def list_by_tier(self, tier: Tier) -> list[Organisation]:
        """Return the organisations of one tier, oldest first."""
        statement = (
            select(OrganisationRow)
            .where(OrganisationRow.tier == int(tier))
            .order_by(OrganisationRow.id)
        )
        rows = await self._session.scalars(statement)
        return [_to_organisation(row) for row in rows]


def _to_organisation(row: OrganisationRow) -> Organisation:
    assert row.id is not None
    return Organisation(
        id=row.id,
        name=row.name,
        tier=Tier(row.tier),
        parent_id=row.parent_id,
        timezone=row.timezone,
        dealer_id=row.dealer_id,
    )
