"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# Dialects whose timestamp type takes aware datetimes, such as PostgreSQL's
# timestamptz. Every other dialect gets naive UTC, because SQLAlchemy's SQLite
# DATETIME writes only the wall-clock fields and would silently drop the offset.
_OFFSET_AWARE_DIALECTS = frozenset({"postgresql"})


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back as a timezone-aware UTC datetime.

    Writing a naive datetime raises ValueError, because its zone is unknown.
    SQLAlchemy wraps that ValueError in ``sqlalchemy.exc.StatementError`` when
    the value is bound while a statement runs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"Expected a datetime, got {type(value).__name__}: {value!r}.")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"Naive datetime {value.isoformat()} has no time zone, so its UTC "
                "time is unknown. Pass an aware datetime such as datetime.now(UTC)."
            )
        utc_value = value.astimezone(UTC)
        if dialect.name in _OFFSET_AWARE_DIALECTS:
            return utc_value
        return utc_value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
