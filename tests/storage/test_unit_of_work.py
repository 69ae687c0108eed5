import pytest

from core.organisations import Tier
from storage import Database


async def _add_hq(uow, name: str = "HQ") -> int:
    organisation = await uow.organisations.add(
        name=name, tier=Tier.HEADQUARTERS, parent_id=None, timezone="UTC", dealer_id=None
    )
    return organisation.id


async def test_commit_persists(database: Database) -> None:
    async with database.unit_of_work() as uow:
        hq_id = await _add_hq(uow)
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.organisations.get(hq_id) is not None


async def test_exit_without_commit_rolls_back(database: Database) -> None:
    async with database.unit_of_work() as uow:
        hq_id = await _add_hq(uow)

    async with database.unit_of_work() as uow:
        assert await uow.organisations.get(hq_id) is None


async def test_exception_rolls_back(database: Database) -> None:
    hq_id = None
    with pytest.raises(RuntimeError, match="boom"):
        async with database.unit_of_work() as uow:
            hq_id = await _add_hq(uow)
            raise RuntimeError("boom")

    async with database.unit_of_work() as uow:
        assert await uow.organisations.get(hq_id) is None


async def test_reenter_same_uow(database: Database) -> None:
    uow = database.unit_of_work()
    async with uow:
        hq_id = await _add_hq(uow)
        first_session = uow.organisations._session
        await uow.commit()
    async with uow:
        found = await uow.organisations.get(hq_id)
        second_session = uow.organisations._session

    assert found is not None
    assert second_session is not first_session


async def test_reenter_sees_other_commits(database: Database) -> None:
    uow = database.unit_of_work()
    async with uow:
        assert await uow.organisations.get_by_name("HQ") is None
    async with database.unit_of_work() as other:
        await _add_hq(other)
        await other.commit()
    async with uow:
        assert await uow.organisations.get_by_name("HQ") is not None


async def test_nested_entry_rejected(database: Database) -> None:
    uow = database.unit_of_work()
    async with uow:
        with pytest.raises(RuntimeError, match="already open"):
            await uow.__aenter__()


async def test_commit_outside_block_rejected(database: Database) -> None:
    uow = database.unit_of_work()
    with pytest.raises(RuntimeError, match="outside 'async with'"):
        await uow.commit()


async def test_repositories_gone_after_exit(database: Database) -> None:
    uow = database.unit_of_work()
    async with uow:
        pass

    for name in ("orders", "licenses", "cards", "key_attempts", "notifications"):
        assert not hasattr(uow, name), name
