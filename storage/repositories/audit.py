"""Audit trail table access."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from core.audit import AuditEntry
from storage.tables import AuditEntryRow, OrderRow

# The ``entity`` of audit entries about an order.
_ORDER_ENTITY = "order"


class SqlAuditRepository:
    """Implements ``core.ports.AuditRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> None:
        """Insert ``entry``; its ``before`` and ``after`` must be JSON-serialisable."""
        self._session.add(
            AuditEntryRow(
                at=entry.at,
                actor_member_id=entry.actor_member_id,
                organisation_id=entry.organisation_id,
                action=entry.action,
                entity=entry.entity,
                entity_id=entry.entity_id,
                before=dict(entry.before),
                after=dict(entry.after),
            )
        )
        await self._session.flush()

    async def list_for_entity(self, entity: str, entity_id: int) -> list[AuditEntry]:
        """Return the entries about one entity, oldest first."""
        statement = (
            select(AuditEntryRow)
            .where(AuditEntryRow.entity == entity, AuditEntryRow.entity_id == entity_id)
            .order_by(AuditEntryRow.at, AuditEntryRow.id)
        )
        rows = await self._session.scalars(statement)
        return [_to_entry(row) for row in rows]

    async def list_for_organisation(
        self, organisation_id: int, since: datetime | None
    ) -> list[AuditEntry]:
        """Return the entries about an organisation and its orders, oldest first.

        These are the entries filed under the organisation, and the entries
        about every order in which it is the customer or the dealer. With
        ``since``, only entries at or after that moment are returned.
        """
        orders = select(OrderRow.id).where(
            or_(OrderRow.customer_id == organisation_id, OrderRow.dealer_id == organisation_id)
        )
        about_its_orders = (AuditEntryRow.entity == _ORDER_ENTITY) & AuditEntryRow.entity_id.in_(
            orders
        )
        statement = select(AuditEntryRow).where(
            or_(AuditEntryRow.organisation_id == organisation_id, about_its_orders)
        )
        if since is not None:
            statement = statement.where(AuditEntryRow.at >= since)
        rows = await self._session.scalars(statement.order_by(AuditEntryRow.at, AuditEntryRow.id))
        return [_to_entry(row) for row in rows]


def _to_entry(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        at=row.at,
        actor_member_id=row.actor_member_id,
        organisation_id=row.organisation_id,
        before=row.before,
        after=row.after,
    )
