from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError

from core.members import Invite
from storage import Database
from storage.types import UtcDateTime

KOLKATA = timezone(timedelta(hours=5, minutes=30))


def test_bind_rejects_naive() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        UtcDateTime().process_bind_param(datetime(2025, 3, 1, 12), sqlite.dialect())


def test_bind_sqlite_stores_naive_utc() -> None:
    stored = UtcDateTime().process_bind_param(
        datetime(2025, 3, 1, 17, 30, tzinfo=KOLKATA), sqlite.dialect()
    )
    assert stored == datetime(2025, 3, 1, 12, 0)


def test_bind_postgresql_keeps_offset() -> None:
    stored = UtcDateTime().process_bind_param(
        datetime(2025, 3, 1, 17, 30, tzinfo=KOLKATA), postgresql.dialect()
    )
    assert stored is not None
    assert stored.tzinfo is UTC
    assert stored == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_result_naive_read_as_utc() -> None:
    value = UtcDateTime().process_result_value(datetime(2025, 3, 1, 12), sqlite.dialect())
    assert value == datetime(2025, 3, 1, 12, tzinfo=UTC)


async def test_round_trip_is_aware_utc(database: Database, tree) -> None:
    created_at = datetime(2025, 3, 1, 17, 30, 15, 123456, tzinfo=KOLKATA)
    invite = Invite(
        code="round-trip",
        organisation_id=tree.customer_id,
        created_at=created_at,
        expires_at=created_at + timedelta(days=7),
    )
    async with database.unit_of_work() as uow:
        await uow.invites.add(invite)
        await uow.commit()
    async with database.unit_of_work() as uow:
        stored = await uow.invites.get("round-trip")

    assert stored is not None
    assert stored.created_at == created_at
    assert stored.created_at.tzinfo is UTC
    assert stored.created_at.hour == 12
    assert stored.expires_at.tzinfo is UTC


async def test_naive_rejected_on_write(database: Database, tree) -> None:
    invite = Invite(
        code="naive",
        organisation_id=tree.customer_id,
        created_at=datetime(2025, 3, 1, 12),
        expires_at=datetime(2025, 3, 8, 12, tzinfo=UTC),
    )
    async with database.unit_of_work() as uow:
        with pytest.raises(StatementError) as caught:
            await uow.invites.add(invite)

    assert isinstance(caught.value.orig, ValueError)
