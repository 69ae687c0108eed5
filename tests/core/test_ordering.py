from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from core.errors import (
    ConcurrentChange,
    DuplicatePoNumber,
    InvalidPoNumber,
    InvalidQuantity,
    NoDealer,
    NotAllowed,
    NotFound,
    NotLinked,
    OrderNotCancellable,
)
from core.orders import Order, OrderStatus
from core.organisations import Tier
from core.policy import LicensingPolicy
from core.use_cases.ordering import (
    PlacedOrder,
    cancel_order,
    check_po_number,
    place_order,
    preview_cancel,
    start_order,
)
from tests.core.fakes import FakeDatabase, FakeOrderRepository, FakeUnitOfWork
from tests.core.sample_tree import (
    CANCEL_WINDOW,
    CUSTOMER_USER,
    DEALER_USER,
    JUST_BEFORE_DEADLINE,
    NOW,
    OTHER_CUSTOMER_USER,
    UNLINKED_USER,
    Tree,
    store_order,
)

POLICY = LicensingPolicy()


async def place(
    uow: FakeUnitOfWork,
    po_number: str = "PO-2025-001",
    *,
    quantity: int = 5,
    user: int = CUSTOMER_USER,
    now: datetime = NOW,
) -> PlacedOrder:
    return await place_order(
        uow, telegram_user_id=user, po_number=po_number, quantity=quantity, policy=POLICY, now=now
    )


async def cancel(
    uow: FakeUnitOfWork, order_id: int, *, now: datetime, user: int = CUSTOMER_USER
) -> Order:
    return await cancel_order(
        uow, telegram_user_id=user, order_id=order_id, policy=POLICY, now=now
    )


async def store_customer_without_dealer(database: FakeDatabase, tree: Tree) -> None:
    """Store customer "No Dealer Clinic" with member UNLINKED_USER and no dealer."""
    uow = FakeUnitOfWork(database)
    async with uow:
        customer = await uow.organisations.add(
            name="No Dealer Clinic",
            tier=Tier.CUSTOMER,
            parent_id=tree.north_dealer.id,
            timezone="UTC",
            dealer_id=None,
        )
        await uow.members.add(
            telegram_user_id=UNLINKED_USER, organisation_id=customer.id, name="Finn", now=NOW
        )
        await uow.commit()


# place_order


async def test_place_order_stores_order(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow, "  PO   2025-001 ", quantity=7)

    order = placed.order
    assert order.po_number == "PO 2025-001"
    assert order.quantity == 7
    assert order.status is OrderStatus.ON_ORDER
    assert order.customer_id == tree.customer.id
    assert order.dealer_id == tree.north_dealer.id
    assert order.ordered_at == NOW
    assert order.window_opened_at == NOW
    assert order.placed_by_member_id == tree.customer_member.id
    assert uow.committed.orders[order.id] == order
    assert uow.commit_count == 1


async def test_place_order_returns_customer_and_dealer(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)

    assert placed.customer == tree.customer
    assert placed.dealer == tree.north_dealer


async def test_place_order_records_audit(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow, quantity=7)

    [entry] = uow.committed.audit
    assert entry.action == "order.placed"
    assert entry.entity == "order"
    assert entry.entity_id == placed.order.id
    assert entry.actor_member_id == tree.customer_member.id
    assert entry.organisation_id == tree.customer.id
    assert entry.at == NOW
    assert entry.before == {}
    assert entry.after == {
        "po_number": "PO-2025-001",
        "quantity": 7,
        "dealer_id": tree.north_dealer.id,
        "status": "on_order",
    }


@pytest.mark.parametrize("quantity", [1, 1000])
async def test_place_order_accepts_quantity_bounds(
    uow: FakeUnitOfWork, tree: Tree, quantity: int
) -> None:
    placed = await place(uow, quantity=quantity)

    assert placed.order.quantity == quantity


