"""Lookup of the member behind a Telegram user, and checks of what its tier allows."""

from __future__ import annotations

from core.errors import NotAllowed, NotFound, NotLinked
from core.members import MemberContext
from core.organisations import Organisation, Tier
from core.ports import UnitOfWork


async def load_member(uow: UnitOfWork, telegram_user_id: int) -> MemberContext:
    """Return the member linked to ``telegram_user_id``, or raise NotLinked."""
    member = await uow.members.get_by_telegram_user(telegram_user_id)
    if member is None:
        raise NotLinked(
            "You are not linked to an organisation yet. Ask your administrator "
            "for an invite code, then send /start CODE."
        )
    organisation = await uow.organisations.get(member.organisation_id)
    if organisation is None:
        raise NotFound(f"Organisation {member.organisation_id} no longer exists.")
    return MemberContext(member=member, organisation=organisation)


async def load_member_of_tier(
    uow: UnitOfWork, telegram_user_id: int, tier: Tier, action: str
) -> MemberContext:
    """Return the member if its organisation is of ``tier``, else raise NotAllowed."""
    context = await load_member(uow, telegram_user_id)
    if context.organisation.tier is not tier:
        raise NotAllowed(
            f"Only {tier.label} administrators can {action}; you are a member of "
            f"{context.organisation.name}, a {context.organisation.tier.label}."
        )
    return context


async def load_organisation(uow: UnitOfWork, name: str) -> Organisation:
    organisation = await uow.organisations.get_by_name(name)
    if organisation is None:
        raise NotFound(f"No organisation is named {name!r}.")
    return organisation


async def find_ancestor(
    uow: UnitOfWork, organisation: Organisation, tier: Tier
) -> Organisation | None:
    """Return the nearest ancestor of ``organisation`` of ``tier``, if any."""
    current: Organisation | None = organisation
    while current is not None and current.parent_id is not None:
        current = await uow.organisations.get(current.parent_id)
        if current is not None and current.tier is tier:
            return current
    return None


async def dealers_under(uow: UnitOfWork, centre: Organisation) -> list[Organisation]:
    """Return the dealers below a business centre, directly or under a distributor, by name."""
    dealers: list[Organisation] = []
    for child in await uow.organisations.list_children(centre.id):
        if child.tier is Tier.DEALER:
            dealers.append(child)
        elif child.tier is Tier.DISTRIBUTOR:
            grandchildren = await uow.organisations.list_children(child.id)
            dealers.extend(o for o in grandchildren if o.tier is Tier.DEALER)
    return sorted(dealers, key=lambda dealer: dealer.name.casefold())
