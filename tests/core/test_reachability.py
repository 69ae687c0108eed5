"""Recording whether a member can receive messages, as Telegram reports it."""

from datetime import datetime, timedelta

from core.audit import AuditEntry
from core.notifications import NotificationKind
from core.use_cases.notify import notify_members
from core.use_cases.reachability import record_reachability
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import CUSTOMER_USER, NOW, UNLINKED_USER, Tree

LATER = NOW + timedelta(hours=1)


async def record(database: FakeDatabase, user: int, reachable: bool, now: datetime = NOW) -> bool:
    return await record_reachability(
        FakeUnitOfWork(database), telegram_user_id=user, reachable=reachable, now=now
    )


def entries(database: FakeDatabase) -> list[AuditEntry]:
    return [entry for entry in database.committed.audit if entry.entity == "member"]


async def test_unreachable_recorded(database: FakeDatabase, tree: Tree) -> None:
    changed = await record(database, CUSTOMER_USER, False)

    assert changed is True
    assert database.committed.members[tree.customer_member.id].reachable is False


async def test_unreachable_audit_entry(database: FakeDatabase, tree: Tree) -> None:
    await record(database, CUSTOMER_USER, False)

    [entry] = entries(database)
    assert entry.action == "member.unreachable"
    assert entry.entity_id == tree.customer_member.id
    assert entry.at == NOW
    assert entry.actor_member_id is None
    assert entry.organisation_id == tree.customer.id
    assert entry.before == {"reachable": True}
    assert entry.after == {"reachable": False}


async def test_unreachable_twice_no_change(database: FakeDatabase, tree: Tree) -> None:
    await record(database, CUSTOMER_USER, False)

    again = await record(database, CUSTOMER_USER, False, now=LATER)

    assert again is False
    assert len(entries(database)) == 1


async def test_reachable_when_already(database: FakeDatabase, tree: Tree) -> None:
    changed = await record(database, CUSTOMER_USER, True)

    assert changed is False
    assert entries(database) == []


async def test_reachable_again(database: FakeDatabase, tree: Tree) -> None:
    await record(database, CUSTOMER_USER, False)

    changed = await record(database, CUSTOMER_USER, True, now=LATER)

    [_, entry] = entries(database)
    assert changed is True
    assert database.committed.members[tree.customer_member.id].reachable is True
    assert entry.action == "member.reachable"
    assert entry.at == LATER
    assert entry.before == {"reachable": False}
    assert entry.after == {"reachable": True}


async def test_non_member_ignored(database: FakeDatabase, tree: Tree) -> None:
    changed = await record(database, UNLINKED_USER, False)

    assert changed is False
    assert entries(database) == []
    assert all(member.reachable for member in database.committed.members.values())


async def test_only_that_member(database: FakeDatabase, tree: Tree) -> None:
    await record(database, CUSTOMER_USER, False)

    others = [
        member
        for member in database.committed.members.values()
        if member.id != tree.customer_member.id
    ]
    assert all(member.reachable for member in others)


async def test_notify_skips_unreachable(database: FakeDatabase, tree: Tree) -> None:
    await record(database, CUSTOMER_USER, False)
    uow = FakeUnitOfWork(database)

    async with uow:
        added = await notify_members(
            uow, tree.customer.id, NotificationKind.ORDER_ISSUED, now=LATER, payload={}
        )
        await uow.commit()

    assert added == 0
    assert database.committed.notifications == {}


async def test_notify_reaches_member_again(database: FakeDatabase, tree: Tree) -> None:
    await record(database, CUSTOMER_USER, False)
    await record(database, CUSTOMER_USER, True, now=LATER)
    uow = FakeUnitOfWork(database)

    async with uow:
        added = await notify_members(
            uow, tree.customer.id, NotificationKind.ORDER_ISSUED, now=LATER, payload={}
        )
        await uow.commit()

    assert added == 1
