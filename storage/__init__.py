"""SQL storage of licensebot: the SQLModel implementation of ``core.ports``.

``Database`` wraps an async SQLAlchemy engine and hands out units of work.
SQLite through aiosqlite is the default backend, and PostgreSQL through
asyncpg is supported too. ``Outbox`` is the dispatcher's side of the
notifications that the use cases add.
"""

from storage.database import Database, sqlite_url
from storage.outbox import Outbox

__all__ = ["Database", "Outbox", "sqlite_url"]