@pytest.mark.parametrize("duplicate", ["po-2025-001", "  PO-2025-001  ", "Po-2025-001"])
async def test_place_order_rejects_duplicate_po(
    uow: FakeUnitOfWork, tree: Tree, duplicate: str
) -> None:
    await place(uow, "PO-2025-001")

    with pytest.raises(DuplicatePoNumber) as caught:
        await place(uow, duplicate, now=NOW + timedelta(minutes=5))

    assert "cancelled orders count too" in str(caught.value)
    assert uow.commit_count == 1
    assert len(uow.committed.orders) == 1


async def test_place_order_rejects_respaced_po(uow: FakeUnitOfWork, tree: Tree) -> None:
    await place(uow, "PO 2025 001")

    with pytest.raises(DuplicatePoNumber):
        await place(uow, "  po   2025  001 ", now=NOW + timedelta(minutes=5))

    assert len(uow.committed.orders) == 1


async def test_place_order_rejects_po_with_sharp_s(uow: FakeUnitOfWork, tree: Tree) -> None:
    await place(uow, "Straße 17")

    with pytest.raises(DuplicatePoNumber):
        await place(uow, "STRASSE 17", now=NOW + timedelta(minutes=5))


async def test_place_order_rejects_cancelled_po(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow, "PO-2025-001")
    await cancel(uow, placed.order.id, now=NOW + timedelta(hours=1))

    with pytest.raises(DuplicatePoNumber):
        await place(uow, "po-2025-001", now=NOW + timedelta(hours=2))

    assert uow.commit_count == 2
    assert len(uow.committed.orders) == 1


async def test_place_order_allows_other_customers_po(uow: FakeUnitOfWork, tree: Tree) -> None:
    await place(uow, "PO-2025-001", user=OTHER_CUSTOMER_USER)

    placed = await place(uow, "PO-2025-001")

    assert placed.order.customer_id == tree.customer.id
    assert len(uow.committed.orders) == 2


async def test_place_order_without_dealer_rejected(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_customer_without_dealer(database, tree)

    with pytest.raises(NoDealer) as caught:
        await place(uow, user=UNLINKED_USER)

    assert "No Dealer Clinic has no dealer" in str(caught.value)
    assert "/dealer" in str(caught.value)
    assert uow.commit_count == 0


async def test_place_order_by_dealer_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotAllowed) as caught:
        await place(uow, user=DEALER_USER)

    assert "Only customer administrators can order licenses" in str(caught.value)
    assert "North Dealer, a dealer" in str(caught.value)
    assert uow.commit_count == 0
    assert uow.committed.orders == {}


async def test_place_order_unlinked_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotLinked, match="/start CODE"):
        await place(uow, user=UNLINKED_USER)

    assert uow.commit_count == 0


@pytest.mark.parametrize("quantity", [0, -1, 1001])
async def test_place_order_rejects_quantity(
    uow: FakeUnitOfWork, tree: Tree, quantity: int
) -> None:
    with pytest.raises(InvalidQuantity, match="1 to 1000"):
        await place(uow, quantity=quantity)

    assert uow.block_count == 0
    assert uow.commit_count == 0


async def test_place_order_honours_policy_maximum(uow: FakeUnitOfWork, tree: Tree) -> None:
    policy = LicensingPolicy(max_licenses_per_order=3)

    with pytest.raises(InvalidQuantity, match="1 to 3"):
        await place_order(
            uow,
            telegram_user_id=CUSTOMER_USER,
            po_number="PO-1",
            quantity=4,
            policy=policy,
            now=NOW,
        )


@pytest.mark.parametrize("po_number", ["", "   ", "PO\n1", "P" * 65])
async def test_place_order_rejects_po_number(
    uow: FakeUnitOfWork, tree: Tree, po_number: str
) -> None:
    with pytest.raises(InvalidPoNumber):
        await place(uow, po_number)

    assert uow.block_count == 0
    assert uow.commit_count == 0


# start_order and check_po_number


async def test_start_order_returns_dealer(uow: FakeUnitOfWork, tree: Tree) -> None:
    form = await start_order(uow, telegram_user_id=CUSTOMER_USER)

    assert form.customer == tree.customer
    assert form.dealer == tree.north_dealer
    assert uow.commit_count == 0


