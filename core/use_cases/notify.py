"""Adding notifications for every member of an organisation, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.notifications import NewNotification, NotificationKind
from core.orders import Order
from core.organisations import Organisation
from core.ports import UnitOfWork


async def notify_members(
    uow: UnitOfWork,
    organisation_id: int,
    kind: NotificationKind,
    *,
    now: datetime,
    payload: dict[str, Any],
    order_id: int | None = None,
    urgent: bool = False,
    dedupe_key: str | None = None,
) -> int:
    """Add one notification per reachable member of the organisation; return how many.

    With ``dedupe_key`` each member's notification gets the key plus the
    member id, and one that exists already is not added again.
    """
    organisation = await uow.organisations.get(organisation_id)
    timezone = organisation.timezone if organisation else "UTC"
    added = 0
    for member in await uow.members.list_by_organisation(organisation_id):
        if not member.reachable:
            continue
        stored = await uow.notifications.add(
            NewNotification(
                kind=kind,
                member_id=member.id,
                chat_id=member.telegram_user_id,
                created_at=now,
                order_id=order_id,
                payload=payload,
                urgent=urgent,
                timezone=timezone,
                dedupe_key=f"{dedupe_key}:m{member.id}" if dedupe_key else None,
            )
        )
        added += int(stored)
    return added


def order_payload(order: Order, customer: Organisation, dealer: Organisation) -> dict[str, Any]:
    """Return the facts about an order that its notifications show."""
    return {
        "po_number": order.po_number,
        "quantity": order.quantity,
        "customer": customer.name,
        "customer_timezone": customer.timezone,
        "dealer": dealer.name,
        "dealer_timezone": dealer.timezone,
        "ordered_at": order.ordered_at.isoformat(),
        "issued_at": order.issued_at.isoformat() if order.issued_at else None,
    }
