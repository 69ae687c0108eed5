from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from core.errors import ConcurrentChange
from core.licenses import License, LicenseState
from storage import Database

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def _stock(database: Database, dealer_id: int, count: int) -> list[License]:
    async with database.unit_of_work() as uow:
        await uow.licenses.add_to_stock(dealer_id, count)
        taken = await uow.licenses.take_from_stock(dealer_id, count)
        await uow.commit()
    return taken


def _to_customer(license: License, customer_id: int) -> License:
    return replace(
        license, state=LicenseState.UNUSED, customer_id=customer_id, version=license.version + 1
    )


async def _inventory(database: Database, tree, count: int) -> list[License]:
    """Add ``count`` fresh unused licenses to the tree's customer, oldest first."""
    async with database.unit_of_work() as uow:
        added = [await uow.licenses.add_to_inventory(tree.customer_id) for _ in range(count)]
        await uow.commit()
    return added


async def _store(database: Database, licenses: list[License], changed: list[License]) -> None:
    async with database.unit_of_work() as uow:
        await uow.licenses.move(licenses, changed)
        await uow.commit()


async def _assign(database: Database, license: License, email: str, expires_at: datetime):
    assigned = replace(
        license,
        state=LicenseState.ASSIGNED,
        email=email,
        assigned_at=NOW,
        expires_at=expires_at,
        version=license.version + 1,
    )
    await _store(database, [license], [assigned])
    return assigned


async def _make_reusable(database: Database, license: License, expires_at: datetime) -> License:
    assigned = await _assign(database, license, f"user{license.id}@example.com", expires_at)
    unassigned = assigned.unassigned()
    await _store(database, [assigned], [unassigned])
    return unassigned


