"""SQL storage of licensebot: the SQLModel implementation of ``core.ports``.

``Database`` wraps an async SQLAlchemy engine and hands out units of work.
SQLite through aiosqlite is the default backend, and PostgreSQL through
asyncpg is supported too.
"""

from storage.database import Database, sqlite_url

__all__ = ["Database", "sqlite_url"]
