"""Checks that FakeUnitOfWork keeps the transaction rules that the use-case tests rely on."""

from dataclasses import replace
from datetime import timedelta

import pytest

from core.audit import AuditEntry
from core.errors import ConcurrentChange, DuplicatePoNumber, InvalidOrganisation
from core.members import Invite
from core.orders import NewOrder, Order, OrderStatus
from core.organisations import Organisation, Tier
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import NOW, Tree


async def add_headquarters(uow: FakeUnitOfWork, name: str = "Vendor HQ") -> Organisation:
    return await uow.organisations.add(
        name=name, tier=Tier.HEADQUARTERS, parent_id=None, timezone="UTC", dealer_id=None
    )


def new_order(tree: Tree, po_number: str, minutes: int = 0) -> NewOrder:
    return NewOrder(
        customer_id=tree.customer.id,
        dealer_id=tree.north_dealer.id,
        po_number=po_number,
        quantity=1,
        ordered_at=NOW + timedelta(minutes=minutes),
        placed_by_member_id=tree.customer_member.id,
    )


async def test_fake_block_without_commit_rolls_back() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        added = await add_headquarters(uow)

    async with uow:
        assert await uow.organisations.get(added.id) is None
    assert uow.committed.organisations == {}
    assert uow.commit_count == 0


async def test_fake_commit_visible_to_next_block() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        added = await add_headquarters(uow)
        await uow.commit()

    async with uow:
        assert await uow.organisations.get(added.id) == added
    assert uow.commit_count == 1
    assert uow.block_count == 2


async def test_fake_error_in_block_rolls_back() -> None:
    uow = FakeUnitOfWork()

    with pytest.raises(LookupError):
        async with uow:
            await add_headquarters(uow)
            raise LookupError("stop before commit")

    assert uow.committed.organisations == {}


async def test_fake_writes_after_commit_roll_back() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        first = await add_headquarters(uow, "First")
        await uow.commit()
        await add_headquarters(uow, "Second")

    assert list(uow.committed.organisations.values()) == [first]


async def test_fake_repository_outside_block_raises() -> None:
    uow = FakeUnitOfWork()

    with pytest.raises(RuntimeError, match="inside 'async with uow:'"):
        await uow.organisations.get(1)


async def test_fake_nested_block_raises() -> None:
    uow = FakeUnitOfWork()

    async with uow:
        with pytest.raises(RuntimeError, match="already open"):
            await uow.__aenter__()


async def test_fake_commit_keeps_rival_rows() -> None:
    database = FakeDatabase()
    uow = FakeUnitOfWork(database)
    rival = FakeUnitOfWork(database)

    async with uow:
        mine = await add_headquarters(uow, "Mine")
        async with rival:
            theirs = await add_headquarters(rival, "Theirs")
            await rival.commit()
        await uow.commit()

    assert database.committed.organisations == {mine.id: mine, theirs.id: theirs}


async def test_fake_duplicate_name_rejected() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await add_headquarters(uow, "Vendor HQ")

        with pytest.raises(InvalidOrganisation, match="already taken"):
            await add_headquarters(uow, "  vendor   hq ")


async def test_fake_duplicate_po_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    async with uow:
        await uow.orders.add(new_order(tree, "PO 1"))

        with pytest.raises(DuplicatePoNumber):
            await uow.orders.add(new_order(tree, "po 1", minutes=1))


async def test_fake_duplicate_po_from_rival_rejected(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    rival = FakeUnitOfWork(database)

    async with uow:
        assert not await uow.orders.po_number_used(tree.customer.id, "po 1")
        async with rival:
            await rival.orders.add(new_order(tree, "PO 1"))
            await rival.commit()

        with pytest.raises(DuplicatePoNumber):
            await uow.orders.add(new_order(tree, "PO 1"))


async def store_one_order(uow: FakeUnitOfWork, tree: Tree) -> Order:
    async with uow:
        order = await uow.orders.add(new_order(tree, "PO 1"))
        await uow.commit()
    return order


async def test_fake_replace_stale_version_raises(uow: FakeUnitOfWork, tree: Tree) -> None:
    order = await store_one_order(uow, tree)
    cancelled = order.cancelled(NOW + timedelta(hours=1), timedelta(days=14))

    async with uow:
        await uow.orders.replace(order, cancelled)
        with pytest.raises(ConcurrentChange):
            await uow.orders.replace(order, cancelled)


async def test_fake_replace_sees_rival_commit(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    order = await store_one_order(uow, tree)
    rival = FakeUnitOfWork(database)
    cancelled = order.cancelled(NOW + timedelta(hours=1), timedelta(days=14))

    async with uow:
        current = await uow.orders.get(order.id)
        assert current == order
        async with rival:
            await rival.orders.replace(order, cancelled)
            await rival.commit()

        with pytest.raises(ConcurrentChange):
            await uow.orders.replace(order, cancelled)


async def test_fake_replace_twice_in_one_block(uow: FakeUnitOfWork, tree: Tree) -> None:
    order = await store_one_order(uow, tree)
    issued = replace(order, status=OrderStatus.ISSUED, issued_at=NOW, version=2)
    reopened = replace(issued, status=OrderStatus.ON_ORDER, issued_at=None, version=3)

    async with uow:
        await uow.orders.replace(order, issued)
        await uow.orders.replace(issued, reopened)
        await uow.commit()

    assert uow.committed.orders[order.id] == reopened


@pytest.mark.parametrize(
    "change",
    [
        {"version": 1},
        {"version": 3},
        {"customer_id": 999},
        {"ordered_at": NOW + timedelta(hours=1)},
    ],
)
async def test_fake_replace_rejects_invalid_change(
    uow: FakeUnitOfWork, tree: Tree, change: dict[str, object]
) -> None:
    order = await store_one_order(uow, tree)
    changed = replace(order, **{"version": 2, **change})

    async with uow:
        with pytest.raises(ValueError, match=f"Order {order.id}"):
            await uow.orders.replace(order, changed)


async def test_fake_mark_used_once(uow: FakeUnitOfWork, tree: Tree) -> None:
    invite = Invite(
        code="code-1",
        organisation_id=tree.customer.id,
        created_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )
    async with uow:
        await uow.invites.add(invite)

        first = await uow.invites.mark_used("code-1", telegram_user_id=1, now=NOW)
        second = await uow.invites.mark_used("code-1", telegram_user_id=2, now=NOW)
        unknown = await uow.invites.mark_used("code-2", telegram_user_id=2, now=NOW)

    assert first
    assert not second
    assert not unknown


async def test_fake_page_breaks_ties_by_id(uow: FakeUnitOfWork, tree: Tree) -> None:
    async with uow:
        older = await uow.orders.add(new_order(tree, "PO 1"))
        newer = await uow.orders.add(new_order(tree, "PO 2"))

        page = await uow.orders.page_for_customer(tree.customer.id, offset=0, limit=10)

    assert page == [newer, older]


async def test_fake_audit_rejects_non_json_values() -> None:
    uow = FakeUnitOfWork()
    entry = AuditEntry(
        action="order.cancelled",
        entity="order",
        entity_id=1,
        at=NOW,
        actor_member_id=None,
        organisation_id=None,
        after={"cancelled_at": NOW},
    )

    async with uow:
        with pytest.raises(TypeError):
            await uow.audit.add(entry)
