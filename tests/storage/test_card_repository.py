import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage import Database

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KEY = "7K2QM4XP9T3BR8WQ"


async def _add_card(database: Database, key: str = KEY) -> None:
    async with database.unit_of_work() as uow:
        await uow.cards.add(key, NOW)
        await uow.commit()


async def _activate(database: Database, customer_id: int, key: str = KEY) -> bool:
    async with database.unit_of_work() as uow:
        activated = await uow.cards.activate(key, customer_id, NOW + timedelta(days=1))
        await uow.commit()
    return activated


async def test_exists_after_add(database: Database) -> None:
    await _add_card(database)

    async with database.unit_of_work() as uow:
        assert await uow.cards.exists(KEY)
        assert not await uow.cards.exists("0000000000000000")


async def test_duplicate_key_rejected(database: Database) -> None:
    await _add_card(database)

    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError):
            await uow.cards.add(KEY, NOW)


async def test_activate_once(database: Database, tree) -> None:
    await _add_card(database)

    first = await _activate(database, tree.customer_id)
    second = await _activate(database, tree.customer_id)

    assert first is True
    assert second is False


async def test_activate_unknown_key(database: Database, tree) -> None:
    assert await _activate(database, tree.customer_id, "0000000000000000") is False


async def test_activate_rolled_back(database: Database, tree) -> None:
    await _add_card(database)
    async with database.unit_of_work() as uow:
        assert await uow.cards.activate(KEY, tree.customer_id, NOW)

    assert await _activate(database, tree.customer_id) is True


async def test_concurrent_activate_one_wins(database: Database, tree) -> None:
    await _add_card(database)

    async def activate() -> bool:
        async with database.unit_of_work() as uow:
            activated = await uow.cards.activate(KEY, tree.customer_id, NOW)
            await asyncio.sleep(0.01)
            await uow.commit()
        return activated

    results = await asyncio.gather(*(activate() for _ in range(4)))

    assert sorted(results) == [False, False, False, True]


async def test_failures_since_oldest_first(database: Database, tree) -> None:
    times = [NOW + timedelta(minutes=minutes) for minutes in (5, 1, 3)]
    async with database.unit_of_work() as uow:
        for moment in times:
            await uow.key_attempts.add_failure(tree.member_id, moment)
        await uow.commit()

    async with database.unit_of_work() as uow:
        failures = await uow.key_attempts.failures_since(tree.member_id, NOW)

    assert failures == sorted(times)


async def test_failures_since_excludes_boundary(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        await uow.key_attempts.add_failure(tree.member_id, NOW)
        await uow.key_attempts.add_failure(tree.member_id, NOW + timedelta(seconds=1))
        await uow.commit()

    async with database.unit_of_work() as uow:
        failures = await uow.key_attempts.failures_since(tree.member_id, NOW)

    assert failures == [NOW + timedelta(seconds=1)]


async def test_failures_since_per_member(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        other = await uow.members.add(
            telegram_user_id=7_000_000_001, organisation_id=tree.customer_id, name="Bo", now=NOW
        )
        await uow.key_attempts.add_failure(other.id, NOW + timedelta(minutes=1))
        await uow.commit()

    async with database.unit_of_work() as uow:
        failures = await uow.key_attempts.failures_since(tree.member_id, NOW)

    assert failures == []
