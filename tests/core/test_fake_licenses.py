"""Checks that the fake license, card, key attempt and notification repositories keep
the rules of their SQL counterparts, which the use-case tests rely on."""

from dataclasses import replace
from datetime import timedelta

import pytest

from core.errors import ConcurrentChange
from core.licenses import License, LicenseState
from core.notifications import NewNotification, NotificationKind
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import NOW, Tree


async def stocked(database: FakeDatabase, tree: Tree, count: int) -> list[License]:
    uow = FakeUnitOfWork(database)
    async with uow:
        await uow.licenses.add_to_stock(tree.north_dealer.id, count)
        await uow.commit()
    return sorted(database.committed.licenses.values(), key=lambda license: license.id)


def to_customer(license: License, tree: Tree, **changes: object) -> License:
    return replace(
        license,
        state=LicenseState.UNUSED,
        customer_id=tree.customer.id,
        version=license.version + 1,
        **changes,
    )


async def test_fake_take_returns_at_most_count(database: FakeDatabase, tree: Tree) -> None:
    await stocked(database, tree, 3)
    uow = FakeUnitOfWork(database)

    async with uow:
        two = await uow.licenses.take_from_stock(tree.north_dealer.id, 2)
        all_of_them = await uow.licenses.take_from_stock(tree.north_dealer.id, 5)
        from_empty_stock = await uow.licenses.take_from_stock(tree.south_dealer.id, 5)

    assert len(two) == 2
    assert len(all_of_them) == 3
    assert from_empty_stock == []


async def test_fake_take_lowest_id_first(database: FakeDatabase, tree: Tree) -> None:
    licenses = await stocked(database, tree, 3)
    uow = FakeUnitOfWork(database)

    async with uow:
        taken = await uow.licenses.take_from_stock(tree.north_dealer.id, 2)

    assert taken == licenses[:2]


async def test_fake_move_stale_version(database: FakeDatabase, tree: Tree) -> None:
    [license] = await stocked(database, tree, 1)
    first = FakeUnitOfWork(database)
    second = FakeUnitOfWork(database)

    async with first, second:
        await first.licenses.move([license], [to_customer(license, tree)])
        await first.commit()
        with pytest.raises(ConcurrentChange):
            await second.licenses.move([license], [to_customer(license, tree, order_id=9)])

    assert database.committed.licenses[license.id].order_id is None


async def test_fake_move_all_or_nothing(database: FakeDatabase, tree: Tree) -> None:
    licenses = await stocked(database, tree, 2)
    stale = replace(licenses[1], version=0)
    uow = FakeUnitOfWork(database)

    async with uow:
        with pytest.raises(ConcurrentChange):
            await uow.licenses.move(
                [licenses[0], stale], [to_customer(licenses[0], tree), to_customer(stale, tree)]
            )
        assert await uow.licenses.get(licenses[0].id) == licenses[0]


async def test_fake_move_rejects_version_jump(database: FakeDatabase, tree: Tree) -> None:
    [license] = await stocked(database, tree, 1)
    uow = FakeUnitOfWork(database)

    async with uow:
        with pytest.raises(ValueError, match="expected version 2"):
            await uow.licenses.move([license], [replace(license, version=3)])


async def test_fake_move_rejects_twice(database: FakeDatabase, tree: Tree) -> None:
    [license] = await stocked(database, tree, 1)
    changed = to_customer(license, tree)
    uow = FakeUnitOfWork(database)

    async with uow:
        with pytest.raises(ValueError, match="given twice"):
            await uow.licenses.move([license, license], [changed, changed])


