"""The database connection of the bot: engine, schema and units of work."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel

from storage import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.sqlite import configure_sqlite_engine
from storage.unit_of_work import SqlUnitOfWork

_IN_MEMORY_SQLITE_NAMES = frozenset({"", ":memory:"})


def sqlite_url(path: Path) -> str:
    """Return the aiosqlite URL of the SQLite database file at ``path``."""
    return URL.create("sqlite+aiosqlite", database=str(path)).render_as_string()


class Database:
    """An async engine and the units of work that share its connection pool.

    Supported URLs are ``sqlite+aiosqlite:///FILE`` and
    ``postgresql+asyncpg://USER:PASSWORD@HOST/NAME``. The constructor only
    builds the engine, and the first connection opens on first use.

    On SQLite every transaction, even a read-only one, starts with BEGIN
    IMMEDIATE and so waits for any other open transaction to end. So never
    nest units of work on SQLite, because the inner one would wait for the
    outer one's lock for the whole busy timeout and then fail with "database
    is locked".
    """

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        if is_sqlite and (parsed.database or "") in _IN_MEMORY_SQLITE_NAMES:
            raise ValueError(
                "An in-memory SQLite database is not supported, because all its "
                "sessions share one connection and so one transaction. Use a file "
                "URL such as sqlite+aiosqlite:///licensebot.db."
            )
        self._engine = create_async_engine(parsed, pool_pre_ping=not is_sqlite)
        if is_sqlite:
            configure_sqlite_engine(self._engine)
        self._session_factory = async_sessionmaker(self._engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        """The connection URL with any password masked as ``***``."""
        return display_url(self._engine.url)

    @property
    def engine(self) -> AsyncEngine:
        """The underlying SQLAlchemy engine, for tools and health checks."""
        return self._engine

    async def create_schema(self) -> None:
        """Create the tables and indexes that do not exist yet.

        NOTE: a table that exists already is left as it is, so a column added
        to it later (such as notifications.dedupe_key or members.reachable)
        is missing from a database created before. No migration tool adds it.
        """
        async with self._engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)

    def unit_of_work(self) -> SqlUnitOfWork:
        """Return a new unit of work, which opens its session only when entered."""
        return SqlUnitOfWork(self._session_factory)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url!r})"


def display_url(url: str | URL) -> str:
    """Return ``url`` fit for logs and messages: passwords masked, in either spelling.

    asyncpg also reads a password from the ``password`` query parameter,
    which SQLAlchemy's own masking leaves as it is.
    """
    parsed = make_url(url)
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True)
