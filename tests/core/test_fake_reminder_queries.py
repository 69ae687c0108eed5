"""Checks that the fake repositories behind reminders and expiry keep the rules of
core.ports: dedupe keys, reachability, time ranges, license users and shortages."""

from dataclasses import replace
from datetime import timedelta

import pytest

from core.licenses import License, LicenseState
from core.notifications import NewNotification, NotificationKind
from core.orders import Order, OrderStatus
from core.organisations import Tier
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import CUSTOMER_USER, NOW, UNLINKED_USER, Tree, store_order

MICROSECOND = timedelta(microseconds=1)


def reminder(tree: Tree, key: str | None) -> NewNotification:
    return NewNotification(
        kind=NotificationKind.WINDOW_CLOSING,
        member_id=tree.customer_member.id,
        chat_id=CUSTOMER_USER,
        created_at=NOW,
        timezone="Europe/Berlin",
        dedupe_key=key,
    )


async def add_notification(database: FakeDatabase, notification: NewNotification) -> bool:
    uow = FakeUnitOfWork(database)
    async with uow:
        stored = await uow.notifications.add(notification)
        await uow.commit()
    return stored


# Notification dedupe keys


async def test_fake_dedupe_key_stored_once(database: FakeDatabase, tree: Tree) -> None:
    first = await add_notification(database, reminder(tree, "window_closing:1"))
    second = await add_notification(database, reminder(tree, "window_closing:1"))

    assert first is True
    assert second is False
    assert len(database.committed.notifications) == 1