async def test_add_to_stock_counts(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        await uow.licenses.add_to_stock(tree.dealer_id, 7)
        await uow.licenses.add_to_stock(tree.dealer_id, 0)
        await uow.commit()
    async with database.unit_of_work() as uow:
        assert await uow.licenses.count_in_stock(tree.dealer_id) == 7
        assert await uow.licenses.count_in_stock(tree.customer_id) == 0


async def test_add_to_stock_large(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        await uow.licenses.add_to_stock(tree.dealer_id, 25_001)
        await uow.commit()
    async with database.unit_of_work() as uow:
        assert await uow.licenses.count_in_stock(tree.dealer_id) == 25_001


async def test_add_to_stock_negative_rejected(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match=">= 0"):
            await uow.licenses.add_to_stock(tree.dealer_id, -1)


async def test_take_from_stock_state(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        await uow.licenses.add_to_stock(tree.dealer_id, 3)
        taken = await uow.licenses.take_from_stock(tree.dealer_id, 1)

    assert len(taken) == 1
    assert taken[0].state is LicenseState.IN_STOCK
    assert taken[0].dealer_id == tree.dealer_id
    assert taken[0].customer_id is None
    assert taken[0].version == 1


@pytest.mark.parametrize(
    ("stock", "count", "expected"), [(5, 3, 3), (5, 5, 5), (2, 5, 2), (0, 1, 0)]
)
async def test_take_from_stock_at_most_count(
    database: Database, tree, stock: int, count: int, expected: int
) -> None:
    async with database.unit_of_work() as uow:
        await uow.licenses.add_to_stock(tree.dealer_id, stock)
        taken = await uow.licenses.take_from_stock(tree.dealer_id, count)

    assert len(taken) == expected


async def test_take_from_stock_oldest_first(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        await uow.licenses.add_to_stock(tree.dealer_id, 4)
        everything = await uow.licenses.take_from_stock(tree.dealer_id, 4)
        first_two = await uow.licenses.take_from_stock(tree.dealer_id, 2)

    assert [license.id for license in first_two] == [license.id for license in everything[:2]]


async def test_take_from_stock_skips_moved(database: Database, tree) -> None:
    taken = await _stock(database, tree.dealer_id, 3)
    await _store(
        database, taken[:2], [_to_customer(license, tree.customer_id) for license in taken[:2]]
    )

    async with database.unit_of_work() as uow:
        left = await uow.licenses.take_from_stock(tree.dealer_id, 3)
        in_stock = await uow.licenses.count_in_stock(tree.dealer_id)

    assert [license.id for license in left] == [taken[2].id]
    assert in_stock == 1


async def test_move_round_trip(database: Database, tree, new_order) -> None:
    async with database.unit_of_work() as uow:
        order = await uow.orders.add(new_order("PO-1"))
        await uow.commit()
    taken = await _stock(database, tree.dealer_id, 2)
    moved = [
        replace(_to_customer(license, tree.customer_id), order_id=order.id) for license in taken
    ]
    await _store(database, taken, moved)

    async with database.unit_of_work() as uow:
        stored = await uow.licenses.list_for_order(order.id)
        in_stock = await uow.licenses.count_in_stock(tree.dealer_id)

    assert stored == moved
    assert in_stock == 0


async def test_move_keeps_assignment_fields(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    expires_at = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assigned = await _assign(database, license, "ana@example.com", expires_at)

    async with database.unit_of_work() as uow:
        stored = await uow.licenses.get(license.id)

    assert stored == assigned
    assert stored.expires_at.tzinfo is not None


async def test_move_stale_version_raises(database: Database, tree) -> None:
    taken = await _stock(database, tree.dealer_id, 3)
    first = [_to_customer(license, tree.customer_id) for license in taken]
    await _store(database, [taken[1]], [first[1]])

    async with database.unit_of_work() as uow:
        with pytest.raises(ConcurrentChange, match="1 of these 3 licenses"):
            await uow.licenses.move(taken, first)


async def test_move_stale_changes_nothing(database: Database, tree) -> None:
    taken = await _stock(database, tree.dealer_id, 3)
    moved = [_to_customer(license, tree.customer_id) for license in taken]
    await _store(database, [taken[2]], [moved[2]])

    # The unit of work goes on and commits after the refused move, so only
    # the savepoint inside move() can have undone the first two rows.
    async with database.unit_of_work() as uow:
        with pytest.raises(ConcurrentChange):
            await uow.licenses.move(taken, moved)
        await uow.commit()
    async with database.unit_of_work() as uow:
        stored = [await uow.licenses.get(license.id) for license in taken]

    assert stored[:2] == taken[:2]
    assert stored[2] == moved[2]


async def test_move_missing_license_raises(database: Database, tree) -> None:
    ghost = License(
        id=999_999, state=LicenseState.IN_STOCK, dealer_id=tree.dealer_id, customer_id=None
    )

    async with database.unit_of_work() as uow:
        with pytest.raises(ConcurrentChange):
            await uow.licenses.move([ghost], [_to_customer(ghost, tree.customer_id)])


async def test_move_thousand_licenses(database: Database, tree) -> None:
    taken = await _stock(database, tree.dealer_id, 1_000)
    moved = [_to_customer(license, tree.customer_id) for license in taken]
    await _store(database, taken, moved)

    async with database.unit_of_work() as uow:
        in_stock = await uow.licenses.count_in_stock(tree.dealer_id)
        unused, assigned = await uow.licenses.count_inventory(tree.customer_id, NOW)
        sample = await uow.licenses.get(taken[999].id)

    assert in_stock == 0
    assert unused == 1_000
    assert assigned == 0
    assert sample == moved[999]


async def test_move_thousand_one_stale(database: Database, tree) -> None:
    taken = await _stock(database, tree.dealer_id, 1_000)
    moved = [_to_customer(license, tree.customer_id) for license in taken]
    await _store(database, [taken[500]], [moved[500]])

    async with database.unit_of_work() as uow:
        with pytest.raises(ConcurrentChange, match="1 of these 1000"):
            await uow.licenses.move(taken, moved)
        await uow.commit()
    async with database.unit_of_work() as uow:
        in_stock = await uow.licenses.count_in_stock(tree.dealer_id)

    assert in_stock == 999


async def test_move_empty_is_noop(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await uow.licenses.move([], [])


async def test_move_length_mismatch_rejected(database: Database, tree) -> None:
    taken = await _stock(database, tree.dealer_id, 2)

    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="one changed license per license"):
            await uow.licenses.move(taken, [_to_customer(taken[0], tree.customer_id)])


async def test_move_other_id_rejected(database: Database, tree) -> None:
    taken = await _stock(database, tree.dealer_id, 2)
    swapped = [_to_customer(taken[1], tree.customer_id)]

    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="cannot become"):
            await uow.licenses.move([taken[0]], swapped)


@pytest.mark.parametrize("version", [1, 3])
async def test_move_wrong_version_rejected(database: Database, tree, version: int) -> None:
    (license,) = await _stock(database, tree.dealer_id, 1)
    changed = replace(_to_customer(license, tree.customer_id), version=version)

    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="must have version 2"):
            await uow.licenses.move([license], [changed])


async def test_move_duplicate_rejected(database: Database, tree) -> None:
    (license,) = await _stock(database, tree.dealer_id, 1)
    changed = _to_customer(license, tree.customer_id)

    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="given twice"):
            await uow.licenses.move([license, license], [changed, changed])


async def test_add_to_inventory_round_trip(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)

    async with database.unit_of_work() as uow:
        stored = await uow.licenses.get(license.id)

    assert stored == license
    assert stored.state is LicenseState.UNUSED
    assert stored.customer_id == tree.customer_id
    assert stored.order_id is None


async def test_get_missing_is_none(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.licenses.get(12345) is None


async def test_count_inventory(database: Database, tree) -> None:
    _fresh, reusable, expired, assigned = await _inventory(database, tree, 4)
    await _make_reusable(database, reusable, NOW + timedelta(days=30))
    await _make_reusable(database, expired, NOW)
    await _assign(database, assigned, "ana@example.com", NOW + timedelta(days=300))
    await _stock(database, tree.dealer_id, 5)

    async with database.unit_of_work() as uow:
        counts = await uow.licenses.count_inventory(tree.customer_id, NOW)

    # The license that expires exactly at NOW no longer counts.
    assert counts == (2, 1)


async def test_count_inventory_counts_expired_assigned(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    await _assign(database, license, "ana@example.com", NOW - timedelta(days=1))

    async with database.unit_of_work() as uow:
        counts = await uow.licenses.count_inventory(tree.customer_id, NOW)

    assert counts == (0, 1)


async def test_pick_prefers_latest_reusable(database: Database, tree) -> None:
    _fresh, soon, late = await _inventory(database, tree, 3)
    await _make_reusable(database, soon, NOW + timedelta(days=10))
    await _make_reusable(database, late, NOW + timedelta(days=200))

    async with database.unit_of_work() as uow:
        picked = await uow.licenses.pick_assignable(tree.customer_id, NOW)

    assert picked.id == late.id
    assert picked.reusable


async def test_pick_fresh_oldest_first(database: Database, tree) -> None:
    first, _second = await _inventory(database, tree, 2)

    async with database.unit_of_work() as uow:
        picked = await uow.licenses.pick_assignable(tree.customer_id, NOW)

    assert picked == first


async def test_pick_skips_expired(database: Database, tree) -> None:
    expired, fresh = await _inventory(database, tree, 2)
    await _make_reusable(database, expired, NOW)

    async with database.unit_of_work() as uow:
        picked = await uow.licenses.pick_assignable(tree.customer_id, NOW)

    assert picked.id == fresh.id


async def test_pick_skips_assigned_and_stock(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    await _assign(database, license, "ana@example.com", NOW + timedelta(days=300))
    await _stock(database, tree.dealer_id, 2)

    async with database.unit_of_work() as uow:
        assert await uow.licenses.pick_assignable(tree.customer_id, NOW) is None


async def test_pick_only_expired_is_none(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    await _make_reusable(database, license, NOW - timedelta(seconds=1))

    async with database.unit_of_work() as uow:
        assert await uow.licenses.pick_assignable(tree.customer_id, NOW) is None


async def test_page_assigned_soonest_first(database: Database, tree) -> None:
    licenses = await _inventory(database, tree, 4)
    expiries = [NOW + timedelta(days=days) for days in (50, 10, 10, 30)]
    for number, (license, expires_at) in enumerate(zip(licenses, expiries, strict=True)):
        await _assign(database, license, f"user{number}@example.com", expires_at)

    async with database.unit_of_work() as uow:
        first = await uow.licenses.page_assigned(tree.customer_id, offset=0, limit=3)
        second = await uow.licenses.page_assigned(tree.customer_id, offset=3, limit=3)

    ids = [license.id for license in licenses]
    assert [license.id for license in first] == [ids[1], ids[2], ids[3]]
    assert [license.id for license in second] == [ids[0]]


async def test_page_assigned_bad_page_rejected(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="offset >= 0"):
            await uow.licenses.page_assigned(tree.customer_id, offset=0, limit=0)


async def test_find_assigned_latest_expiry(database: Database, tree) -> None:
    old, new, other = await _inventory(database, tree, 3)
    await _assign(database, old, "ana@example.com", NOW - timedelta(days=5))
    await _assign(database, new, "ana@example.com", NOW + timedelta(days=360))
    await _assign(database, other, "bo@example.com", NOW + timedelta(days=400))

    async with database.unit_of_work() as uow:
        found = await uow.licenses.find_assigned(tree.customer_id, "ana@example.com")

    assert found.id == new.id


async def test_find_assigned_ignores_unassigned(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    await _make_reusable(database, license, NOW + timedelta(days=30))

    async with database.unit_of_work() as uow:
        found = await uow.licenses.find_assigned(tree.customer_id, f"user{license.id}@example.com")

    assert found is None


async def test_find_assigned_other_customer(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    await _assign(database, license, "ana@example.com", NOW + timedelta(days=30))

    async with database.unit_of_work() as uow:
        found = await uow.licenses.find_assigned(tree.dealer_id, "ana@example.com")

    assert found is None


async def test_assigned_without_email_rejected(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    broken = replace(
        license,
        state=LicenseState.ASSIGNED,
        expires_at=NOW + timedelta(days=1),
        version=license.version + 1,
    )

    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError, match="ck_licenses_assignment"):
            await uow.licenses.move([license], [broken])


async def test_stock_with_customer_rejected(database: Database, tree) -> None:
    (license,) = await _stock(database, tree.dealer_id, 1)
    broken = replace(license, customer_id=tree.customer_id, version=license.version + 1)

    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError, match="ck_licenses_owner"):
            await uow.licenses.move([license], [broken])


async def test_expired_round_trip(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    assigned = await _assign(database, license, "ana@example.com", NOW)
    expired = replace(assigned, state=LicenseState.EXPIRED, version=assigned.version + 1)

    await _store(database, [assigned], [expired])
    async with database.unit_of_work() as uow:
        stored = await uow.licenses.get(license.id)

    assert stored == expired


async def test_expired_not_assignable(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    assigned = await _assign(database, license, "ana@example.com", NOW + timedelta(days=1))
    expired = replace(assigned, state=LicenseState.EXPIRED, version=assigned.version + 1)
    await _store(database, [assigned], [expired])

    async with database.unit_of_work() as uow:
        picked = await uow.licenses.pick_assignable(tree.customer_id, NOW)
        found = await uow.licenses.find_assigned(tree.customer_id, "ana@example.com")
        counts = await uow.licenses.count_inventory(tree.customer_id, NOW)

    assert picked is None
    assert found is None
    assert counts == (0, 0)


async def test_expired_without_email_rejected(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    assigned = await _assign(database, license, "ana@example.com", NOW)
    broken = replace(
        assigned, state=LicenseState.EXPIRED, email=None, version=assigned.version + 1
    )

    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError, match="ck_licenses_assignment"):
            await uow.licenses.move([assigned], [broken])


async def test_expired_without_customer_rejected(database: Database, tree) -> None:
    (license,) = await _inventory(database, tree, 1)
    assigned = await _assign(database, license, "ana@example.com", NOW)
    broken = replace(
        assigned, state=LicenseState.EXPIRED, customer_id=None, version=assigned.version + 1
    )

    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError, match="ck_licenses_owner"):
            await uow.licenses.move([assigned], [broken])
