"""Fixtures for the storage tests: a fresh database and a small organisation tree.

The tests use a SQLite file under tmp_path. Set LICENSEBOT_TEST_DATABASE_URL
to a postgresql+asyncpg URL to run them on PostgreSQL instead. Every test
then drops and recreates all tables in that database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from core.orders import NewOrder
from core.organisations import Tier
from storage import Database, sqlite_url

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CUSTOMER_TELEGRAM_ID = 5_000_000_001  # larger than 2**32, so it needs a 64-bit column


@dataclass(frozen=True)
class Tree:
    """Ids of a headquarters → business centre → dealer → customer chain and its member."""

    hq_id: int
    centre_id: int
    dealer_id: int
    customer_id: int
    member_id: int
    member_telegram_user_id: int


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = os.environ.get("LICENSEBOT_TEST_DATABASE_URL") or sqlite_url(tmp_path / "test.db")
    database = Database(url)
    try:
        if database.engine.dialect.name != "sqlite":
            async with database.engine.begin() as connection:
                await connection.run_sync(SQLModel.metadata.drop_all)
        await database.create_schema()
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def tree(database: Database) -> Tree:
    async with database.unit_of_work() as uow:
        hq = await uow.organisations.add(
            name="Vendor HQ",
            tier=Tier.HEADQUARTERS,
            parent_id=None,
            timezone="UTC",
            dealer_id=None,
        )
        centre = await uow.organisations.add(
            name="Centre North",
            tier=Tier.BUSINESS_CENTRE,
            parent_id=hq.id,
            timezone="Europe/Berlin",
            dealer_id=None,
        )
        dealer = await uow.organisations.add(
            name="Dealer One",
            tier=Tier.DEALER,
            parent_id=centre.id,
            timezone="Europe/Berlin",
            dealer_id=None,
        )
        customer = await uow.organisations.add(
            name="Clinic Ost",
            tier=Tier.CUSTOMER,
            parent_id=dealer.id,
            timezone="Europe/Berlin",
            dealer_id=dealer.id,
        )
        member = await uow.members.add(
            telegram_user_id=CUSTOMER_TELEGRAM_ID, organisation_id=customer.id, name="Ana", now=NOW
        )
        await uow.commit()
    return Tree(
        hq_id=hq.id,
        centre_id=centre.id,
        dealer_id=dealer.id,
        customer_id=customer.id,
        member_id=member.id,
        member_telegram_user_id=member.telegram_user_id,
    )


NewOrderFactory = Callable[..., NewOrder]


@pytest.fixture
def new_order(tree: Tree) -> NewOrderFactory:
    """Return a function that builds an unsaved order of the tree's customer."""

    def build(po_number: str, ordered_at: datetime = NOW, quantity: int = 2) -> NewOrder:
        return NewOrder(
            customer_id=tree.customer_id,
            dealer_id=tree.dealer_id,
            po_number=po_number,
            quantity=quantity,
            ordered_at=ordered_at,
            placed_by_member_id=tree.member_id,
        )

    return build
