"""Operator use cases that build the organisation tree."""

from __future__ import annotations

from datetime import datetime

from core.audit import AuditEntry
from core.errors import InvalidOrganisation
from core.organisations import (
    Organisation,
    Tier,
    normalise_name,
    validate_parent,
    validate_timezone,
)
from core.ports import UnitOfWork
from core.use_cases.access import find_ancestor, load_organisation


async def add_organisation(
    uow: UnitOfWork,
    *,
    name: str,
    tier: Tier,
    parent_name: str | None,
    dealer_name: str | None,
    timezone: str,
    now: datetime,
) -> Organisation:
    """Add an organisation under ``parent_name``.

    A customer orders from ``dealer_name``, or from its parent dealer when no
    dealer is named. The chosen dealer must belong to the same business
    centre as the customer.
    """
    async with uow:
        display_name = normalise_name(name)
        validate_timezone(timezone)
        parent = await load_organisation(uow, parent_name) if parent_name else None
        validate_parent(tier, parent)

        dealer_id = None
        if dealer_name is not None and tier is not Tier.CUSTOMER:
            raise InvalidOrganisation("Only a customer can have a dealer.")
        if tier is Tier.CUSTOMER:
            assert parent is not None  # validate_parent requires a dealer parent
            dealer = await load_organisation(uow, dealer_name) if dealer_name else parent
            await _check_dealer_reachable(uow, parent, dealer)
            dealer_id = dealer.id

        organisation = await uow.organisations.add(
            name=display_name,
            tier=tier,
            parent_id=parent.id if parent else None,
            timezone=timezone,
            dealer_id=dealer_id,
        )
        await uow.audit.add(
            AuditEntry(
                action="organisation.added",
                entity="organisation",
                entity_id=organisation.id,
                at=now,
                actor_member_id=None,
                organisation_id=organisation.id,
                after={
                    "name": display_name,
                    "tier": int(tier),
                    "parent_id": organisation.parent_id,
                },
            )
        )
        await uow.commit()
    return organisation


async def _check_dealer_reachable(
    uow: UnitOfWork, customer_parent: Organisation, dealer: Organisation
) -> None:
    if dealer.tier is not Tier.DEALER:
        raise InvalidOrganisation(f"{dealer.name!r} is a {dealer.tier.label}, not a dealer.")
    centre = await find_ancestor(uow, customer_parent, Tier.BUSINESS_CENTRE)
    dealer_centre = await find_ancestor(uow, dealer, Tier.BUSINESS_CENTRE)
    if centre is None or dealer_centre is None or centre.id != dealer_centre.id:
        raise InvalidOrganisation(
            f"Dealer {dealer.name!r} belongs to another business centre; a customer "
            "can only order from dealers of its own business centre."
        )
