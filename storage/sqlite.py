"""Connection settings that make SQLite safe for concurrent units of work.

SQLAlchemy's documentation for the SQLite dialect (section "Enabling
Non-Legacy SQLite Transactional Modes", SQLAlchemy 2.1) gives the recipe used
here. It switches off the sqlite3 driver's own implicit BEGIN and emits BEGIN
from the engine's "begin" event. This module emits ``BEGIN IMMEDIATE``, which takes
the write lock when the transaction starts. A second writer therefore waits,
for up to the busy timeout, until the first one commits or rolls back. With a
plain deferred BEGIN, both could read under a shared lock, and then one would
fail with "database is locked" when it tries to write.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# How long a transaction waits for another one's write lock before SQLite
# raises "database is locked".
BUSY_TIMEOUT_MS = 30_000


def configure_sqlite_engine(engine: AsyncEngine) -> None:
    """Register the connect and begin hooks on an aiosqlite engine."""
    event.listen(engine.sync_engine, "connect", _on_connect)
    event.listen(engine.sync_engine, "begin", _on_begin)


def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # None switches off the driver's implicit BEGIN, so _on_begin decides how
    # every transaction starts. The PRAGMAs below then run outside a
    # transaction, which journal_mode requires.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _on_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