async def test_start_order_without_dealer_rejected(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_customer_without_dealer(database, tree)

    with pytest.raises(NoDealer):
        await start_order(uow, telegram_user_id=UNLINKED_USER)


async def test_start_order_by_dealer_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotAllowed):
        await start_order(uow, telegram_user_id=DEALER_USER)


async def test_check_po_number_returns_normalised(uow: FakeUnitOfWork, tree: Tree) -> None:
    po_number = await check_po_number(uow, telegram_user_id=CUSTOMER_USER, text="  PO   9 ")

    assert po_number == "PO 9"
    assert uow.commit_count == 0


async def test_check_po_number_rejects_used(uow: FakeUnitOfWork, tree: Tree) -> None:
    await place(uow, "PO 9")

    with pytest.raises(DuplicatePoNumber, match="PO number po 9 was used"):
        await check_po_number(uow, telegram_user_id=CUSTOMER_USER, text="po 9")


# cancel_order


async def test_cancel_within_window(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)
    now = NOW + JUST_BEFORE_DEADLINE

    cancelled = await cancel(uow, placed.order.id, now=now)

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.cancelled_at == now
    assert cancelled.version == placed.order.version + 1
    assert uow.committed.orders[placed.order.id] == cancelled
    assert uow.commit_count == 2


async def test_cancel_records_audit(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)
    now = NOW + timedelta(days=1)

    await cancel(uow, placed.order.id, now=now)

    entry = uow.committed.audit[-1]
    assert entry.action == "order.cancelled"
    assert entry.entity == "order"
    assert entry.entity_id == placed.order.id
    assert entry.actor_member_id == tree.customer_member.id
    assert entry.organisation_id == tree.customer.id
    assert entry.at == now
    assert entry.before == {"status": "on_order"}
    assert entry.after == {"status": "cancelled"}


async def test_cancel_rejected_at_fourteen_days(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)

    with pytest.raises(OrderNotCancellable, match="14 days"):
        await cancel(uow, placed.order.id, now=NOW + CANCEL_WINDOW)

    assert uow.commit_count == 1
    assert uow.committed.orders[placed.order.id] == placed.order
    assert len(uow.committed.audit) == 1


async def test_cancel_rejected_when_issued(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    order = await store_order(
        database,
        customer=tree.customer,
        member=tree.customer_member,
        po_number="PO-ISSUED",
        status=OrderStatus.ISSUED,
    )

    with pytest.raises(OrderNotCancellable, match="issued"):
        await cancel(uow, order.id, now=NOW + timedelta(hours=1))

    assert uow.commit_count == 0
    assert uow.committed.orders[order.id] == order


async def test_cancel_reopened_window(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    # An issuance that was cancelled on day 10 reopens the window until day 24.
    order = await store_order(
        database, customer=tree.customer, member=tree.customer_member, po_number="PO-REOPENED"
    )
    reopened = replace(order, window_opened_at=NOW + timedelta(days=10), version=2)
    async with uow:
        await uow.orders.replace(order, reopened)
        await uow.commit()

    cancelled = await cancel(uow, order.id, now=NOW + timedelta(days=20))

    assert cancelled.status is OrderStatus.CANCELLED


async def test_cancel_other_customers_order_not_found(uow: FakeUnitOfWork, tree: Tree) -> None:
    other = await place(uow, user=OTHER_CUSTOMER_USER)

    with pytest.raises(NotFound) as foreign:
        await cancel(uow, other.order.id, now=NOW + timedelta(hours=1))
    with pytest.raises(NotFound) as missing:
        await cancel(uow, 999_999, now=NOW + timedelta(hours=1))

    assert str(foreign.value) == str(missing.value)
    assert uow.commit_count == 1
    assert uow.committed.orders[other.order.id] == other.order


async def test_cancel_twice_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)
    cancelled = await cancel(uow, placed.order.id, now=NOW + timedelta(hours=1))

    with pytest.raises(OrderNotCancellable, match="already cancelled"):
        await cancel(uow, placed.order.id, now=NOW + timedelta(hours=2))

    assert uow.commit_count == 2
    assert uow.committed.orders[placed.order.id] == cancelled
    assert [entry.action for entry in uow.committed.audit] == ["order.placed", "order.cancelled"]


async def test_cancel_by_dealer_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)

    with pytest.raises(NotAllowed, match="Only customer administrators can cancel orders"):
        await cancel(uow, placed.order.id, now=NOW + timedelta(hours=1), user=DEALER_USER)

    assert uow.commit_count == 1


