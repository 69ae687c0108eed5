from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from core.errors import ConcurrentChange, DuplicatePoNumber
from core.orders import Order, OrderStatus
from core.organisations import Tier
from storage import Database

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)


async def _add(database: Database, new_order) -> Order:
    async with database.unit_of_work() as uow:
        order = await uow.orders.add(new_order)
        await uow.commit()
    return order


async def test_add_sets_initial_state(database: Database, new_order) -> None:
    order = await _add(database, new_order("PO-1"))

    assert order.status is OrderStatus.ON_ORDER
    assert order.window_opened_at == order.ordered_at
    assert order.version == 1
    assert order.issued_at is None
    assert order.cancelled_at is None


async def test_get_returns_stored_order(database: Database, new_order) -> None:
    order = await _add(database, new_order("PO-1"))

    async with database.unit_of_work() as uow:
        assert await uow.orders.get(order.id) == order


async def test_get_missing_is_none(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.orders.get(999) is None


@pytest.mark.parametrize("second_po", ["PO-1", "po-1", "  Po-1 ", "pO-1"])
async def test_duplicate_po_rejected_by_index(database: Database, new_order, second_po) -> None:
    await _add(database, new_order("PO-1"))

    async with database.unit_of_work() as uow:
        with pytest.raises(DuplicatePoNumber, match="was used on an earlier order"):
            await uow.orders.add(new_order(second_po))


async def test_duplicate_po_inner_spacing(database: Database, new_order) -> None:
    await _add(database, new_order("PO 2025 17"))

    async with database.unit_of_work() as uow:
        with pytest.raises(DuplicatePoNumber):
            await uow.orders.add(new_order("po  2025\u00a017"))


async def test_duplicate_po_within_one_uow(database: Database, new_order) -> None:
    async with database.unit_of_work() as uow:
        await uow.orders.add(new_order("PO-1"))
        with pytest.raises(DuplicatePoNumber):
            await uow.orders.add(new_order("po-1"))
        await uow.orders.add(new_order("PO-2"))
        await uow.commit()
    async with database.unit_of_work() as uow:
        count = await uow.orders.count_for_customer(new_order("x").customer_id)

    assert count == 2


async def test_po_number_used(database: Database, new_order) -> None:
    order = await _add(database, new_order("PO-1"))

    async with database.unit_of_work() as uow:
        used = await uow.orders.po_number_used(order.customer_id, "po-1")
        unused = await uow.orders.po_number_used(order.customer_id, "po-2")

    assert used is True
    assert unused is False


async def test_replace_stores_change(database: Database, new_order) -> None:
    order = await _add(database, new_order("PO-1"))
    cancelled = order.cancelled(NOW + timedelta(days=1), WINDOW)

    async with database.unit_of_work() as uow:
        await uow.orders.replace(order, cancelled)
        await uow.commit()
    async with database.unit_of_work() as uow:
        stored = await uow.orders.get(order.id)

    assert stored == cancelled


async def test_replace_stale_version_raises(database: Database, new_order) -> None:
    order = await _add(database, new_order("PO-1"))
    async with database.unit_of_work() as uow:
        await uow.orders.replace(order, replace(order, quantity=5, version=2))
        await uow.commit()

    async with database.unit_of_work() as uow:
        with pytest.raises(ConcurrentChange, match="nothing was changed"):
            await uow.orders.replace(order, order.cancelled(NOW, WINDOW))


async def test_replace_stale_keeps_row(database: Database, new_order) -> None:
    order = await _add(database, new_order("PO-1"))
    changed = replace(order, quantity=5, version=2)
    async with database.unit_of_work() as uow:
        await uow.orders.replace(order, changed)
        await uow.commit()

    async with database.unit_of_work() as uow:
        with pytest.raises(ConcurrentChange):
            await uow.orders.replace(order, order.cancelled(NOW, WINDOW))
    async with database.unit_of_work() as uow:
        stored = await uow.orders.get(order.id)

    assert stored == changed


@pytest.mark.parametrize(
    "field, value",
    [
        ("customer_id", 999),
        ("placed_by_member_id", 999),
        ("ordered_at", NOW + timedelta(days=1)),
    ],
)
async def test_replace_fixed_field_rejected(database: Database, new_order, field, value) -> None:
    order = await _add(database, new_order("PO-1"))

    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match=f"{field} cannot change"):
            await uow.orders.replace(order, replace(order, version=2, **{field: value}))


async def test_replace_needs_version_bump(database: Database, new_order) -> None:
    order = await _add(database, new_order("PO-1"))

    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="must have version 2"):
            await uow.orders.replace(order, replace(order, quantity=5))


async def test_replace_po_clash_rejected(database: Database, new_order) -> None:
    await _add(database, new_order("PO-1"))
    second = await _add(database, new_order("PO-2"))

    async with database.unit_of_work() as uow:
        with pytest.raises(DuplicatePoNumber):
            await uow.orders.replace(second, replace(second, po_number="po-1", version=2))


async def test_other_customer_may_reuse_po(database: Database, tree, new_order) -> None:
    async with database.unit_of_work() as uow:
        other = await uow.organisations.add(
            name="Clinic West",
            tier=Tier.CUSTOMER,
            parent_id=tree.dealer_id,
            timezone="UTC",
            dealer_id=tree.dealer_id,
        )
        await uow.commit()
    await _add(database, new_order("PO-1"))

    order = await _add(database, replace(new_order("PO-1"), customer_id=other.id))

    assert order.customer_id == other.id


async def test_replace_foreign_key_error_kept(database: Database, new_order) -> None:
    order = await _add(database, new_order("PO-1"))

    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError):
            await uow.orders.replace(order, replace(order, dealer_id=999, version=2))


async def test_add_foreign_key_error_kept(database: Database, new_order) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError):
            await uow.orders.add(replace(new_order("PO-1"), dealer_id=999))
