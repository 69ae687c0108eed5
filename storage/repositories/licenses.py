"""Licenses table access: dealer stock, customer inventory, and moves between them.

This repository runs Core statements on the table instead of loading ORM
objects. ``move`` changes many rows in one bulk UPDATE, which the session's
identity map would not see, so ORM objects loaded earlier could be stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Table, bindparam, case, func, insert, literal, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.errors import ConcurrentChange
from core.licenses import License, LicenseState
from storage.tables import LicenseRow
from storage.types import UtcDateTime

_LICENSES: Table = LicenseRow.__table__  # type: ignore[assignment]

# Licenses per executemany() of the UPDATE on SQLite, which bounds the
# parameter list in memory.
_EXECUTEMANY_MOVE_CHUNK = 10_000

# The values of one moved license, as names and types of the array parameters
# of move() on PostgreSQL. _moved_values returns them in this order.
_MOVED_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", Integer()),
    ("old_version", Integer()),
    ("state", String()),
    ("dealer_id", Integer()),
    ("customer_id", Integer()),
    ("order_id", Integer()),
    ("email", String()),
    ("assigned_at", UtcDateTime()),
    ("expires_at", UtcDateTime()),
    ("version", Integer()),
)

# The columns that move() sets: all but the id and the expected version.
_SET_COLUMNS = tuple(name for name, _ in _MOVED_COLUMNS if name not in ("id", "old_version"))


class SqlLicenseRepository:
    """Implements ``core.ports.LicenseRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_to_stock(self, dealer_id: int, count: int) -> None:
        """Insert ``count`` licenses into the dealer's stock with one INSERT ... SELECT.

        A recursive CTE counts from 1 to ``count`` in the database, so no
        parameter list grows with ``count``.
        """
        if count < 0:
            raise ValueError(f"Expected a count >= 0, got {count}.")
        if count == 0:
            return
        numbers = select(literal(1).label("n")).cte("numbers", recursive=True)
        numbers = numbers.union_all(select(numbers.c.n + 1).where(numbers.c.n < count))
        new_rows = select(
            literal(LicenseState.IN_STOCK.value), literal(dealer_id), literal(1)
        ).select_from(numbers)
        statement = insert(_LICENSES).from_select(["state", "dealer_id", "version"], new_rows)
        await self._session.execute(statement)

    async def count_in_stock(self, dealer_id: int) -> int:
        statement = (
            select(func.count())
            .select_from(_LICENSES)
            .where(
                _LICENSES.c.dealer_id == dealer_id,
                _LICENSES.c.state == LicenseState.IN_STOCK.value,
            )
        )
        return (await self._session.execute(statement)).scalar_one()

    async def take_from_stock(self, dealer_id: int, count: int) -> list[License]:
        """Return up to ``count`` licenses of the dealer's stock, the oldest first.

        On PostgreSQL the rows stay locked until the transaction ends, and
        rows locked by another transaction are skipped, so two issuances of
        one dealer take different licenses. Returns fewer than ``count`` when
        the stock is short, or when other transactions have locked the rest. SQLite
        ignores FOR UPDATE, but BEGIN IMMEDIATE lets only one transaction in
        at a time there.
        """
        if count < 0:
            raise ValueError(f"Expected a count >= 0, got {count}.")
        if count == 0:
            return []
        statement = (
            select(_LICENSES)
            .where(
                _LICENSES.c.dealer_id == dealer_id,
                _LICENSES.c.state == LicenseState.IN_STOCK.value,
            )
            .order_by(_LICENSES.c.id)
            .limit(count)
            .with_for_update(skip_locked=True)
        )
        return await self._fetch(statement)

    async def move(self, licenses: Sequence[License], changed: Sequence[License]) -> None:
        """Store each changed license if the stored one is still at its version.

        ``changed[i]`` is the new state of ``licenses[i]``. Raises
        ConcurrentChange, and changes none of them, when another request
        changed any of them first. Raises ValueError when the two lists do
        not pair up: different lengths, a different id, a version that does
        not grow by exactly one, or an id given twice.
        """
        _check_moves(licenses, changed)
        if not licenses:
            return
        # The savepoint undoes the rows already changed when a later one fails.
        async with self._session.begin_nested():
            connection = await self._session.connection()
            if connection.dialect.name == "postgresql":
                updated = await _move_on_postgresql(connection, licenses, changed)
            else:
                updated = await _move_by_executemany(connection, licenses, changed)
            if updated != len(licenses):
                raise ConcurrentChange(
                    f"Someone else changed {len(licenses) - updated} of these "
                    f"{len(licenses)} licenses at the same moment, so nothing was changed. "
                    "Look at them again and retry."
                )

    async def add_to_inventory(self, customer_id: int) -> License:
        """Insert one unused license into a customer's inventory, as from a license card."""
        statement = insert(_LICENSES).values(
            state=LicenseState.UNUSED.value, customer_id=customer_id, version=1
        )
        result = await self._session.execute(statement)
        (license_id,) = result.inserted_primary_key
        return License(
            id=license_id, state=LicenseState.UNUSED, dealer_id=None, customer_id=customer_id
        )

    async def list_for_order(self, order_id: int) -> list[License]:
        """Return the licenses that the order's issuance brought to the customer, by id."""
        statement = (
            select(_LICENSES).where(_LICENSES.c.order_id == order_id).order_by(_LICENSES.c.id)
        )
        return await self._fetch(statement)

    async def get(self, license_id: int) -> License | None:
        statement = select(_LICENSES).where(_LICENSES.c.id == license_id)
        row = (await self._session.execute(statement)).mappings().one_or_none()
        return _to_license(row) if row else None

    async def count_inventory(self, customer_id: int, now: datetime) -> tuple[int, int]:
        """Return the numbers of assignable (unused, not expired) and assigned licenses.

        An assigned license counts as assigned even after it has expired.
        """
        assignable = (_LICENSES.c.state == LicenseState.UNUSED.value) & _not_expired(now)
        assigned = _LICENSES.c.state == LicenseState.ASSIGNED.value
        statement = select(func.count().filter(assignable), func.count().filter(assigned)).where(
            _LICENSES.c.customer_id == customer_id
        )
        unused_count, assigned_count = (await self._session.execute(statement)).one()
        return unused_count, assigned_count

    async def page_assigned(self, customer_id: int, *, offset: int, limit: int) -> list[License]:
        """Return at most ``limit`` assigned licenses after the first ``offset``.

        The soonest expiry comes first, and licenses that expire at the same
        moment come in id order, so pages never overlap or skip one.
        """
        if offset < 0 or limit < 1:
            raise ValueError(f"Expected offset >= 0 and limit >= 1, got {offset} and {limit}.")
        statement = (
            select(_LICENSES)
            .where(
                _LICENSES.c.customer_id == customer_id,
                _LICENSES.c.state == LicenseState.ASSIGNED.value,
            )
            .order_by(_LICENSES.c.expires_at, _LICENSES.c.id)
            .offset(offset)
            .limit(limit)
        )
        return await self._fetch(statement)

    async def pick_assignable(self, customer_id: int, now: datetime) -> License | None:
        """Return the unused, unexpired license to assign next, or None.

        A reusable license (one that has an expiry) comes first, the one that
        expires last before the others. Then come fresh licenses, the oldest
        first. On PostgreSQL a license locked by another transaction is skipped.
        """
        fresh_last = case((_LICENSES.c.expires_at.is_(None), 1), else_=0)
        statement = (
            select(_LICENSES)
            .where(
                _LICENSES.c.customer_id == customer_id,
                _LICENSES.c.state == LicenseState.UNUSED.value,
                _not_expired(now),
            )
            .order_by(fresh_last, _LICENSES.c.expires_at.desc(), _LICENSES.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        licenses = await self._fetch(statement)
        return licenses[0] if licenses else None

    async def find_assigned(self, customer_id: int, email: str) -> License | None:
        """Return the license assigned to ``email`` that expires last, expired or not.

        ``email`` is compared exactly, so pass it in the normal form of
        ``core.licenses.normalise_email``.
        """
        statement = (
            select(_LICENSES)
            .where(
                _LICENSES.c.customer_id == customer_id,
                _LICENSES.c.state == LicenseState.ASSIGNED.value,
                _LICENSES.c.email == email,
            )
            .order_by(_LICENSES.c.expires_at.desc(), _LICENSES.c.id.desc())
            .limit(1)
        )
        licenses = await self._fetch(statement)
        return licenses[0] if licenses else None

    async def list_assigned_expiring(self, before: datetime) -> list[License]:
        """Return assigned licenses of every customer that expire before ``before``.

        The soonest expiry comes first, then the lowest id. Licenses that have
        expired but are still assigned, because their expiry was not processed
        yet, are included. Expired (processed) licenses are not.
        """
        statement = (
            select(_LICENSES)
            .where(
                _LICENSES.c.state == LicenseState.ASSIGNED.value,
                _LICENSES.c.expires_at < before,
            )
            .order_by(_LICENSES.c.expires_at, _LICENSES.c.id)
        )
        return await self._fetch(statement)

    async def _fetch(self, statement: Any) -> list[License]:
        rows = (await self._session.execute(statement)).mappings()
        return [_to_license(row) for row in rows]


async def _move_by_executemany(
    connection: AsyncConnection, licenses: Sequence[License], changed: Sequence[License]
) -> int:
    # sqlite3 adds up the rows changed by every parameter set of an
    # executemany(), so rowcount covers a whole chunk. SQLAlchemy reports
    # this as supports_sane_multi_rowcount, which the asyncpg dialect lacks.
    if not connection.dialect.supports_sane_multi_rowcount:
        raise RuntimeError(
            f"The {connection.dialect.name} driver does not report the rows changed "
            "by executemany(), so the version check of move() cannot run on it."
        )
    statement = (
        sql_update(_LICENSES)
        .where(
            _LICENSES.c.id == bindparam("b_id"),
            _LICENSES.c.version == bindparam("b_old_version"),
        )
        .values(
            state=bindparam("b_state"),
            dealer_id=bindparam("b_dealer_id"),
            customer_id=bindparam("b_customer_id"),
            order_id=bindparam("b_order_id"),
            email=bindparam("b_email"),
            assigned_at=bindparam("b_assigned_at", type_=UtcDateTime),
            expires_at=bindparam("b_expires_at", type_=UtcDateTime),
            version=bindparam("b_version"),
        )
    )
    pairs = list(zip(licenses, changed, strict=True))
    updated = 0
    for start in range(0, len(pairs), _EXECUTEMANY_MOVE_CHUNK):
        parameters = [
            {f"b_{name}": value for name, value in _moved_values(old, new).items()}
            for old, new in pairs[start : start + _EXECUTEMANY_MOVE_CHUNK]
        ]
        result = await connection.execute(statement, parameters)
        updated += result.rowcount
    return updated


async def _move_on_postgresql(
    connection: AsyncConnection, licenses: Sequence[License], changed: Sequence[License]
) -> int:
    # asyncpg's executemany() reports no row count. So one UPDATE ... FROM
    # unnest(...) takes each column of the moved licenses as one array
    # parameter, and its row count covers them all.
    columns: dict[str, list[Any]] = {name: [] for name, _ in _MOVED_COLUMNS}
    for old, new in zip(licenses, changed, strict=True):
        for name, value in _moved_values(old, new).items():
            columns[name].append(value)
    moved = (
        func.unnest(
            *(
                bindparam(f"b_{name}", value=columns[name], type_=ARRAY(column_type))
                for name, column_type in _MOVED_COLUMNS
            )
        )
        .table_valued(*(name for name, _ in _MOVED_COLUMNS))
        .render_derived(name="moved")
    )
    statement = (
        sql_update(_LICENSES)
        .where(_LICENSES.c.id == moved.c.id, _LICENSES.c.version == moved.c.old_version)
        .values({name: moved.c[name] for name in _SET_COLUMNS})
    )
    result = await connection.execute(statement)
    return result.rowcount


def _not_expired(now: datetime) -> Any:
    return _LICENSES.c.expires_at.is_(None) | (_LICENSES.c.expires_at > now)


def _moved_values(old: License, new: License) -> dict[str, Any]:
    """Return the values of one moved license, keyed and ordered as ``_MOVED_COLUMNS``."""
    return {
        "id": old.id,
        "old_version": old.version,
        "state": new.state.value,
        "dealer_id": new.dealer_id,
        "customer_id": new.customer_id,
        "order_id": new.order_id,
        "email": new.email,
        "assigned_at": new.assigned_at,
        "expires_at": new.expires_at,
        "version": new.version,
    }


def _check_moves(licenses: Sequence[License], changed: Sequence[License]) -> None:
    if len(licenses) != len(changed):
        raise ValueError(
            f"Expected one changed license per license, got {len(changed)} for {len(licenses)}."
        )
    seen: set[int] = set()
    for old, new in zip(licenses, changed, strict=True):
        if new.id != old.id:
            raise ValueError(f"License {old.id} cannot become license {new.id}.")
        if new.version != old.version + 1:
            raise ValueError(
                f"License {old.id}: the changed license must have version "
                f"{old.version + 1}, not {new.version}."
            )
        if old.id in seen:
            raise ValueError(f"License {old.id} is given twice. Move each license once.")
        seen.add(old.id)


def _to_license(row: RowMapping) -> License:
    return License(
        id=row["id"],
        state=LicenseState(row["state"]),
        dealer_id=row["dealer_id"],
        customer_id=row["customer_id"],
        order_id=row["order_id"],
        email=row["email"],
        assigned_at=row["assigned_at"],
        expires_at=row["expires_at"],
        version=row["version"],
    )
