"""Order queries for dealers and administrators: pending, cancellable issuances, PO search."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.licenses import License, LicenseState
from core.orders import NewOrder, Order
from core.organisations import Tier
from storage import Database

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)
ISSUED_AFTER = NOW - WINDOW


async def _place(database: Database, new_order: NewOrder) -> Order:
    async with database.unit_of_work() as uow:
        order = await uow.orders.add(new_order)
        await uow.commit()
    return order


async def _issue(database: Database, order: Order, issued_at: datetime) -> list[License]:
    """Issue ``order`` at ``issued_at`` from fresh stock and return its licenses."""
    async with database.unit_of_work() as uow:
        await uow.orders.replace(order, order.issued(issued_at, "UTC"))
        await uow.licenses.add_to_stock(order.dealer_id, order.quantity)
        taken = await uow.licenses.take_from_stock(order.dealer_id, order.quantity)
        moved = [
            replace(
                license,
                state=LicenseState.UNUSED,
                customer_id=order.customer_id,
                order_id=order.id,
                version=license.version + 1,
            )
            for license in taken
        ]
        await uow.licenses.move(taken, moved)
        await uow.commit()
    return moved


async def _add_dealer(database: Database, tree, name: str = "Dealer Two") -> int:
    async with database.unit_of_work() as uow:
        dealer = await uow.organisations.add(
            name=name, tier=Tier.DEALER, parent_id=tree.centre_id, timezone="UTC", dealer_id=None
        )
        await uow.commit()
    return dealer.id


async def _cancellable(database: Database, dealer_ids) -> tuple[int, list[int]]:
    async with database.unit_of_work() as uow:
        total = await uow.orders.count_cancellable_issuances(dealer_ids, ISSUED_AFTER)
        page = await uow.orders.page_cancellable_issuances(
            dealer_ids, ISSUED_AFTER, offset=0, limit=50
        )
    return total, [order.id for order in page]


async def test_pending_oldest_first(database: Database, tree, new_order) -> None:
    late = await _place(database, new_order("PO-late", ordered_at=NOW + timedelta(hours=2)))
    early = await _place(database, new_order("PO-early", ordered_at=NOW))
    middle = await _place(database, new_order("PO-middle", ordered_at=NOW + timedelta(hours=1)))

    async with database.unit_of_work() as uow:
        page = await uow.orders.page_pending_for_dealer(tree.dealer_id, offset=0, limit=10)

    assert [order.id for order in page] == [early.id, middle.id, late.id]


async def test_pending_same_time_by_id(database: Database, tree, new_order) -> None:
    first = await _place(database, new_order("PO-1"))
    second = await _place(database, new_order("PO-2"))

    async with database.unit_of_work() as uow:
        page = await uow.orders.page_pending_for_dealer(tree.dealer_id, offset=0, limit=10)

    assert [order.id for order in page] == [first.id, second.id]


async def test_pending_excludes_other_statuses(database: Database, tree, new_order) -> None:
    waiting = await _place(database, new_order("PO-1"))
    cancelled = await _place(database, new_order("PO-2"))
    issued = await _place(database, new_order("PO-3"))
    async with database.unit_of_work() as uow:
        await uow.orders.replace(cancelled, cancelled.cancelled(NOW, WINDOW))
        await uow.commit()
    await _issue(database, issued, NOW)

    async with database.unit_of_work() as uow:
        count = await uow.orders.count_pending_for_dealer(tree.dealer_id)
        page = await uow.orders.page_pending_for_dealer(tree.dealer_id, offset=0, limit=10)

    assert count == 1
    assert [order.id for order in page] == [waiting.id]


async def test_pending_other_dealer_excluded(database: Database, tree, new_order) -> None:
    other_dealer_id = await _add_dealer(database, tree)
    await _place(database, replace(new_order("PO-1"), dealer_id=other_dealer_id))

    async with database.unit_of_work() as uow:
        count = await uow.orders.count_pending_for_dealer(tree.dealer_id)
        other_count = await uow.orders.count_pending_for_dealer(other_dealer_id)

    assert count == 0
    assert other_count == 1


async def test_pending_pages_split(database: Database, tree, new_order) -> None:
    placed = [
        await _place(
            database, new_order(f"PO-{number}", ordered_at=NOW + timedelta(minutes=number))
        )
        for number in range(5)
    ]

    async with database.unit_of_work() as uow:
        first = await uow.orders.page_pending_for_dealer(tree.dealer_id, offset=0, limit=2)
        last = await uow.orders.page_pending_for_dealer(tree.dealer_id, offset=4, limit=2)

    assert [order.id for order in first] == [placed[0].id, placed[1].id]
    assert [order.id for order in last] == [placed[4].id]


async def test_pending_bad_page_rejected(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="offset >= 0"):
            await uow.orders.page_pending_for_dealer(tree.dealer_id, offset=-1, limit=5)


async def test_cancellable_newest_first(database: Database, tree, new_order) -> None:
    older = await _place(database, new_order("PO-1"))
    newer = await _place(database, new_order("PO-2"))
    await _issue(database, older, NOW - timedelta(days=3))
    await _issue(database, newer, NOW - timedelta(days=1))

    total, ids = await _cancellable(database, None)

    assert total == 2
    assert ids == [newer.id, older.id]


async def test_cancellable_window_boundary(database: Database, tree, new_order) -> None:
    inside = await _place(database, new_order("PO-inside"))
    boundary = await _place(database, new_order("PO-boundary"))
    outside = await _place(database, new_order("PO-outside"))
    await _issue(database, inside, ISSUED_AFTER + timedelta(seconds=1))
    await _issue(database, boundary, ISSUED_AFTER)
    await _issue(database, outside, ISSUED_AFTER - timedelta(days=1))

    total, ids = await _cancellable(database, None)

    assert total == 1
    assert ids == [inside.id]


async def test_cancellable_excludes_assigned(database: Database, tree, new_order) -> None:
    untouched = await _place(database, new_order("PO-1"))
    used = await _place(database, new_order("PO-2"))
    await _issue(database, untouched, NOW)
    licenses = await _issue(database, used, NOW)
    assigned = replace(
        licenses[1],
        state=LicenseState.ASSIGNED,
        email="ana@example.com",
        assigned_at=NOW,
        expires_at=NOW + timedelta(days=365),
        version=licenses[1].version + 1,
    )
    async with database.unit_of_work() as uow:
        await uow.licenses.move([licenses[1]], [assigned])
        await uow.commit()

    total, ids = await _cancellable(database, None)

    assert total == 1
    assert ids == [untouched.id]


async def test_cancellable_excludes_once_assigned(database: Database, tree, new_order) -> None:
    order = await _place(database, new_order("PO-1", quantity=1))
    (license,) = await _issue(database, order, NOW)
    assigned = replace(
        license,
        state=LicenseState.ASSIGNED,
        email="ana@example.com",
        assigned_at=NOW,
        expires_at=NOW + timedelta(days=365),
        version=license.version + 1,
    )
    async with database.unit_of_work() as uow:
        await uow.licenses.move([license], [assigned])
        await uow.licenses.move([assigned], [assigned.unassigned()])
        await uow.commit()

    total, ids = await _cancellable(database, None)

    assert total == 0
    assert ids == []


async def test_cancellable_excludes_on_order(database: Database, tree, new_order) -> None:
    await _place(database, new_order("PO-1"))

    total, ids = await _cancellable(database, None)

    assert total == 0
    assert ids == []


async def test_cancellable_respects_dealers(database: Database, tree, new_order) -> None:
    other_dealer_id = await _add_dealer(database, tree)
    mine = await _place(database, new_order("PO-1"))
    theirs = await _place(database, replace(new_order("PO-2"), dealer_id=other_dealer_id))
    await _issue(database, mine, NOW)
    await _issue(database, theirs, NOW)

    only_mine = await _cancellable(database, [tree.dealer_id])
    only_theirs = await _cancellable(database, [other_dealer_id])
    both = await _cancellable(database, [tree.dealer_id, other_dealer_id])
    none_listed = await _cancellable(database, [])
    any_dealer = await _cancellable(database, None)

    assert only_mine == (1, [mine.id])
    assert only_theirs == (1, [theirs.id])
    assert both[0] == 2
    assert none_listed == (0, [])
    assert any_dealer[0] == 2


async def test_cancellable_pages_split(database: Database, tree, new_order) -> None:
    orders = [await _place(database, new_order(f"PO-{number}")) for number in range(3)]
    for number, order in enumerate(orders):
        await _issue(database, order, NOW - timedelta(hours=number))

    async with database.unit_of_work() as uow:
        second_page = await uow.orders.page_cancellable_issuances(
            None, ISSUED_AFTER, offset=2, limit=2
        )

    assert [order.id for order in second_page] == [orders[2].id]


async def _add_customer(database: Database, tree) -> int:
    async with database.unit_of_work() as uow:
        customer = await uow.organisations.add(
            name="Clinic West",
            tier=Tier.CUSTOMER,
            parent_id=tree.dealer_id,
            timezone="UTC",
            dealer_id=tree.dealer_id,
        )
        await uow.commit()
    return customer.id


async def test_find_by_po_any_customer(database: Database, tree, new_order) -> None:
    other_customer_id = await _add_customer(database, tree)
    mine = await _place(database, new_order("PO-7"))
    theirs = await _place(database, replace(new_order("po-7"), customer_id=other_customer_id))
    await _place(database, new_order("PO-8"))

    async with database.unit_of_work() as uow:
        found = await uow.orders.find_by_po("po-7", None)

    assert [order.id for order in found] == [mine.id, theirs.id]


async def test_find_by_po_some_customers(database: Database, tree, new_order) -> None:
    other_customer_id = await _add_customer(database, tree)
    await _place(database, new_order("PO-7"))
    theirs = await _place(database, replace(new_order("PO-7"), customer_id=other_customer_id))

    async with database.unit_of_work() as uow:
        found = await uow.orders.find_by_po("po-7", [other_customer_id])
        none_listed = await uow.orders.find_by_po("po-7", [])

    assert [order.id for order in found] == [theirs.id]
    assert none_listed == []


async def test_find_by_po_unknown(database: Database, tree, new_order) -> None:
    await _place(database, new_order("PO-7"))

    async with database.unit_of_work() as uow:
        assert await uow.orders.find_by_po("po-9", None) == []
