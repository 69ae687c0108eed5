"""The scans behind reminders: windows opened, issues and expiries in a time range.

Each range is [after, before), so the rows exactly at ``after`` are in and the
rows exactly at ``before`` are out.
"""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from core.licenses import License, LicenseState
from core.orders import Order, OrderStatus
from core.organisations import Tier
from storage import Database

AFTER = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BEFORE = AFTER + timedelta(hours=1)
TICK = timedelta(microseconds=1)

# Moments around the range, and whether each is inside it.
BOUNDARIES = [
    (AFTER - TICK, False),
    (AFTER, True),
    (BEFORE - TICK, True),
    (BEFORE, False),
]


async def _add_orders(database: Database, new_order, moments: list[datetime]) -> list[Order]:
    async with database.unit_of_work() as uow:
        orders = [
            await uow.orders.add(new_order(f"PO-{number}", ordered_at=moment))
            for number, moment in enumerate(moments)
        ]
        await uow.commit()
    return orders


async def _change(database: Database, orders: list[Order], **changes) -> list[Order]:
    changed = [replace(order, version=order.version + 1, **changes) for order in orders]
    async with database.unit_of_work() as uow:
        for order, new in zip(orders, changed, strict=True):
            await uow.orders.replace(order, new)
        await uow.commit()
    return changed


async def _issue_at(database: Database, orders: list[Order], moments: list[datetime]):
    issued = [
        replace(order, status=OrderStatus.ISSUED, issued_at=moment, version=order.version + 1)
        for order, moment in zip(orders, moments, strict=True)
    ]
    async with database.unit_of_work() as uow:
        for order, new in zip(orders, issued, strict=True):
            await uow.orders.replace(order, new)
        await uow.commit()
    return issued


async def test_window_opened_boundaries(database: Database, new_order) -> None:
    moments = [moment for moment, _ in BOUNDARIES]
    orders = await _add_orders(database, new_order, moments)

    async with database.unit_of_work() as uow:
        found = await uow.orders.list_on_order_window_opened(AFTER, BEFORE)

    expected = [order.id for order, (_, inside) in zip(orders, BOUNDARIES, strict=True) if inside]
    assert [order.id for order in found] == expected


async def test_window_opened_after_reopening(database: Database, new_order) -> None:
    # An order placed long before the range whose issuance was cancelled
    # inside it has a new cancel window, which the scan must see.
    (order,) = await _add_orders(database, new_order, [AFTER - timedelta(days=30)])
    await _change(database, [order], window_opened_at=AFTER)

    async with database.unit_of_work() as uow:
        found = await uow.orders.list_on_order_window_opened(AFTER, BEFORE)

    assert [item.id for item in found] == [order.id]


async def test_window_opened_skips_other_status(database: Database, new_order) -> None:
    cancelled, issued = await _add_orders(database, new_order, [AFTER, AFTER])
    await _change(database, [cancelled], status=OrderStatus.CANCELLED, cancelled_at=AFTER)
    await _issue_at(database, [issued], [AFTER])

    async with database.unit_of_work() as uow:
        found = await uow.orders.list_on_order_window_opened(AFTER, BEFORE)

    assert found == []


async def test_window_opened_oldest_first(database: Database, new_order) -> None:
    later, earlier = await _add_orders(database, new_order, [AFTER + TICK, AFTER])

    async with database.unit_of_work() as uow:
        found = await uow.orders.list_on_order_window_opened(AFTER, BEFORE)

    assert [order.id for order in found] == [earlier.id, later.id]


async def test_issued_between_boundaries(database: Database, new_order) -> None:
    moments = [moment for moment, _ in BOUNDARIES]
    # Placed well before the range, so only the issue date decides.
    orders = await _add_orders(database, new_order, [AFTER - timedelta(days=1)] * len(moments))
    issued = await _issue_at(database, orders, moments)

    async with database.unit_of_work() as uow:
        found = await uow.orders.list_issued_between(AFTER, BEFORE)

    expected = [order for order, (_, inside) in zip(issued, BOUNDARIES, strict=True) if inside]
    assert found == expected


async def test_issued_between_skips_on_order(database: Database, new_order) -> None:
    # On order, with a window that opened in the range, but not issued.
    await _add_orders(database, new_order, [AFTER])

    async with database.unit_of_work() as uow:
        found = await uow.orders.list_issued_between(AFTER, BEFORE)

    assert found == []


