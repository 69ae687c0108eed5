"""A small organisation tree with members, stored in a FakeDatabase for the use-case tests.

Headquarters                    [Hana]
├── North Centre (business centre) [Nils]
│   ├── North Dealer                [Dana]  ← dealer directly under the business centre
│   │   ├── Acme Clinic             [Ana]   customer, orders from North Dealer
│   │   └── Other Clinic            [Ben]   customer, orders from North Dealer
│   └── North Distributor
│       └── Distributed Dealer      [Dirk]
└── South Centre (business centre) [Sara]
    └── South Dealer                [Sam]

Names in brackets are the members of each organisation.

``build_tree`` stores the same tree through any unit of work, so the storage
tests can use it on a real database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from core.members import Member
from core.orders import NewOrder, Order, OrderStatus
from core.organisations import Organisation, Tier
from core.ports import UnitOfWork
from tests.core.fakes import FakeDatabase, FakeUnitOfWork

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CANCEL_WINDOW = timedelta(days=14)
JUST_BEFORE_DEADLINE = CANCEL_WINDOW - timedelta(seconds=1)

# Telegram user ids above 2**32, as real ones can be.
CUSTOMER_USER = 5_000_000_001
OTHER_CUSTOMER_USER = 5_000_000_002
DEALER_USER = 5_000_000_003
HEADQUARTERS_USER = 5_000_000_004
NORTH_USER = 5_000_000_005
SOUTH_USER = 5_000_000_006
SOUTH_DEALER_USER = 5_000_000_007
DISTRIBUTED_DEALER_USER = 5_000_000_008
UNLINKED_USER = 5_000_000_009


@dataclass(frozen=True)
class Tree:
    """The stored organisations and members of the sample tree."""

    headquarters: Organisation
    north: Organisation
    north_dealer: Organisation
    north_distributor: Organisation
    distributed_dealer: Organisation
    south: Organisation
    south_dealer: Organisation
    customer: Organisation
    other_customer: Organisation
    customer_member: Member
    other_customer_member: Member
    dealer_member: Member
    headquarters_member: Member
    north_member: Member
    south_member: Member
    south_dealer_member: Member
    distributed_dealer_member: Member


async def store_tree(database: FakeDatabase) -> Tree:
    """Store the sample tree through the fake repositories and commit it."""
    return await build_tree(FakeUnitOfWork(database))


async def build_tree(uow: UnitOfWork) -> Tree:
    """Store the sample tree through ``uow`` and commit it."""
    async with uow:
        add = uow.organisations.add
        headquarters = await add(
            name="Headquarters",
            tier=Tier.HEADQUARTERS,
            parent_id=None,
            timezone="UTC",
            dealer_id=None,
        )
        north = await add(
            name="North Centre",
            tier=Tier.BUSINESS_CENTRE,
            parent_id=headquarters.id,
            timezone="Europe/Berlin",
            dealer_id=None,
        )
        north_dealer = await add(
            name="North Dealer",
            tier=Tier.DEALER,
            parent_id=north.id,
            timezone="Europe/Berlin",
            dealer_id=None,
        )
        north_distributor = await add(
            name="North Distributor",
            tier=Tier.DISTRIBUTOR,
            parent_id=north.id,
            timezone="Europe/Berlin",
            dealer_id=None,
        )
        distributed_dealer = await add(
            name="Distributed Dealer",
            tier=Tier.DEALER,
            parent_id=north_distributor.id,
            timezone="Europe/Berlin",
            dealer_id=None,
        )
        south = await add(
            name="South Centre",
            tier=Tier.BUSINESS_CENTRE,
            parent_id=headquarters.id,
            timezone="Europe/Madrid",
            dealer_id=None,
        )
        south_dealer = await add(
            name="South Dealer",
            tier=Tier.DEALER,
            parent_id=south.id,
            timezone="Europe/Madrid",
            dealer_id=None,
        )
        customer = await add(
            name="Acme Clinic",
            tier=Tier.CUSTOMER,
            parent_id=north_dealer.id,
            timezone="Europe/Berlin",
            dealer_id=north_dealer.id,
        )
        other_customer = await add(
            name="Other Clinic",
            tier=Tier.CUSTOMER,
            parent_id=north_dealer.id,
            timezone="Europe/Berlin",
            dealer_id=north_dealer.id,
        )
        customer_member = await uow.members.add(
            telegram_user_id=CUSTOMER_USER, organisation_id=customer.id, name="Ana", now=NOW
        )
        other_customer_member = await uow.members.add(
            telegram_user_id=OTHER_CUSTOMER_USER,
            organisation_id=other_customer.id,
            name="Ben",
            now=NOW,
        )
        dealer_member = await uow.members.add(
            telegram_user_id=DEALER_USER, organisation_id=north_dealer.id, name="Dana", now=NOW
        )
        headquarters_member = await uow.members.add(
            telegram_user_id=HEADQUARTERS_USER,
            organisation_id=headquarters.id,
            name="Hana",
            now=NOW,
        )
        north_member = await uow.members.add(
            telegram_user_id=NORTH_USER, organisation_id=north.id, name="Nils", now=NOW
        )
        south_member = await uow.members.add(
            telegram_user_id=SOUTH_USER, organisation_id=south.id, name="Sara", now=NOW
        )
        south_dealer_member = await uow.members.add(
            telegram_user_id=SOUTH_DEALER_USER,
            organisation_id=south_dealer.id,
            name="Sam",
            now=NOW,
        )
        distributed_dealer_member = await uow.members.add(
            telegram_user_id=DISTRIBUTED_DEALER_USER,
            organisation_id=distributed_dealer.id,
            name="Dirk",
            now=NOW,
        )
        await uow.commit()
    return Tree(
        headquarters=headquarters,
        north=north,
        north_dealer=north_dealer,
        north_distributor=north_distributor,
        distributed_dealer=distributed_dealer,
        south=south,
        south_dealer=south_dealer,
        customer=customer,
        other_customer=other_customer,
        customer_member=customer_member,
        other_customer_member=other_customer_member,
        dealer_member=dealer_member,
        headquarters_member=headquarters_member,
        north_member=north_member,
        south_member=south_member,
        south_dealer_member=south_dealer_member,
        distributed_dealer_member=distributed_dealer_member,
    )


async def add_member(
    database: FakeDatabase, organisation: Organisation, telegram_user_id: int, name: str
) -> Member:
    """Store one more member of ``organisation`` and commit it."""
    uow = FakeUnitOfWork(database)
    async with uow:
        member = await uow.members.add(
            telegram_user_id=telegram_user_id,
            organisation_id=organisation.id,
            name=name,
            now=NOW,
        )
        await uow.commit()
    return member


async def set_dealer(database: FakeDatabase, customer: Organisation, dealer: Organisation) -> None:
    """Make ``customer`` order from ``dealer`` from now on, and commit it."""
    uow = FakeUnitOfWork(database)
    async with uow:
        await uow.organisations.set_dealer(customer.id, dealer.id)
        await uow.commit()


async def store_order(
    database: FakeDatabase,
    *,
    customer: Organisation,
    member: Member,
    po_number: str,
    ordered_at: datetime = NOW,
    status: OrderStatus = OrderStatus.ON_ORDER,
    quantity: int = 1,
) -> Order:
    """Store one order of ``customer`` with its current dealer, in ``status``."""
    assert customer.dealer_id is not None
    uow = FakeUnitOfWork(database)
    async with uow:
        order = await uow.orders.add(
            NewOrder(
                customer_id=customer.id,
                dealer_id=customer.dealer_id,
                po_number=po_number,
                quantity=quantity,
                ordered_at=ordered_at,
                placed_by_member_id=member.id,
            )
        )
        if status is not OrderStatus.ON_ORDER:
            changed = replace(order, status=status, version=order.version + 1)
            if status is OrderStatus.ISSUED:
                changed = replace(changed, issued_at=ordered_at)
            else:
                changed = replace(changed, cancelled_at=ordered_at)
            await uow.orders.replace(order, changed)
            order = changed
        await uow.commit()
    return order
