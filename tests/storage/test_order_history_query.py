from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from storage import Database

START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
TOTAL = 25


@pytest.fixture
async def order_ids(database: Database, new_order) -> list[int]:
    """Store TOTAL orders a minute apart, except that the last two share a time.

    Returns the ids newest first, in the order the history page must show.
    """
    times = [START + timedelta(minutes=minute) for minute in range(TOTAL - 1)]
    times.append(times[-1])
    async with database.unit_of_work() as uow:
        orders = [
            await uow.orders.add(new_order(f"PO-{number}", ordered_at=at))
            for number, at in enumerate(times)
        ]
        await uow.commit()
    newest_first = sorted(orders, key=lambda order: (order.ordered_at, order.id), reverse=True)
    return [order.id for order in newest_first]


async def test_count_for_customer(database: Database, tree, order_ids) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.orders.count_for_customer(tree.customer_id) == TOTAL


async def test_count_other_customer_zero(database: Database, tree, order_ids) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.orders.count_for_customer(tree.dealer_id) == 0


async def test_first_page_newest_first(database: Database, tree, order_ids) -> None:
    async with database.unit_of_work() as uow:
        page = await uow.orders.page_for_customer(tree.customer_id, offset=0, limit=10)

    assert [order.id for order in page] == order_ids[:10]


async def test_same_time_newer_id_first(database: Database, tree, order_ids) -> None:
    async with database.unit_of_work() as uow:
        page = await uow.orders.page_for_customer(tree.customer_id, offset=0, limit=2)

    assert page[0].ordered_at == page[1].ordered_at
    assert page[0].id > page[1].id


async def test_middle_page_offset(database: Database, tree, order_ids) -> None:
    async with database.unit_of_work() as uow:
        page = await uow.orders.page_for_customer(tree.customer_id, offset=10, limit=10)

    assert [order.id for order in page] == order_ids[10:20]


async def test_last_page_partial(database: Database, tree, order_ids) -> None:
    async with database.unit_of_work() as uow:
        page = await uow.orders.page_for_customer(tree.customer_id, offset=20, limit=10)

    assert [order.id for order in page] == order_ids[20:]


async def test_page_past_end_empty(database: Database, tree, order_ids) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.orders.page_for_customer(tree.customer_id, offset=30, limit=10) == []


@pytest.mark.parametrize("offset, limit", [(-1, 10), (0, 0)])
async def test_page_bounds_rejected(database: Database, tree, offset, limit) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="offset >= 0 and limit >= 1"):
            await uow.orders.page_for_customer(tree.customer_id, offset=offset, limit=limit)


async def _capture_page_query(database: Database, customer_id: int) -> tuple[str, tuple]:
    captured: list[tuple[str, tuple]] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with database.unit_of_work() as uow:
            await uow.orders.page_for_customer(customer_id, offset=10, limit=10)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    assert len(captured) == 1
    return captured[0]


async def test_page_query_has_limit(database: Database, tree, order_ids) -> None:
    statement, _ = await _capture_page_query(database, tree.customer_id)

    assert "LIMIT" in statement.upper()


async def test_history_query_uses_index(database: Database, tree, order_ids) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite syntax")
    statement, parameters = await _capture_page_query(database, tree.customer_id)

    async with database.engine.connect() as connection:
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        plan = " | ".join(str(row[-1]) for row in result)

    assert "ix_orders_customer_history" in plan
    assert "TEMP B-TREE" not in plan
