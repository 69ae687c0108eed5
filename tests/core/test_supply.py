"""Operator commands that bring licenses in: dealer stock and license card keys."""

import pytest

from core.cards import normalise_key
from core.errors import InvalidInput, InvalidOrganisation, NotFound
from core.use_cases.supply import (
    MAX_CARDS_PER_RUN,
    MAX_STOCK_ADDITION,
    add_stock,
    generate_cards,
)
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import NOW, Tree
from tests.core.steps import stock_of

# add_stock


async def test_add_stock_returns_level(database: FakeDatabase, tree: Tree) -> None:
    first = await add_stock(FakeUnitOfWork(database), dealer_name="North Dealer", count=3, now=NOW)
    second = await add_stock(
        FakeUnitOfWork(database), dealer_name="North Dealer", count=4, now=NOW
    )

    assert first == 3
    assert second == 7
    assert len(stock_of(database, tree.north_dealer)) == 7


async def test_add_stock_fresh_licenses(database: FakeDatabase, tree: Tree) -> None:
    await add_stock(FakeUnitOfWork(database), dealer_name="North Dealer", count=2, now=NOW)

    added = stock_of(database, tree.north_dealer)
    assert all(license.customer_id is None for license in added)
    assert all(license.order_id is None for license in added)
    assert all(license.expires_at is None for license in added)


async def test_add_stock_name_any_case(database: FakeDatabase, tree: Tree) -> None:
    await add_stock(FakeUnitOfWork(database), dealer_name="  north dealer ", count=1, now=NOW)

    assert len(stock_of(database, tree.north_dealer)) == 1


async def test_add_stock_records_audit(database: FakeDatabase, tree: Tree) -> None:
    await add_stock(FakeUnitOfWork(database), dealer_name="North Dealer", count=2, now=NOW)
    await add_stock(FakeUnitOfWork(database), dealer_name="North Dealer", count=5, now=NOW)

    entry = database.committed.audit[-1]
    assert entry.action == "stock.added"
    assert entry.entity == "organisation"
    assert entry.entity_id == tree.north_dealer.id
    assert entry.actor_member_id is None
    assert entry.before == {"stock": 2}
    assert entry.after == {"stock": 7}


async def test_add_stock_maximum(database: FakeDatabase, tree: Tree) -> None:
    level = await add_stock(
        FakeUnitOfWork(database), dealer_name="North Dealer", count=MAX_STOCK_ADDITION, now=NOW
    )

    assert level == MAX_STOCK_ADDITION


@pytest.mark.parametrize("count", [0, -1, MAX_STOCK_ADDITION + 1])
async def test_add_stock_count_out_of_range(
    database: FakeDatabase, tree: Tree, count: int
) -> None:
    uow = FakeUnitOfWork(database)

    with pytest.raises(InvalidInput, match=f"from 1 to {MAX_STOCK_ADDITION}, not {count}"):
        await add_stock(uow, dealer_name="North Dealer", count=count, now=NOW)

    assert uow.block_count == 0


@pytest.mark.parametrize("name", ["Acme Clinic", "North Centre", "Headquarters"])
async def test_add_stock_to_non_dealer(database: FakeDatabase, tree: Tree, name: str) -> None:
    with pytest.raises(InvalidOrganisation, match="only dealers hold stock"):
        await add_stock(FakeUnitOfWork(database), dealer_name=name, count=1, now=NOW)

    assert database.committed.licenses == {}


async def test_add_stock_unknown_dealer(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotFound, match="No organisation is named 'Nowhere Dealer'"):
        await add_stock(FakeUnitOfWork(database), dealer_name="Nowhere Dealer", count=1, now=NOW)


# generate_cards


async def test_generate_cards_stores_keys(database: FakeDatabase) -> None:
    keys = await generate_cards(FakeUnitOfWork(database), count=5, now=NOW)

    assert len(keys) == 5
    assert set(database.committed.cards) == {key.replace("-", "") for key in keys}
    assert all(card.activated_at is None for card in database.committed.cards.values())
    assert all(card.created_at == NOW for card in database.committed.cards.values())


async def test_generate_cards_valid_keys(database: FakeDatabase) -> None:
    keys = await generate_cards(FakeUnitOfWork(database), count=50, now=NOW)

    assert all(normalise_key(key) == key.replace("-", "") for key in keys)


async def test_generate_cards_maximum(database: FakeDatabase) -> None:
    keys = await generate_cards(FakeUnitOfWork(database), count=MAX_CARDS_PER_RUN, now=NOW)

    assert len(set(keys)) == MAX_CARDS_PER_RUN


@pytest.mark.parametrize("count", [0, -3, MAX_CARDS_PER_RUN + 1])
async def test_generate_cards_count_out_of_range(database: FakeDatabase, count: int) -> None:
    uow = FakeUnitOfWork(database)

    with pytest.raises(InvalidInput, match=f"keys must be from 1 to {MAX_CARDS_PER_RUN}"):
        await generate_cards(uow, count=count, now=NOW)

    assert database.committed.cards == {}
