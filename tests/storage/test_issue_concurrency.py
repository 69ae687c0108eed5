"""Issuances of one dealer that run at the same time, each in its own transaction."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.errors import ConcurrentChange, StockShort
from core.licenses import License, LicenseState
from core.orders import Order, OrderStatus
from core.use_cases.issuing import IssuedOrder, issue_order
from storage import Database

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DEALER_TELEGRAM_ID = 6_000_000_001


@pytest.fixture
async def dealer_member(database: Database, tree) -> int:
    """Add a member to the tree's dealer and return its Telegram user id."""
    async with database.unit_of_work() as uow:
        member = await uow.members.add(
            telegram_user_id=DEALER_TELEGRAM_ID,
            organisation_id=tree.dealer_id,
            name="Dora",
            now=NOW,
        )
        await uow.commit()
    return member.telegram_user_id


async def _place(database: Database, new_order, po_number: str, quantity: int) -> Order:
    async with database.unit_of_work() as uow:
        order = await uow.orders.add(new_order(po_number, quantity=quantity))
        await uow.commit()
    return order


async def _add_stock(database: Database, dealer_id: int, count: int) -> None:
    async with database.unit_of_work() as uow:
        await uow.licenses.add_to_stock(dealer_id, count)
        await uow.commit()


async def _licenses_of(database: Database, order: Order) -> list[License]:
    async with database.unit_of_work() as uow:
        return await uow.licenses.list_for_order(order.id)


async def _stock(database: Database, dealer_id: int) -> int:
    async with database.unit_of_work() as uow:
        return await uow.licenses.count_in_stock(dealer_id)


async def test_take_and_move_disjoint(database: Database, tree, new_order) -> None:
    await _add_stock(database, tree.dealer_id, 10)
    first = await _place(database, new_order, "PO-1", 4)
    second = await _place(database, new_order, "PO-2", 4)

    async def issue(order: Order) -> list[License]:
        async with database.unit_of_work() as uow:
            taken = await uow.licenses.take_from_stock(tree.dealer_id, order.quantity)
            # The other issuance runs while this one has its licenses locked.
            await asyncio.sleep(0.05)
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

    first_moved, second_moved = await asyncio.gather(issue(first), issue(second))
    first_ids = {license.id for license in first_moved}
    second_ids = {license.id for license in second_moved}

    assert len(first_ids) == 4
    assert len(second_ids) == 4
    assert first_ids.isdisjoint(second_ids)
    assert await _stock(database, tree.dealer_id) == 2


async def test_issue_use_case_disjoint(database: Database, tree, new_order, dealer_member) -> None:
    await _add_stock(database, tree.dealer_id, 10)
    first = await _place(database, new_order, "PO-1", 4)
    second = await _place(database, new_order, "PO-2", 5)

    async def issue(order: Order) -> IssuedOrder:
        return await issue_order(
            database.unit_of_work(), telegram_user_id=dealer_member, order_id=order.id, now=NOW
        )

    results = await asyncio.gather(issue(first), issue(second))
    first_ids = {license.id for license in await _licenses_of(database, first)}
    second_ids = {license.id for license in await _licenses_of(database, second)}

    assert [result.order.status for result in results] == [OrderStatus.ISSUED] * 2
    assert len(first_ids) == 4
    assert len(second_ids) == 5
    assert first_ids.isdisjoint(second_ids)
    assert await _stock(database, tree.dealer_id) == 1


async def test_issue_use_case_stock_short(
    database: Database, tree, new_order, dealer_member
) -> None:
    await _add_stock(database, tree.dealer_id, 6)
    first = await _place(database, new_order, "PO-1", 4)
    second = await _place(database, new_order, "PO-2", 4)

    async def issue(order: Order) -> IssuedOrder:
        return await issue_order(
            database.unit_of_work(), telegram_user_id=dealer_member, order_id=order.id, now=NOW
        )

    results = await asyncio.gather(issue(first), issue(second), return_exceptions=True)
    issued = [result for result in results if isinstance(result, IssuedOrder)]
    # SQLite runs the two issuances one after the other, so the second finds
    # 2 licenses in stock. On PostgreSQL the second may run while the first
    # has 4 licenses locked, and then it reports the concurrent issuance.
    refused = [result for result in results if isinstance(result, StockShort | ConcurrentChange)]
    counts = sorted(
        [len(await _licenses_of(database, first)), len(await _licenses_of(database, second))]
    )

    assert len(issued) == 1
    assert len(refused) == 1
    assert counts == [0, 4]
    assert await _stock(database, tree.dealer_id) == 2