async def test_cancel_by_unlinked_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)

    with pytest.raises(NotLinked):
        await cancel(uow, placed.order.id, now=NOW + timedelta(hours=1), user=UNLINKED_USER)


class RivalCancelsAfterRead(FakeOrderRepository):
    """Order repository after whose read another request cancels the same order."""

    def __init__(self, uow: FakeUnitOfWork, rival: FakeUnitOfWork) -> None:
        super().__init__(uow)
        self._rival = rival

    async def get(self, order_id: int) -> Order | None:
        order = await super().get(order_id)
        await cancel(self._rival, order_id, now=NOW + timedelta(minutes=30))
        return order


async def test_cancel_race_commits_nothing(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    order = await store_order(
        database, customer=tree.customer, member=tree.customer_member, po_number="PO-RACE"
    )
    uow.orders = RivalCancelsAfterRead(uow, rival=FakeUnitOfWork(database))

    with pytest.raises(ConcurrentChange):
        await cancel(uow, order.id, now=NOW + timedelta(hours=1))

    assert uow.commit_count == 0
    assert uow.committed.orders[order.id].cancelled_at == NOW + timedelta(minutes=30)
    assert len(uow.committed.audit) == 1


# preview_cancel


async def test_preview_cancel_returns_deadline(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)

    preview = await preview_cancel(
        uow,
        telegram_user_id=CUSTOMER_USER,
        order_id=placed.order.id,
        policy=POLICY,
        now=NOW + JUST_BEFORE_DEADLINE,
    )

    assert preview.order == placed.order
    assert preview.customer == tree.customer
    assert preview.deadline == NOW + CANCEL_WINDOW


async def test_preview_cancel_changes_nothing(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)

    await preview_cancel(
        uow,
        telegram_user_id=CUSTOMER_USER,
        order_id=placed.order.id,
        policy=POLICY,
        now=NOW + timedelta(hours=1),
    )

    assert uow.commit_count == 1
    assert uow.committed.orders[placed.order.id] == placed.order
    assert len(uow.committed.audit) == 1


async def test_preview_cancel_rejected_at_fourteen_days(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)

    with pytest.raises(OrderNotCancellable, match="14 days"):
        await preview_cancel(
            uow,
            telegram_user_id=CUSTOMER_USER,
            order_id=placed.order.id,
            policy=POLICY,
            now=NOW + CANCEL_WINDOW,
        )


async def test_preview_cancel_rejected_when_cancelled(uow: FakeUnitOfWork, tree: Tree) -> None:
    placed = await place(uow)
    await cancel(uow, placed.order.id, now=NOW + timedelta(hours=1))

    with pytest.raises(OrderNotCancellable, match="already cancelled"):
        await preview_cancel(
            uow,
            telegram_user_id=CUSTOMER_USER,
            order_id=placed.order.id,
            policy=POLICY,
            now=NOW + timedelta(hours=2),
        )


async def test_preview_cancel_other_customers_order(uow: FakeUnitOfWork, tree: Tree) -> None:
    other = await place(uow, user=OTHER_CUSTOMER_USER)

    with pytest.raises(NotFound, match="not found among your orders"):
        await preview_cancel(
            uow,
            telegram_user_id=CUSTOMER_USER,
            order_id=other.order.id,
            policy=POLICY,
            now=NOW + timedelta(hours=1),
        )