async def test_fake_dedupe_key_within_one_block(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        first = await uow.notifications.add(reminder(tree, "k"))
        second = await uow.notifications.add(reminder(tree, "k"))
        await uow.commit()

    assert first is True
    assert second is False
    assert len(database.committed.notifications) == 1


async def test_fake_distinct_keys_both_stored(database: FakeDatabase, tree: Tree) -> None:
    await add_notification(database, reminder(tree, "k1"))
    await add_notification(database, reminder(tree, "k2"))

    assert len(database.committed.notifications) == 2


async def test_fake_no_key_never_deduped(database: FakeDatabase, tree: Tree) -> None:
    first = await add_notification(database, reminder(tree, None))
    second = await add_notification(database, reminder(tree, None))

    assert first is True
    assert second is True
    assert len(database.committed.notifications) == 2
    assert database.committed.notification_keys == {}


async def test_fake_dedupe_sees_rival_commit(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)
    rival = FakeUnitOfWork(database)

    async with uow:
        async with rival:
            await rival.notifications.add(reminder(tree, "k"))
            await rival.commit()
        stored = await uow.notifications.add(reminder(tree, "k"))
        await uow.commit()

    assert stored is False
    assert len(database.committed.notifications) == 1


async def test_fake_dedupe_key_freed_by_rollback(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)
    async with uow:
        await uow.notifications.add(reminder(tree, "k"))

    stored = await add_notification(database, reminder(tree, "k"))

    assert stored is True
    assert len(database.committed.notifications) == 1


async def test_fake_notification_keeps_timezone(database: FakeDatabase, tree: Tree) -> None:
    await add_notification(database, reminder(tree, "k"))

    [stored] = database.committed.notifications.values()
    assert stored.timezone == "Europe/Berlin"
    assert database.committed.notification_keys == {"k": stored.id}


# Members and organisations


async def test_fake_set_reachable(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        changed = await uow.members.set_reachable(CUSTOMER_USER, False)
        await uow.commit()

    assert changed is True
    assert database.committed.members[tree.customer_member.id].reachable is False


async def test_fake_set_reachable_non_member(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        changed = await uow.members.set_reachable(UNLINKED_USER, False)
        await uow.commit()

    assert changed is False
    assert all(member.reachable for member in database.committed.members.values())


async def test_fake_new_member_reachable(tree: Tree) -> None:
    assert tree.customer_member.reachable is True


async def test_fake_list_by_tier(uow: FakeUnitOfWork, tree: Tree) -> None:
    async with uow:
        centres = await uow.organisations.list_by_tier(Tier.BUSINESS_CENTRE)
        headquarters = await uow.organisations.list_by_tier(Tier.HEADQUARTERS)

    assert centres == [tree.north, tree.south]
    assert headquarters == [tree.headquarters]


# Time ranges: the start is included, the end is not


async def stored_order(database: FakeDatabase, tree: Tree, po: str, status: OrderStatus) -> Order:
    return await store_order(
        database, customer=tree.customer, member=tree.customer_member, po_number=po, status=status
    )


async def test_fake_window_opened_range(database: FakeDatabase, tree: Tree) -> None:
    order = await stored_order(database, tree, "PO-1", OrderStatus.ON_ORDER)
    uow = FakeUnitOfWork(database)

    async with uow:
        from_start = await uow.orders.list_on_order_window_opened(NOW, NOW + MICROSECOND)
        up_to_end = await uow.orders.list_on_order_window_opened(NOW - timedelta(days=1), NOW)

    assert from_start == [order]
    assert up_to_end == []


async def test_fake_window_opened_only_on_order(database: FakeDatabase, tree: Tree) -> None:
    await stored_order(database, tree, "PO-1", OrderStatus.ISSUED)
    await stored_order(database, tree, "PO-2", OrderStatus.CANCELLED)
    uow = FakeUnitOfWork(database)

    async with uow:
        found = await uow.orders.list_on_order_window_opened(NOW, NOW + timedelta(days=1))

    assert found == []


async def test_fake_window_opened_uses_reopening(database: FakeDatabase, tree: Tree) -> None:
    issued = await stored_order(database, tree, "PO-1", OrderStatus.ISSUED)
    reopened = issued.issuance_cancelled(NOW + timedelta(days=2), timedelta(days=14))
    uow = FakeUnitOfWork(database)
    async with uow:
        await uow.orders.replace(issued, reopened)
        await uow.commit()

    async with uow:
        at_placing = await uow.orders.list_on_order_window_opened(NOW, NOW + timedelta(days=1))
        at_reopening = await uow.orders.list_on_order_window_opened(
            NOW + timedelta(days=2), NOW + timedelta(days=3)
        )

    assert at_placing == []
    assert at_reopening == [reopened]


async def test_fake_issued_between_range(database: FakeDatabase, tree: Tree) -> None:
    order = await stored_order(database, tree, "PO-1", OrderStatus.ISSUED)
    await stored_order(database, tree, "PO-2", OrderStatus.ON_ORDER)
    uow = FakeUnitOfWork(database)

    async with uow:
        from_start = await uow.orders.list_issued_between(NOW, NOW + MICROSECOND)
        up_to_end = await uow.orders.list_issued_between(NOW - timedelta(days=1), NOW)

    assert from_start == [order]
    assert up_to_end == []


async def store_licenses(database: FakeDatabase, licenses: list[License]) -> None:
    uow = FakeUnitOfWork(database)
    async with uow:
        for license in licenses:
            uow.write("licenses", license.id, license)
        await uow.commit()


def assigned_license(tree: Tree, license_id: int, expires_at_offset: timedelta) -> License:
    return License(
        id=license_id,
        state=LicenseState.ASSIGNED,
        dealer_id=tree.north_dealer.id,
        customer_id=tree.customer.id,
        email=f"user{license_id}@example.com",
        assigned_at=NOW - timedelta(days=300),
        expires_at=NOW + expires_at_offset,
    )


async def test_fake_expiring_before_is_exclusive(database: FakeDatabase, tree: Tree) -> None:
    at_end = assigned_license(tree, 1001, timedelta(days=7))
    just_before = assigned_license(tree, 1002, timedelta(days=7) - MICROSECOND)
    await store_licenses(database, [at_end, just_before])
    uow = FakeUnitOfWork(database)

    async with uow:
        found = await uow.licenses.list_assigned_expiring(NOW + timedelta(days=7))

    assert found == [just_before]


async def test_fake_expiring_includes_expired(database: FakeDatabase, tree: Tree) -> None:
    expired = assigned_license(tree, 1001, -timedelta(days=3))
    other_customer = replace(
        assigned_license(tree, 1002, timedelta(days=1)), customer_id=tree.other_customer.id
    )
    await store_licenses(database, [other_customer, expired])
    uow = FakeUnitOfWork(database)

    async with uow:
        found = await uow.licenses.list_assigned_expiring(NOW + timedelta(days=7))

    assert found == [expired, other_customer]


@pytest.mark.parametrize("state", [LicenseState.UNUSED, LicenseState.EXPIRED])
async def test_fake_expiring_only_assigned(
    database: FakeDatabase, tree: Tree, state: LicenseState
) -> None:
    await store_licenses(
        database, [replace(assigned_license(tree, 1001, timedelta(0)), state=state)]
    )
    uow = FakeUnitOfWork(database)

    async with uow:
        found = await uow.licenses.list_assigned_expiring(NOW + timedelta(days=7))

    assert found == []


# License users


async def test_fake_auto_assign_on_by_default(uow: FakeUnitOfWork, tree: Tree) -> None:
    async with uow:
        enabled = await uow.license_users.auto_assign(tree.customer.id, "ana@example.com")

    assert enabled is True


async def test_fake_auto_assign_off_per_customer(
    database: FakeDatabase, uow: FakeUnitOfWork, tree: Tree
) -> None:
    async with uow:
        await uow.license_users.set_auto_assign(tree.customer.id, "ana@example.com", False)
        await uow.commit()

    async with uow:
        same_user = await uow.license_users.auto_assign(tree.customer.id, "ana@example.com")
        other_address = await uow.license_users.auto_assign(tree.customer.id, "ben@example.com")
        other_customer = await uow.license_users.auto_assign(
            tree.other_customer.id, "ana@example.com"
        )

    assert same_user is False
    assert other_address is True
    assert other_customer is True


async def test_fake_auto_assign_back_on(uow: FakeUnitOfWork, tree: Tree) -> None:
    async with uow:
        await uow.license_users.set_auto_assign(tree.customer.id, "ana@example.com", False)
        await uow.license_users.set_auto_assign(tree.customer.id, "ana@example.com", True)
        await uow.commit()

    async with uow:
        enabled = await uow.license_users.auto_assign(tree.customer.id, "ana@example.com")

    assert enabled is True


# Shortages


async def test_fake_shortage_none_at_first(uow: FakeUnitOfWork, tree: Tree) -> None:
    async with uow:
        missing = await uow.shortages.get(tree.customer.id)
        customers = await uow.shortages.list_customers()

    assert missing is None
    assert customers == []


async def test_fake_shortage_set_updates(uow: FakeUnitOfWork, tree: Tree) -> None:
    async with uow:
        await uow.shortages.set(tree.customer.id, 3, NOW)
        await uow.commit()
    async with uow:
        await uow.shortages.set(tree.customer.id, 5, NOW + timedelta(hours=1))
        await uow.commit()

    async with uow:
        missing = await uow.shortages.get(tree.customer.id)
        customers = await uow.shortages.list_customers()

    assert missing == 5
    assert customers == [tree.customer.id]
    assert uow.committed.shortages[tree.customer.id].since == NOW


@pytest.mark.parametrize("missing", [0, -1])
async def test_fake_shortage_rejects_below_one(
    uow: FakeUnitOfWork, tree: Tree, missing: int
) -> None:
    async with uow:
        with pytest.raises(ValueError, match="missing number >= 1"):
            await uow.shortages.set(tree.customer.id, missing, NOW)


async def test_fake_shortage_clear_commits(
    database: FakeDatabase, uow: FakeUnitOfWork, tree: Tree
) -> None:
    async with uow:
        await uow.shortages.set(tree.customer.id, 3, NOW)
        await uow.shortages.set(tree.other_customer.id, 1, NOW)
        await uow.commit()

    async with uow:
        await uow.shortages.clear(tree.customer.id)
        await uow.commit()

    assert list(database.committed.shortages) == [tree.other_customer.id]


async def test_fake_shortage_clear_rolls_back(
    database: FakeDatabase, uow: FakeUnitOfWork, tree: Tree
) -> None:
    async with uow:
        await uow.shortages.set(tree.customer.id, 3, NOW)
        await uow.commit()

    async with uow:
        await uow.shortages.clear(tree.customer.id)

    assert list(database.committed.shortages) == [tree.customer.id]
