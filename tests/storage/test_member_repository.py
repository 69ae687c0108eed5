import pytest

from core.errors import AlreadyLinked
from storage import Database
from tests.storage.conftest import NOW

# Larger than 2**32, so a 32-bit INTEGER column could not store it.
BIG_TELEGRAM_ID = 7_123_456_789


async def test_big_telegram_id_round_trip(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        added = await uow.members.add(
            telegram_user_id=BIG_TELEGRAM_ID, organisation_id=tree.dealer_id, name="Bo", now=NOW
        )
        await uow.commit()
    async with database.unit_of_work() as uow:
        found = await uow.members.get_by_telegram_user(BIG_TELEGRAM_ID)

    assert found == added
    assert found.telegram_user_id == BIG_TELEGRAM_ID


async def test_duplicate_telegram_user_rejected(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        await uow.members.add(
            telegram_user_id=BIG_TELEGRAM_ID, organisation_id=tree.dealer_id, name="Bo", now=NOW
        )
        await uow.commit()

    async with database.unit_of_work() as uow:
        with pytest.raises(AlreadyLinked, match=str(BIG_TELEGRAM_ID)):
            await uow.members.add(
                telegram_user_id=BIG_TELEGRAM_ID,
                organisation_id=tree.customer_id,
                name="Bo",
                now=NOW,
            )


async def test_get_unknown_telegram_user(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.members.get_by_telegram_user(42) is None


async def test_list_by_organisation(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        second = await uow.members.add(
            telegram_user_id=BIG_TELEGRAM_ID, organisation_id=tree.customer_id, name="Bo", now=NOW
        )
        await uow.commit()
    async with database.unit_of_work() as uow:
        members = await uow.members.list_by_organisation(tree.customer_id)

    assert [member.id for member in members] == [tree.member_id, second.id]


async def test_member_reachable_by_default(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        member = await uow.members.get_by_telegram_user(tree.member_telegram_user_id)

    assert member.reachable is True


async def test_set_unreachable(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        changed = await uow.members.set_reachable(tree.member_telegram_user_id, False)
        await uow.commit()
    async with database.unit_of_work() as uow:
        member = await uow.members.get_by_telegram_user(tree.member_telegram_user_id)
        listed = await uow.members.list_by_organisation(tree.customer_id)

    assert changed is True
    assert member.reachable is False
    assert listed[0].reachable is False


async def test_set_reachable_again(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        await uow.members.set_reachable(tree.member_telegram_user_id, False)
        await uow.commit()
    async with database.unit_of_work() as uow:
        await uow.members.set_reachable(tree.member_telegram_user_id, True)
        await uow.commit()
    async with database.unit_of_work() as uow:
        member = await uow.members.get_by_telegram_user(tree.member_telegram_user_id)

    assert member.reachable is True


async def test_set_reachable_after_read(database: Database, tree) -> None:
    # The member read earlier in the same unit of work must not hide the change.
    async with database.unit_of_work() as uow:
        await uow.members.get_by_telegram_user(tree.member_telegram_user_id)
        await uow.members.set_reachable(tree.member_telegram_user_id, False)
        member = await uow.members.get_by_telegram_user(tree.member_telegram_user_id)

    assert member.reachable is False


async def test_set_reachable_unknown_user(database: Database, tree) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.members.set_reachable(42, False) is False
