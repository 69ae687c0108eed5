"""A small organisation tree with members, stored in a FakeDatabase for the use-case tests.

Headquarters
├── North Centre (business centre)
│   ├── North Dealer          ← dealer directly under the business centre
│   │   ├── Acme Clinic        (customer, orders from North Dealer)
│   │   └── Other Clinic       (customer, orders from North Dealer)
│   └── North Distributor
│       └── Distributed Dealer
└── South Centre (business centre)
    └── South Dealer
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from core.members import Member
from core.orders import NewOrder, Order, OrderStatus
from core.organisations import Organisation, Tier
from tests.core.fakes import FakeDatabase, FakeUnitOfWork

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CANCEL_WINDOW = timedelta(days=14)
JUST_BEFORE_DEADLINE = CANCEL_WINDOW - timedelta(seconds=1)

# Telegram user ids above 2**32, as real ones can be.
CUSTOMER_USER = 5_000_000_001
OTHER_CUSTOMER_USER = 5_000_000_002
DEALER_USER = 5_000_000_003
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


async def store_tree(database: FakeDatabase) -> Tree:
    """Store the sample tree through the fake repositories and commit it."""
    uow = FakeUnitOfWork(database)
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
    )


async def store_order(
    database: FakeDatabase,
    *,
    customer: Organisation,
    member: Member,
    po_number: str,
    ordered_at: datetime = NOW,
    status: OrderStatus = OrderStatus.ON_ORDER,
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
                quantity=1,
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
