import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from core.organisations import Tier
from storage import Database, sqlite_url


def test_sqlite_url_absolute_path() -> None:
    assert (
        sqlite_url(Path("/srv/bot/licensebot.db")) == "sqlite+aiosqlite:////srv/bot/licensebot.db"
    )


def test_sqlite_url_relative_path() -> None:
    assert sqlite_url(Path("licensebot.db")) == "sqlite+aiosqlite:///licensebot.db"


async def test_url_hides_password() -> None:
    database = Database("postgresql+asyncpg://bot:s3cret@127.0.0.1:5432/licensebot")
    try:
        shown = database.url
    finally:
        await database.dispose()

    assert "s3cret" not in shown
    assert shown == "postgresql+asyncpg://bot:***@127.0.0.1:5432/licensebot"


async def test_repr_hides_password() -> None:
    database = Database("postgresql+asyncpg://bot:s3cret@127.0.0.1:5432/licensebot")
    try:
        shown = repr(database)
    finally:
        await database.dispose()

    assert "s3cret" not in shown


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
def test_in_memory_sqlite_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="in-memory"):
        Database(url)


async def test_create_schema_idempotent(database: Database) -> None:
    await database.create_schema()

    async with database.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())

    assert set(names) >= {
        "organisations",
        "members",
        "invites",
        "orders",
        "audit_entries",
        "licenses",
        "license_cards",
        "key_attempts",
        "notifications",
    }


async def _pragma(database: Database, name: str) -> object:
    async with database.engine.connect() as connection:
        result = await connection.exec_driver_sql(f"PRAGMA {name}")
        return result.scalar_one()


async def test_sqlite_foreign_keys_on(database: Database) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite PRAGMA")
    assert await _pragma(database, "foreign_keys") == 1


async def test_sqlite_journal_mode_wal(database: Database) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite PRAGMA")
    assert await _pragma(database, "journal_mode") == "wal"


async def test_sqlite_busy_timeout(database: Database) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite PRAGMA")
    assert await _pragma(database, "busy_timeout") == 30_000


async def test_concurrent_writers_serialise(database: Database) -> None:
    """Read-then-write transactions wait for each other instead of failing.

    With SQLite's deferred BEGIN, each would read under a shared lock and
    all but one would get "database is locked" when upgrading to write.
    """
    async with database.unit_of_work() as uow:
        hq = await uow.organisations.add(
            name="HQ", tier=Tier.HEADQUARTERS, parent_id=None, timezone="UTC", dealer_id=None
        )
        await uow.commit()

    async def add_centre(number: int) -> None:
        async with database.unit_of_work() as uow:
            await uow.organisations.list_children(hq.id)
            await asyncio.sleep(0.01)
            await uow.organisations.add(
                name=f"Centre {number}",
                tier=Tier.BUSINESS_CENTRE,
                parent_id=hq.id,
                timezone="UTC",
                dealer_id=None,
            )
            await uow.commit()

    await asyncio.gather(*(add_centre(number) for number in range(5)))

    async with database.unit_of_work() as uow:
        children = await uow.organisations.list_children(hq.id)
    assert len(children) == 5


def test_display_url_masks_query_password() -> None:
    from storage.database import display_url

    shown = display_url("postgresql+asyncpg://lb@127.0.0.1:5432/db?password=QUERYSECRET")

    assert "QUERYSECRET" not in shown


def test_display_url_masks_user_password() -> None:
    from storage.database import display_url

    shown = display_url("postgresql+asyncpg://lb:USERSECRET@127.0.0.1:5432/db")

    assert "USERSECRET" not in shown
