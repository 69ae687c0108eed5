"""Per-user auto-assign settings: on unless turned off, per customer and address."""

from core.organisations import Tier
from storage import Database

EMAIL = "ana@example.com"


async def _set(database: Database, customer_id: int, email: str, enabled: bool) -> None:
    async with database.unit_of_work() as uow:
        await uow.license_users.set_auto_assign(customer_id, email, enabled)
        await uow.commit()


async def _get(database: Database, customer_id: int, email: str = EMAIL) -> bool:
    async with database.unit_of_work() as uow:
        return await uow.license_users.auto_assign(customer_id, email)


async def test_auto_assign_on_by_default(database: Database, tree) -> None:
    assert await _get(database, tree.customer_id) is True


async def test_auto_assign_turned_off(database: Database, tree) -> None:
    await _set(database, tree.customer_id, EMAIL, False)

    assert await _get(database, tree.customer_id) is False


async def test_auto_assign_turned_on_again(database: Database, tree) -> None:
    await _set(database, tree.customer_id, EMAIL, False)
    await _set(database, tree.customer_id, EMAIL, True)

    assert await _get(database, tree.customer_id) is True


async def test_auto_assign_set_twice_same(database: Database, tree) -> None:
    await _set(database, tree.customer_id, EMAIL, False)
    await _set(database, tree.customer_id, EMAIL, False)

    assert await _get(database, tree.customer_id) is False


async def test_auto_assign_per_address(database: Database, tree) -> None:
    await _set(database, tree.customer_id, EMAIL, False)

    assert await _get(database, tree.customer_id, "bo@example.com") is True


async def test_auto_assign_per_customer(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        other = await uow.organisations.add(
            name="Clinic West",
            tier=Tier.CUSTOMER,
            parent_id=tree.dealer_id,
            timezone="UTC",
            dealer_id=tree.dealer_id,
        )
        await uow.commit()
    await _set(database, tree.customer_id, EMAIL, False)

    assert await _get(database, other.id) is True


async def test_auto_assign_rolled_back(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        await uow.license_users.set_auto_assign(tree.customer_id, EMAIL, False)

    assert await _get(database, tree.customer_id) is True
