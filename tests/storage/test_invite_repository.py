import asyncio
from datetime import UTC, datetime, timedelta

from core.members import Invite
from storage import Database

CREATED_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def _store_invite(database: Database, organisation_id: int) -> Invite:
    invite = Invite(
        code="abc_DEF-123",
        organisation_id=organisation_id,
        created_at=CREATED_AT,
        expires_at=CREATED_AT + timedelta(days=7),
    )
    async with database.unit_of_work() as uow:
        await uow.invites.add(invite)
        await uow.commit()
    return invite


async def test_add_and_get(database: Database, tree) -> None:
    invite = await _store_invite(database, tree.customer_id)

    async with database.unit_of_work() as uow:
        assert await uow.invites.get(invite.code) == invite


async def test_get_unknown_code(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.invites.get("missing") is None


async def test_mark_used_only_once(database: Database, tree) -> None:
    invite = await _store_invite(database, tree.customer_id)
    used_at = CREATED_AT + timedelta(hours=1)

    async with database.unit_of_work() as uow:
        first = await uow.invites.mark_used(invite.code, telegram_user_id=11, now=used_at)
        await uow.commit()
    async with database.unit_of_work() as uow:
        second = await uow.invites.mark_used(invite.code, telegram_user_id=22, now=used_at)
        await uow.commit()

    assert first is True
    assert second is False


async def test_mark_used_records_user(database: Database, tree) -> None:
    invite = await _store_invite(database, tree.customer_id)
    used_at = CREATED_AT + timedelta(hours=1)

    async with database.unit_of_work() as uow:
        await uow.invites.mark_used(invite.code, telegram_user_id=11, now=used_at)
        await uow.commit()
    async with database.unit_of_work() as uow:
        stored = await uow.invites.get(invite.code)

    assert stored is not None
    assert stored.used_at == used_at
    assert stored.used_by_telegram_user_id == 11


async def test_mark_used_unknown_code(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.invites.mark_used("missing", telegram_user_id=11, now=CREATED_AT) is False


async def test_concurrent_mark_used_one_wins(database: Database, tree) -> None:
    invite = await _store_invite(database, tree.customer_id)

    async def redeem(telegram_user_id: int) -> bool:
        async with database.unit_of_work() as uow:
            changed = await uow.invites.mark_used(
                invite.code, telegram_user_id=telegram_user_id, now=CREATED_AT
            )
            await asyncio.sleep(0.01)
            await uow.commit()
            return changed

    results = await asyncio.gather(redeem(11), redeem(22))

    assert sorted(results) == [False, True]
