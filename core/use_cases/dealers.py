"""A customer's choice of the dealer it orders from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.audit import AuditEntry
from core.errors import NotFound
from core.organisations import Organisation, Tier
from core.ports import UnitOfWork
from core.use_cases.access import dealers_under, find_ancestor, load_member_of_tier

_ACTION = "choose a dealer"


@dataclass(frozen=True, slots=True)
class DealerChoice:
    """The customer's current dealer and the dealers it may switch to."""

    customer: Organisation
    current: Organisation | None
    candidates: list[Organisation]


async def show_dealer_choice(uow: UnitOfWork, *, telegram_user_id: int) -> DealerChoice:
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ACTION)
        return await _dealer_choice(uow, context.organisation)


async def choose_dealer(
    uow: UnitOfWork, *, telegram_user_id: int, dealer_id: int, now: datetime
) -> DealerChoice:
    """Make ``dealer_id`` the customer's dealer for future orders.

    Open orders stay with the dealer they were placed with.
    """
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ACTION)
        customer = context.organisation
        choice = await _dealer_choice(uow, customer)
        if dealer_id not in {dealer.id for dealer in choice.candidates}:
            raise NotFound(
                "That dealer is not one your organisation can order from. "
                "Send /dealer to see the list."
            )
        if customer.dealer_id != dealer_id:
            await uow.organisations.set_dealer(customer.id, dealer_id)
            await uow.audit.add(
                AuditEntry(
                    action="customer.dealer_changed",
                    entity="organisation",
                    entity_id=customer.id,
                    at=now,
                    actor_member_id=context.member.id,
                    organisation_id=customer.id,
                    before={"dealer_id": customer.dealer_id},
                    after={"dealer_id": dealer_id},
                )
            )
        await uow.commit()
    async with uow:
        refreshed = await uow.organisations.get(customer.id)
        assert refreshed is not None
        return await _dealer_choice(uow, refreshed)


async def _dealer_choice(uow: UnitOfWork, customer: Organisation) -> DealerChoice:
    current = await uow.organisations.get(customer.dealer_id) if customer.dealer_id else None
    centre = await find_ancestor(uow, customer, Tier.BUSINESS_CENTRE)
    candidates = await dealers_under(uow, centre) if centre else []
    return DealerChoice(customer=customer, current=current, candidates=candidates)
