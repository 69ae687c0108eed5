"""Running one use case against the configured database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.errors import CommandFailed
from bot.config import Settings
from core.ports import UnitOfWork
from storage.database import display_url

T = TypeVar("T")

UseCase = Callable[[UnitOfWork, datetime], Awaitable[T]]


def run_use_case(settings: Settings, use_case: UseCase[T]) -> T:
    """Create the schema if needed, then run ``use_case`` in a fresh event loop.

    ``use_case`` receives a unit of work and the current UTC time. A
    DomainError from it passes through unchanged. Raises CommandFailed when
    the database cannot be opened or a query fails.
    """
    check_sqlite_directory(settings.database.url)
    try:
        return asyncio.run(_run_with_database(settings, use_case))
    except (SQLAlchemyError, OSError) as error:
        location = display_url(settings.database.url)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CommandFailed(
            f"Database operation on {location} failed: {reason}. "
            "Check database.url and that the database is reachable."
        ) from error


def check_sqlite_directory(url: str) -> None:
    """Raise CommandFailed if the directory of a SQLite database file does not exist.

    SQLite would only report "unable to open database file". Also, aiosqlite
    0.22.1 may then raise "Event loop is closed" in its worker thread, because
    it reports the failed connection to a loop that asyncio.run has closed.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    directory = Path(parsed.database).parent
    if not directory.is_dir():
        raise CommandFailed(
            f"The directory {directory} of the SQLite database does not exist. "
            "Create it, or change database.url."
        )


async def _run_with_database(settings: Settings, use_case: UseCase[T]) -> T:
    # Imported here so that --help and the configuration checks work without
    # loading SQLAlchemy's models.
    from storage.database import Database

    try:
        database = Database(settings.database.url)
    except ImportError as error:
        raise CommandFailed(
            f"The database driver {error.name} is not installed. For PostgreSQL, "
            "install the postgres extra: pip install 'licensebot[postgres]'."
        ) from error
    try:
        await database.create_schema()
        return await use_case(database.unit_of_work(), datetime.now(UTC))
    finally:
        await database.dispose()
