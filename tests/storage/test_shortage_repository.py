"""The shortage each customer was last warned about: recorded, updated, cleared."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.organisations import Tier
from storage import Database
from storage.tables import ShortageRow

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def _set(database: Database, customer_id: int, missing: int, now: datetime = NOW) -> None:
    async with database.unit_of_work() as uow:
        await uow.shortages.set(customer_id, missing, now)
        await uow.commit()


async def _since(database: Database, customer_id: int) -> datetime:
    table = ShortageRow.__table__
    async with database.engine.connect() as connection:
        statement = select(table.c.since).where(table.c.customer_id == customer_id)
        return (await connection.execute(statement)).scalar_one()


async def test_get_none_recorded(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.shortages.get(tree.customer_id) is None


async def test_set_then_get(database: Database, tree) -> None:
    await _set(database, tree.customer_id, 3)

    async with database.unit_of_work() as uow:
        missing = await uow.shortages.get(tree.customer_id)

    assert missing == 3
    assert await _since(database, tree.customer_id) == NOW


async def test_set_again_updates(database: Database, tree) -> None:
    await _set(database, tree.customer_id, 3)
    await _set(database, tree.customer_id, 5, NOW + timedelta(days=1))

    async with database.unit_of_work() as uow:
        missing = await uow.shortages.get(tree.customer_id)
        customers = await uow.shortages.list_customers()

    assert missing == 5
    assert customers == [tree.customer_id]
    # The shortage still started when it was first recorded.
    assert await _since(database, tree.customer_id) == NOW


async def test_clear(database: Database, tree) -> None:
    await _set(database, tree.customer_id, 3)

    async with database.unit_of_work() as uow:
        await uow.shortages.clear(tree.customer_id)
        await uow.commit()
    async with database.unit_of_work() as uow:
        missing = await uow.shortages.get(tree.customer_id)
        customers = await uow.shortages.list_customers()

    assert missing is None
    assert customers == []


async def test_clear_none_recorded(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        await uow.shortages.clear(tree.customer_id)
        await uow.commit()
    async with database.unit_of_work() as uow:
        assert await uow.shortages.list_customers() == []


async def test_set_after_clear(database: Database, tree) -> None:
    later = NOW + timedelta(days=2)
    await _set(database, tree.customer_id, 3)
    async with database.unit_of_work() as uow:
        await uow.shortages.clear(tree.customer_id)
        await uow.commit()

    await _set(database, tree.customer_id, 1, later)

    async with database.unit_of_work() as uow:
        assert await uow.shortages.get(tree.customer_id) == 1
    assert await _since(database, tree.customer_id) == later


async def test_list_customers_ascending(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        other = await uow.organisations.add(
            name="Clinic West",
            tier=Tier.CUSTOMER,
            parent_id=tree.dealer_id,
            timezone="UTC",
            dealer_id=tree.dealer_id,
        )
        await uow.commit()
    await _set(database, other.id, 2)
    await _set(database, tree.customer_id, 1)

    async with database.unit_of_work() as uow:
        customers = await uow.shortages.list_customers()

    assert customers == sorted([tree.customer_id, other.id])


@pytest.mark.parametrize("missing", [0, -1])
async def test_set_not_missing_rejected(database: Database, tree, missing: int) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError, match="ck_shortages_missing"):
            await uow.shortages.set(tree.customer_id, missing, NOW)


async def test_unknown_customer_rejected(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError):
            await uow.shortages.set(999_999, 1, NOW)
