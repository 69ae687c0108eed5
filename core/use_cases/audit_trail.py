"""Reading the audit trail: one order's changes, or an organisation's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.audit import AuditEntry
from core.errors import NotAllowed, NotFound
from core.orders import Order, po_number_key
from core.organisations import Tier
from core.ports import UnitOfWork
from core.use_cases.access import dealers_under, load_member, load_organisation


@dataclass(frozen=True, slots=True)
class OrderTrail:
    """One order's audit entries, oldest first, ready to show to an administrator.

    ``actor_names`` maps the member id of each entry's actor to the member's
    name. ``timezone`` is the time zone of the reader's own organisation.
    """

    order: Order
    customer_name: str
    entries: list[AuditEntry]
    actor_names: dict[int, str]
    timezone: str


async def order_trails(
    uow: UnitOfWork, *, telegram_user_id: int, po_number: str
) -> list[OrderTrail]:
    """Return the audit trail of each order with this PO that the member may see.

    Headquarters sees every customer's orders; a business centre sees the
    orders placed with the dealers below it. A PO number is unique per
    customer only, so several orders can match. The member's tier is
    checked before the PO number, so a member who may not read the trail is
    told so whatever was typed.
    """
    async with uow:
        context = await load_member(uow, telegram_user_id)
        organisation = context.organisation
        if organisation.tier not in (Tier.HEADQUARTERS, Tier.BUSINESS_CENTRE):
            raise NotAllowed(
                "Only headquarters and business centre administrators can read the audit trail."
            )
        key = po_number_key(po_number)
        orders = await uow.orders.find_by_po(key, None)
        if organisation.tier is Tier.BUSINESS_CENTRE:
            allowed = {dealer.id for dealer in await dealers_under(uow, organisation)}
            orders = [order for order in orders if order.dealer_id in allowed]
        if not orders:
            raise NotFound(f"No order with PO number {po_number} is visible to you.")
        trails = []
        for order in orders:
            customer = await uow.organisations.get(order.customer_id)
            entries = await uow.audit.list_for_entity("order", order.id)
            trails.append(
                OrderTrail(
                    order=order,
                    customer_name=customer.name if customer else "?",
                    entries=entries,
                    actor_names=await _actor_names(uow, order),
                    timezone=organisation.timezone,
                )
            )
    return trails


async def organisation_trail(
    uow: UnitOfWork, *, organisation_name: str, since: datetime | None
) -> list[AuditEntry]:
    """Return the audit entries about an organisation and its orders, oldest first."""
    async with uow:
        organisation = await load_organisation(uow, organisation_name)
        return await uow.audit.list_for_organisation(organisation.id, since)


async def _actor_names(uow: UnitOfWork, order: Order) -> dict[int, str]:
    """Return the names of the members who may have changed the order, by member id.

    Only members of the customer, the dealer and the dealer's ancestors (a
    distributor, the business centre, headquarters) can act on an order.
    """
    organisation_ids = [order.customer_id, order.dealer_id]
    current = await uow.organisations.get(order.dealer_id)
    while current is not None and current.parent_id is not None:
        organisation_ids.append(current.parent_id)
        current = await uow.organisations.get(current.parent_id)
    names: dict[int, str] = {}
    for organisation_id in organisation_ids:
        for member in await uow.members.list_by_organisation(organisation_id):
            names[member.id] = member.name
    return names
