"""Notifications: one per member, added with the change they report."""

from datetime import timedelta

import pytest

from core.errors import DuplicatePoNumber, OrderNotCancellable
from core.notifications import NotificationKind, NotificationStatus
from core.orders import Order, OrderStatus
from core.use_cases.notify import notify_members, order_payload
from core.use_cases.ordering import cancel_order
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import (
    CANCEL_WINDOW,
    CUSTOMER_USER,
    DEALER_USER,
    NOW,
    Tree,
    add_member,
)
from tests.core.steps import POLICY, notifications, place

SECOND_DEALER_USER = 5_000_000_104
SECOND_CUSTOMER_USER = 5_000_000_105


async def cancel(database: FakeDatabase, order_id: int, *, after: timedelta) -> None:
    await cancel_order(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        order_id=order_id,
        policy=POLICY,
        now=NOW + after,
    )


# notify_members


async def test_notify_one_per_member(database: FakeDatabase, tree: Tree) -> None:
    second = await add_member(database, tree.north_dealer, SECOND_DEALER_USER, "Dora")
    uow = FakeUnitOfWork(database)

    async with uow:
        count = await notify_members(
            uow,
            tree.north_dealer.id,
            NotificationKind.ORDER_PLACED,
            now=NOW,
            payload={"po_number": "PO-1"},
            order_id=42,
            urgent=True,
        )
        await uow.commit()

    sent = notifications(database, NotificationKind.ORDER_PLACED)
    assert count == 2
    assert [n.member_id for n in sent] == [tree.dealer_member.id, second.id]
    assert [n.chat_id for n in sent] == [DEALER_USER, SECOND_DEALER_USER]
    assert all(n.order_id == 42 for n in sent)
    assert all(n.urgent for n in sent)
    assert all(n.payload == {"po_number": "PO-1"} for n in sent)
    assert all(n.status is NotificationStatus.PENDING for n in sent)
    assert all(n.created_at == NOW for n in sent)


