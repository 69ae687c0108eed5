"""Operator use cases that bring licenses in: dealer stock and license cards."""

from __future__ import annotations

from datetime import datetime

from core.audit import AuditEntry
from core.cards import new_license_key
from core.errors import InvalidInput, InvalidOrganisation
from core.organisations import Tier
from core.ports import UnitOfWork
from core.use_cases.access import load_organisation

MAX_STOCK_ADDITION = 100_000
MAX_CARDS_PER_RUN = 10_000


async def add_stock(uow: UnitOfWork, *, dealer_name: str, count: int, now: datetime) -> int:
    """Add ``count`` licenses to a dealer's stock and return the new stock level."""
    _check_count(count, MAX_STOCK_ADDITION, "licenses")
    async with uow:
        dealer = await load_organisation(uow, dealer_name)
        if dealer.tier is not Tier.DEALER:
            raise InvalidOrganisation(
                f"{dealer.name!r} is a {dealer.tier.label}; only dealers hold stock."
            )
        # Two additions at once then report and audit consecutive levels.
        await uow.organisations.lock(dealer.id)
        before = await uow.licenses.count_in_stock(dealer.id)
        await uow.licenses.add_to_stock(dealer.id, count)
        await uow.audit.add(
            AuditEntry(
                action="stock.added",
                entity="organisation",
                entity_id=dealer.id,
                at=now,
                actor_member_id=None,
                organisation_id=dealer.id,
                before={"stock": before},
                after={"stock": before + count},
            )
        )
        await uow.commit()
    return before + count


async def generate_cards(uow: UnitOfWork, *, count: int, now: datetime) -> list[str]:
    """Create ``count`` new license keys and return them in display form."""
    _check_count(count, MAX_CARDS_PER_RUN, "keys")
    keys = [new_license_key() for _ in range(count)]
    async with uow:
        for key in keys:
            await uow.cards.add(key.replace("-", ""), now)
        await uow.commit()
    return keys


def _check_count(count: int, maximum: int, what: str) -> None:
    if not 1 <= count <= maximum:
        raise InvalidInput(f"The number of {what} must be from 1 to {maximum}, not {count}.")