async def _assigned_licenses(database: Database, tree, expiries: list[datetime]) -> list[License]:
    async with database.unit_of_work() as uow:
        fresh = [await uow.licenses.add_to_inventory(tree.customer_id) for _ in expiries]
        assigned = [
            replace(
                license,
                state=LicenseState.ASSIGNED,
                email=f"user{number}@example.com",
                assigned_at=AFTER - timedelta(days=365),
                expires_at=expires_at,
                version=license.version + 1,
            )
            for number, (license, expires_at) in enumerate(zip(fresh, expiries, strict=True))
        ]
        await uow.licenses.move(fresh, assigned)
        await uow.commit()
    return assigned


async def test_expiring_before_boundary(database: Database, tree) -> None:
    assigned = await _assigned_licenses(
        database, tree, [BEFORE - TICK, BEFORE, AFTER - timedelta(days=2)]
    )

    async with database.unit_of_work() as uow:
        found = await uow.licenses.list_assigned_expiring(BEFORE)

    # Soonest expiry first. An expired license whose expiry was not processed is included.
    assert [license.id for license in found] == [assigned[2].id, assigned[0].id]


async def test_expiring_skips_processed(database: Database, tree) -> None:
    (assigned,) = await _assigned_licenses(database, tree, [AFTER])
    expired = replace(assigned, state=LicenseState.EXPIRED, version=assigned.version + 1)
    async with database.unit_of_work() as uow:
        await uow.licenses.move([assigned], [expired])
        await uow.commit()

    async with database.unit_of_work() as uow:
        found = await uow.licenses.list_assigned_expiring(BEFORE)

    assert found == []


async def test_expiring_skips_reusable(database: Database, tree) -> None:
    (assigned,) = await _assigned_licenses(database, tree, [AFTER])
    async with database.unit_of_work() as uow:
        await uow.licenses.move([assigned], [assigned.unassigned()])
        await uow.commit()

    async with database.unit_of_work() as uow:
        found = await uow.licenses.list_assigned_expiring(BEFORE)

    assert found == []


async def test_expiring_across_customers(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        other = await uow.organisations.add(
            name="Clinic West",
            tier=Tier.CUSTOMER,
            parent_id=tree.dealer_id,
            timezone="UTC",
            dealer_id=tree.dealer_id,
        )
        await uow.commit()
    (mine,) = await _assigned_licenses(database, tree, [AFTER + TICK])
    async with database.unit_of_work() as uow:
        fresh = await uow.licenses.add_to_inventory(other.id)
        theirs = replace(
            fresh,
            state=LicenseState.ASSIGNED,
            email="bo@example.com",
            assigned_at=AFTER,
            expires_at=AFTER,
            version=fresh.version + 1,
        )
        await uow.licenses.move([fresh], [theirs])
        await uow.commit()

    async with database.unit_of_work() as uow:
        found = await uow.licenses.list_assigned_expiring(BEFORE)

    assert [license.id for license in found] == [theirs.id, mine.id]


async def test_list_by_tier(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        second_hq = await uow.organisations.add(
            name="Vendor HQ Two",
            tier=Tier.HEADQUARTERS,
            parent_id=None,
            timezone="UTC",
            dealer_id=None,
        )
        await uow.commit()

    async with database.unit_of_work() as uow:
        headquarters = await uow.organisations.list_by_tier(Tier.HEADQUARTERS)
        centres = await uow.organisations.list_by_tier(Tier.BUSINESS_CENTRE)
        distributors = await uow.organisations.list_by_tier(Tier.DISTRIBUTOR)

    assert [item.id for item in headquarters] == [tree.hq_id, second_hq.id]
    assert [item.id for item in centres] == [tree.centre_id]
    assert distributors == []


SCANS: dict[str, tuple[Callable[..., Awaitable[object]], str]] = {
    "window_opened": (
        lambda uow: uow.orders.list_on_order_window_opened(AFTER, BEFORE),
        "ix_orders_status_window_opened",
    ),
    "issued": (
        lambda uow: uow.orders.list_issued_between(AFTER, BEFORE),
        "ix_orders_status_issued",
    ),
    "expiring": (
        lambda uow: uow.licenses.list_assigned_expiring(BEFORE),
        "ix_licenses_state_expiry",
    ),
}


@pytest.mark.parametrize("scan", SCANS)
async def test_scan_uses_index(database: Database, tree, scan: str) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite syntax")
    run, index_name = SCANS[scan]
    captured: list[tuple[str, tuple]] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with database.unit_of_work() as uow:
            await run(uow)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    ((statement, parameters),) = captured
    async with database.engine.connect() as connection:
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        plan = " | ".join(str(row[-1]) for row in result)

    assert index_name in plan
    assert "TEMP B-TREE" not in plan
