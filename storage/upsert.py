"""INSERT ... ON CONFLICT for the two supported databases.

SQLAlchemy builds ON CONFLICT only through the dialect's own ``insert()``,
and the SQLite and PostgreSQL ones take the same arguments for
``on_conflict_do_nothing`` and ``on_conflict_do_update``.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """Return an INSERT into ``table`` that supports ON CONFLICT on the session's database.

    Raises NotImplementedError for a database other than SQLite or PostgreSQL.
    """
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(
        f"INSERT ... ON CONFLICT is built only for SQLite and PostgreSQL, not for {name}."
    )
