import pytest
from sqlalchemy.exc import IntegrityError

from core.errors import InvalidOrganisation, NotFound
from core.organisations import Tier
from storage import Database


async def test_name_unique_any_case(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(InvalidOrganisation, match="'Dealer One'"):
            await uow.organisations.add(
                name="DEALER one",
                tier=Tier.DEALER,
                parent_id=tree.centre_id,
                timezone="UTC",
                dealer_id=None,
            )


async def test_name_clash_keeps_transaction(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(InvalidOrganisation):
            await uow.organisations.add(
                name="dealer one",
                tier=Tier.DEALER,
                parent_id=tree.centre_id,
                timezone="UTC",
                dealer_id=None,
            )
        other = await uow.organisations.add(
            name="Dealer Two",
            tier=Tier.DEALER,
            parent_id=tree.centre_id,
            timezone="UTC",
            dealer_id=None,
        )
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.organisations.get(other.id) == other


async def test_get_by_name_ignores_case(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        found = await uow.organisations.get_by_name("  clinic   OST ")

    assert found is not None
    assert found.id == tree.customer_id


@pytest.mark.parametrize("name", ["", "   ", "x" * 500])
async def test_get_by_invalid_name_is_none(database: Database, name: str) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.organisations.get_by_name(name) is None


async def test_get_maps_fields(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        customer = await uow.organisations.get(tree.customer_id)

    assert customer is not None
    assert customer.name == "Clinic Ost"
    assert customer.tier is Tier.CUSTOMER
    assert customer.parent_id == tree.dealer_id
    assert customer.timezone == "Europe/Berlin"
    assert customer.dealer_id == tree.dealer_id


async def test_get_missing_is_none(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.organisations.get(999) is None


async def test_list_children_oldest_first(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        second = await uow.organisations.add(
            name="A Dealer",
            tier=Tier.DEALER,
            parent_id=tree.centre_id,
            timezone="UTC",
            dealer_id=None,
        )
        await uow.commit()
    async with database.unit_of_work() as uow:
        children = await uow.organisations.list_children(tree.centre_id)

    assert [child.id for child in children] == [tree.dealer_id, second.id]


async def test_set_dealer(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        other = await uow.organisations.add(
            name="Dealer Two",
            tier=Tier.DEALER,
            parent_id=tree.centre_id,
            timezone="UTC",
            dealer_id=None,
        )
        await uow.organisations.set_dealer(tree.customer_id, other.id)
        await uow.commit()
    async with database.unit_of_work() as uow:
        customer = await uow.organisations.get(tree.customer_id)

    assert customer is not None
    assert customer.dealer_id == other.id


async def test_set_dealer_missing_customer(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(NotFound, match="Organisation 999"):
            await uow.organisations.set_dealer(999, tree.dealer_id)


async def test_unknown_parent_rejected(database: Database) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(IntegrityError):
            await uow.organisations.add(
                name="Orphan",
                tier=Tier.BUSINESS_CENTRE,
                parent_id=999,
                timezone="UTC",
                dealer_id=None,
            )


async def test_add_normalises_name(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        added = await uow.organisations.add(
            name="  Dealer   Two ",
            tier=Tier.DEALER,
            parent_id=tree.centre_id,
            timezone="UTC",
            dealer_id=None,
        )

    assert added.name == "Dealer Two"