async def test_notify_without_members(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        count = await notify_members(
            uow, tree.north_distributor.id, NotificationKind.ORDER_PLACED, now=NOW, payload={}
        )
        await uow.commit()

    assert count == 0
    assert database.committed.notifications == {}


async def test_notify_rolled_back_without_commit(database: FakeDatabase, tree: Tree) -> None:
    uow = FakeUnitOfWork(database)

    async with uow:
        await notify_members(
            uow, tree.north_dealer.id, NotificationKind.ORDER_PLACED, now=NOW, payload={}
        )

    assert database.committed.notifications == {}


async def notify_once(database: FakeDatabase, tree: Tree, key: str | None) -> int:
    uow = FakeUnitOfWork(database)
    async with uow:
        added = await notify_members(
            uow,
            tree.customer.id,
            NotificationKind.WINDOW_CLOSING,
            now=NOW,
            payload={},
            dedupe_key=key,
        )
        await uow.commit()
    return added


async def test_notify_dedupe_key_once(database: FakeDatabase, tree: Tree) -> None:
    first = await notify_once(database, tree, "window_closing:1")
    second = await notify_once(database, tree, "window_closing:1")

    assert first == 1
    assert second == 0
    assert len(database.committed.notifications) == 1


async def test_notify_dedupe_key_per_member(database: FakeDatabase, tree: Tree) -> None:
    second = await add_member(database, tree.customer, SECOND_CUSTOMER_USER, "Cleo")

    added = await notify_once(database, tree, "window_closing:1")

    assert added == 2
    assert sorted(database.committed.notification_keys) == [
        f"window_closing:1:m{tree.customer_member.id}",
        f"window_closing:1:m{second.id}",
    ]


async def test_notify_dedupe_new_member_later(database: FakeDatabase, tree: Tree) -> None:
    await notify_once(database, tree, "window_closing:1")
    await add_member(database, tree.customer, SECOND_CUSTOMER_USER, "Cleo")

    added = await notify_once(database, tree, "window_closing:1")

    assert added == 1


async def test_notify_without_key_repeats(database: FakeDatabase, tree: Tree) -> None:
    first = await notify_once(database, tree, None)
    second = await notify_once(database, tree, None)

    assert first == 1
    assert second == 1


async def test_notify_organisation_timezone(database: FakeDatabase, tree: Tree) -> None:
    await notify_once(database, tree, None)

    [sent] = database.committed.notifications.values()
    assert sent.timezone == "Europe/Berlin"


def test_order_payload(tree: Tree) -> None:
    order = Order(
        id=9,
        customer_id=tree.customer.id,
        dealer_id=tree.north_dealer.id,
        po_number="PO-9",
        quantity=4,
        status=OrderStatus.ISSUED,
        ordered_at=NOW,
        window_opened_at=NOW,
        placed_by_member_id=tree.customer_member.id,
        issued_at=NOW + timedelta(days=1),
    )

    payload = order_payload(order, tree.customer, tree.north_dealer)

    assert payload == {
        "po_number": "PO-9",
        "quantity": 4,
        "customer": "Acme Clinic",
        "customer_timezone": "Europe/Berlin",
        "dealer": "North Dealer",
        "dealer_timezone": "Europe/Berlin",
        "ordered_at": NOW.isoformat(),
        "issued_at": (NOW + timedelta(days=1)).isoformat(),
    }


# place_order and cancel_order


async def test_place_notifies_dealer_members(database: FakeDatabase, tree: Tree) -> None:
    second = await add_member(database, tree.north_dealer, SECOND_DEALER_USER, "Dora")

    order = await place(database, "PO-1", 3)

    sent = notifications(database, NotificationKind.ORDER_PLACED)
    assert [n.member_id for n in sent] == [tree.dealer_member.id, second.id]
    assert all(n.order_id == order.id for n in sent)


async def test_place_skips_customer_members(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 3)

    sent = notifications(database, NotificationKind.ORDER_PLACED)
    assert [n.member_id for n in sent] == [tree.dealer_member.id]
    assert len(database.committed.notifications) == 1


async def test_place_notification_payload(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "  PO   7 ", 3)

    [sent] = notifications(database, NotificationKind.ORDER_PLACED)
    assert sent.payload["po_number"] == "PO 7"
    assert sent.payload["quantity"] == 3
    assert sent.payload["customer"] == "Acme Clinic"
    assert sent.payload["dealer"] == "North Dealer"
    assert sent.payload["ordered_at"] == NOW.isoformat()
    assert sent.payload["issued_at"] is None
    assert sent.chat_id == DEALER_USER
    assert sent.created_at == NOW


async def test_rejected_order_notifies_nobody(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 3)

    with pytest.raises(DuplicatePoNumber):
        await place(database, "po-1", 3)

    assert len(notifications(database, NotificationKind.ORDER_PLACED)) == 1


async def test_cancel_notifies_dealer_members(database: FakeDatabase, tree: Tree) -> None:
    second = await add_member(database, tree.north_dealer, SECOND_DEALER_USER, "Dora")
    order = await place(database, "PO-1", 3)

    await cancel(database, order.id, after=timedelta(hours=2))

    sent = notifications(database, NotificationKind.ORDER_CANCELLED)
    assert [n.member_id for n in sent] == [tree.dealer_member.id, second.id]
    assert all(n.order_id == order.id for n in sent)
    assert all(n.created_at == NOW + timedelta(hours=2) for n in sent)
    assert all(n.payload["po_number"] == "PO-1" for n in sent)
    assert all(n.payload["customer"] == "Acme Clinic" for n in sent)


async def test_cancel_goes_to_order_dealer(database: FakeDatabase, tree: Tree) -> None:
    # The customer switched dealers after ordering, and the order's dealer is notified.
    order = await place(database, "PO-1", 3)
    uow = FakeUnitOfWork(database)
    async with uow:
        await uow.organisations.set_dealer(tree.customer.id, tree.south_dealer.id)
        await uow.commit()

    await cancel(database, order.id, after=timedelta(hours=1))

    sent = notifications(database, NotificationKind.ORDER_CANCELLED)
    assert [n.member_id for n in sent] == [tree.dealer_member.id]


async def test_rejected_cancel_notifies_nobody(database: FakeDatabase, tree: Tree) -> None:
    order = await place(database, "PO-1", 3)

    with pytest.raises(OrderNotCancellable):
        await cancel(database, order.id, after=CANCEL_WINDOW)

    assert notifications(database, NotificationKind.ORDER_CANCELLED) == []
