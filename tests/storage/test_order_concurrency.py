"""Races between units of work that each run in their own transaction."""

import asyncio
from datetime import UTC, datetime, timedelta

from core.errors import ConcurrentChange, DuplicatePoNumber, OrderNotCancellable
from core.orders import Order, OrderStatus
from core.policy import LicensingPolicy
from core.use_cases.ordering import PlacedOrder, cancel_order, place_order
from storage import Database

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = LicensingPolicy()


def _kinds(results: list[object]) -> list[str]:
    return sorted(type(result).__name__ for result in results)


async def test_concurrent_add_same_po(database: Database, new_order) -> None:
    async def add(po_number: str) -> Order:
        async with database.unit_of_work() as uow:
            order = await uow.orders.add(new_order(po_number))
            await asyncio.sleep(0.01)
            await uow.commit()
            return order

    results = await asyncio.gather(add("PO-7"), add("po-7 "), return_exceptions=True)

    assert _kinds(results) == ["DuplicatePoNumber", "Order"]


async def test_concurrent_place_same_po(database: Database, tree) -> None:
    async def place(po_number: str) -> PlacedOrder:
        return await place_order(
            database.unit_of_work(),
            telegram_user_id=tree.member_telegram_user_id,
            po_number=po_number,
            quantity=3,
            policy=POLICY,
            now=NOW,
        )

    results = await asyncio.gather(place("PO-7"), place("PO-7"), return_exceptions=True)

    assert _kinds(results) == ["DuplicatePoNumber", "PlacedOrder"]


async def test_concurrent_place_stores_one(database: Database, tree) -> None:
    async def place() -> PlacedOrder:
        return await place_order(
            database.unit_of_work(),
            telegram_user_id=tree.member_telegram_user_id,
            po_number="PO-7",
            quantity=3,
            policy=POLICY,
            now=NOW,
        )

    await asyncio.gather(place(), place(), return_exceptions=True)
    async with database.unit_of_work() as uow:
        count = await uow.orders.count_for_customer(tree.customer_id)

    assert count == 1


async def test_concurrent_cancels_one_wins(database: Database, new_order) -> None:
    async with database.unit_of_work() as uow:
        order = await uow.orders.add(new_order("PO-1"))
        await uow.commit()
    # Both requests loaded version 1 before either of them wrote.
    async with database.unit_of_work() as uow:
        first_view = await uow.orders.get(order.id)
    async with database.unit_of_work() as uow:
        second_view = await uow.orders.get(order.id)
    assert first_view is not None
    assert second_view is not None

    async def cancel(view: Order, minutes: int) -> Order:
        cancelled = view.cancelled(NOW + timedelta(minutes=minutes), POLICY.cancel_window)
        async with database.unit_of_work() as uow:
            await uow.orders.replace(view, cancelled)
            await asyncio.sleep(0.01)
            await uow.commit()
        return cancelled

    results = await asyncio.gather(
        cancel(first_view, 1), cancel(second_view, 2), return_exceptions=True
    )

    assert _kinds(results) == ["ConcurrentChange", "Order"]


async def test_concurrent_cancels_keep_winner(database: Database, new_order) -> None:
    async with database.unit_of_work() as uow:
        order = await uow.orders.add(new_order("PO-1"))
        await uow.commit()

    async def cancel(minutes: int) -> Order:
        cancelled = order.cancelled(NOW + timedelta(minutes=minutes), POLICY.cancel_window)
        async with database.unit_of_work() as uow:
            await uow.orders.replace(order, cancelled)
            await uow.commit()
        return cancelled

    results = await asyncio.gather(cancel(1), cancel(2), return_exceptions=True)
    winner = next(result for result in results if isinstance(result, Order))
    async with database.unit_of_work() as uow:
        stored = await uow.orders.get(order.id)

    assert stored == winner
    assert stored.version == 2


async def test_concurrent_cancel_use_case(database: Database, tree) -> None:
    placed = await place_order(
        database.unit_of_work(),
        telegram_user_id=tree.member_telegram_user_id,
        po_number="PO-1",
        quantity=3,
        policy=POLICY,
        now=NOW,
    )

    async def cancel() -> Order:
        return await cancel_order(
            database.unit_of_work(),
            telegram_user_id=tree.member_telegram_user_id,
            order_id=placed.order.id,
            policy=POLICY,
            now=NOW + timedelta(hours=1),
        )

    results = await asyncio.gather(cancel(), cancel(), return_exceptions=True)
    winners = [result for result in results if isinstance(result, Order)]
    losers = [result for result in results if not isinstance(result, Order)]

    assert len(winners) == 1
    assert winners[0].status is OrderStatus.CANCELLED
    # SQLite runs the two transactions one after the other, so the loser reads
    # the cancelled order. PostgreSQL lets both read version 1, so the loser's
    # conditional UPDATE matches no row.
    assert len(losers) == 1
    assert isinstance(losers[0], OrderNotCancellable | ConcurrentChange)


async def test_duplicate_po_error_names_po(database: Database, tree) -> None:
    async def place() -> PlacedOrder:
        return await place_order(
            database.unit_of_work(),
            telegram_user_id=tree.member_telegram_user_id,
            po_number="PO-7",
            quantity=3,
            policy=POLICY,
            now=NOW,
        )

    results = await asyncio.gather(place(), place(), return_exceptions=True)
    errors = [result for result in results if isinstance(result, DuplicatePoNumber)]

    assert len(errors) == 1
    assert "PO-7" in str(errors[0])