async def test_fake_licenses_roll_back(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        await uow.licenses.add_to_stock(tree.north_dealer.id, 3)
        assert await uow.licenses.count_in_stock(tree.north_dealer.id) == 3

    assert database.committed.licenses == {}


async def put_in_inventory(
    database: FakeDatabase, tree: Tree, expiries: list[timedelta | None]
) -> list[License]:
    """Store unused licenses of Acme Clinic, reusable with NOW + expiry, or fresh for None."""
    uow = FakeUnitOfWork(database)
    stored = []
    async with uow:
        for expiry in expiries:
            license = await uow.licenses.add_to_inventory(tree.customer.id)
            if expiry is not None:
                changed = replace(license, expires_at=NOW + expiry, version=2)
                await uow.licenses.move([license], [changed])
                license = changed
            stored.append(license)
        await uow.commit()
    return stored


async def test_fake_pick_reusable_latest_expiry(database: FakeDatabase, tree: Tree) -> None:
    fresh, early, late = await put_in_inventory(
        database, tree, [None, timedelta(days=10), timedelta(days=20)]
    )
    uow = FakeUnitOfWork(database)

    async with uow:
        picked = await uow.licenses.pick_assignable(tree.customer.id, NOW)

    assert picked == late
    assert fresh.expires_at is None
    assert early.expires_at is not None


async def test_fake_pick_fresh_after_expired(database: FakeDatabase, tree: Tree) -> None:
    _expired, fresh_one, fresh_two = await put_in_inventory(
        database, tree, [timedelta(0), None, None]
    )
    uow = FakeUnitOfWork(database)

    async with uow:
        picked = await uow.licenses.pick_assignable(tree.customer.id, NOW)
        counts = await uow.licenses.count_inventory(tree.customer.id, NOW)

    assert picked == fresh_one
    assert fresh_two.id > fresh_one.id
    assert counts == (2, 0)


async def test_fake_pick_none(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        assert await uow.licenses.pick_assignable(tree.customer.id, NOW) is None


async def test_fake_card_activated_once(database: FakeDatabase, tree: Tree) -> None:
    first = FakeUnitOfWork(database)
    second = FakeUnitOfWork(database)
    async with first:
        await first.cards.add("KEY", NOW)
        await first.commit()

    async with first, second:
        assert await first.cards.activate("KEY", tree.customer.id, NOW)
        await first.commit()
        assert not await second.cards.activate("KEY", tree.other_customer.id, NOW)

    assert database.committed.cards["KEY"].customer_id == tree.customer.id


async def test_fake_card_unknown(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        assert not await uow.cards.activate("NOPE", tree.customer.id, NOW)
        assert not await uow.cards.exists("NOPE")


async def test_fake_card_key_unique(database: FakeDatabase) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        await uow.cards.add("KEY", NOW)
        with pytest.raises(ValueError, match="already stored"):
            await uow.cards.add("KEY", NOW)


async def test_fake_failures_after_since(database: FakeDatabase, tree: Tree) -> None:
    member_id = tree.customer_member.id
    uow = FakeUnitOfWork(database)
    async with uow:
        await uow.key_attempts.add_failure(member_id, NOW + timedelta(seconds=2))
        await uow.key_attempts.add_failure(member_id, NOW)
        await uow.key_attempts.add_failure(tree.dealer_member.id, NOW + timedelta(seconds=1))
        await uow.commit()

    async with uow:
        since_before = await uow.key_attempts.failures_since(member_id, NOW - timedelta(seconds=1))
        since_first = await uow.key_attempts.failures_since(member_id, NOW)

    assert since_before == [NOW, NOW + timedelta(seconds=2)]
    assert since_first == [NOW + timedelta(seconds=2)]


async def test_fake_notification_by_message(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)
    async with uow:
        await uow.notifications.add(
            NewNotification(
                kind=NotificationKind.ORDER_PLACED,
                member_id=tree.dealer_member.id,
                chat_id=77,
                created_at=NOW,
                order_id=5,
            )
        )
        await uow.commit()
    [stored] = database.committed.notifications.values()

    async with uow:
        before_sending = await uow.notifications.get_by_message(77, 900)
        await uow.notifications.record_sent(stored.id, 900, NOW)
        after_sending = await uow.notifications.get_by_message(77, 900)
        other_chat = await uow.notifications.get_by_message(78, 900)

    assert before_sending is None
    assert after_sending is not None
    assert after_sending.order_id == 5
    assert other_chat is None


async def test_fake_notification_payload_is_json(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        with pytest.raises(TypeError):
            await uow.notifications.add(
                NewNotification(
                    kind=NotificationKind.ORDER_PLACED,
                    member_id=tree.dealer_member.id,
                    chat_id=77,
                    created_at=NOW,
                    payload={"at": NOW},
                )
            )
