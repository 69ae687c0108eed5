"""Issuing licenses: a dealer's pending orders, its stock, and moving licenses to a customer."""

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import (
    DomainError,
    InvalidInput,
    NotAllowed,
    NotFound,
    NotLinked,
    OrderNotIssuable,
    StockShort,
)
from core.licenses import License, LicenseState
from core.notifications import NotificationKind
from core.orders import OrderStatus
from core.policy import LicensingPolicy
from core.use_cases.issuing import (
    issue_order,
    order_for_reply,
    pending_orders,
    preview_issue,
    stock_level,
)
from core.use_cases.ordering import cancel_order
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import (
    CUSTOMER_USER,
    DEALER_USER,
    DISTRIBUTED_DEALER_USER,
    HEADQUARTERS_USER,
    NORTH_USER,
    NOW,
    OTHER_CUSTOMER_USER,
    SOUTH_DEALER_USER,
    UNLINKED_USER,
    Tree,
    add_member,
)
from tests.core.steps import (
    POLICY,
    inventory_of,
    issue,
    licenses_of_order,
    notifications,
    place,
    stock,
    stock_of,
)

# 23:30 UTC on 31 March 2025 is already 1 April in Berlin, the dealer's time zone.
LATE_EVENING_UTC = datetime(2025, 3, 31, 23, 30, tzinfo=UTC)


# issue_order


async def test_issue_moves_quantity(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 10)
    order = await place(database, "PO-1", 3)

    issued = await issue(database, order.id)

    moved = licenses_of_order(database, order.id)
    assert len(moved) == 3
    assert all(license.state is LicenseState.UNUSED for license in moved)
    assert all(license.customer_id == tree.customer.id for license in moved)
    assert all(license.expires_at is None for license in moved)
    assert len(stock_of(database, tree.north_dealer)) == 7
    assert issued.stock_left == 7


async def test_issue_sets_status_and_date(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)
    now = NOW + timedelta(days=2)

    issued = await issue(database, order.id, now=now)

    stored = database.committed.orders[order.id]
    assert stored == issued.order
    assert stored.status is OrderStatus.ISSUED
    assert stored.issued_at == now
    assert stored.version == order.version + 1


async def test_issue_returns_organisations(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)

    issued = await issue(database, order.id)

    assert issued.customer == tree.customer
    assert issued.dealer == tree.north_dealer


async def test_issue_whole_stock(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 4)
    order = await place(database, "PO-1", 4)

    issued = await issue(database, order.id)

    assert issued.stock_left == 0
    assert len(inventory_of(database, tree.customer)) == 4


async def test_issue_commits_once(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 4)
    order = await place(database, "PO-1", 2)
    uow = FakeUnitOfWork(database)

    await issue_order(uow, telegram_user_id=DEALER_USER, order_id=order.id, now=NOW)

    assert uow.commit_count == 1


async def test_issue_leaves_other_stock(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 5)
    await stock(database, tree.south_dealer, 6)
    order = await place(database, "PO-1", 5)

    await issue(database, order.id)

    assert len(stock_of(database, tree.south_dealer)) == 6


async def test_issue_stock_short(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 2)
    order = await place(database, "PO-1", 3)

    with pytest.raises(StockShort) as caught:
        await issue(database, order.id)

    message = str(caught.value)
    assert "has 2 licenses" in message
    assert "needs 3" in message
    assert "PO-1" in message


async def test_issue_stock_short_moves_nothing(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 2)
    order = await place(database, "PO-1", 3)
    audit_before = list(database.committed.audit)
    uow = FakeUnitOfWork(database)

    with pytest.raises(StockShort):
        await issue_order(uow, telegram_user_id=DEALER_USER, order_id=order.id, now=NOW)

    assert uow.commit_count == 0
    assert len(stock_of(database, tree.north_dealer)) == 2
    assert inventory_of(database, tree.customer) == []
    assert database.committed.orders[order.id] == order
    assert database.committed.audit == audit_before
    assert notifications(database, NotificationKind.ORDER_ISSUED) == []


async def test_issue_partial_take_moves_nothing(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)
    uow = FakeUnitOfWork(database)
    take_all = uow.licenses.take_from_stock

    async def take_without_locked(dealer_id: int, count: int) -> list[License]:
        # Another transaction holds the first license, so it is skipped.
        return (await take_all(dealer_id, count + 1))[1:]

    uow.licenses.take_from_stock = take_without_locked  # type: ignore[method-assign]

    with pytest.raises(DomainError):
        await issue_order(uow, telegram_user_id=DEALER_USER, order_id=order.id, now=NOW)

    assert licenses_of_order(database, order.id) == []
    assert database.committed.orders[order.id] == order


async def test_issue_empty_stock(database: FakeDatabase, tree: Tree) -> None:
    order = await place(database, "PO-1", 1)

    with pytest.raises(StockShort, match="has 0 licenses"):
        await issue(database, order.id)


async def test_issue_notifies_customer_members(database: FakeDatabase, tree: Tree) -> None:
    second = await add_member(database, tree.customer, 5_000_000_101, "Carla")
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)

    await issue(database, order.id)

    sent = notifications(database, NotificationKind.ORDER_ISSUED)
    assert [n.member_id for n in sent] == [tree.customer_member.id, second.id]
    assert [n.chat_id for n in sent] == [CUSTOMER_USER, 5_000_000_101]
    assert all(n.order_id == order.id for n in sent)


async def test_issue_skips_other_members(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)

    await issue(database, order.id)

    sent = notifications(database, NotificationKind.ORDER_ISSUED)
    member_ids = {n.member_id for n in sent}
    assert tree.dealer_member.id not in member_ids
    assert tree.other_customer_member.id not in member_ids


async def test_issue_notification_payload(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)
    now = NOW + timedelta(hours=5)

    await issue(database, order.id, now=now)

    [sent] = notifications(database, NotificationKind.ORDER_ISSUED)
    assert sent.payload["po_number"] == "PO-1"
    assert sent.payload["quantity"] == 3
    assert sent.payload["customer"] == "Acme Clinic"
    assert sent.payload["dealer"] == "North Dealer"
    assert sent.payload["customer_timezone"] == "Europe/Berlin"
    assert sent.payload["ordered_at"] == NOW.isoformat()
    assert sent.payload["issued_at"] == now.isoformat()
    assert sent.created_at == now


async def test_issue_records_audit(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)

    await issue(database, order.id)

    entry = database.committed.audit[-1]
    assert entry.action == "order.issued"
    assert entry.entity == "order"
    assert entry.entity_id == order.id
    assert entry.actor_member_id == tree.dealer_member.id
    assert entry.organisation_id == tree.customer.id
    assert entry.before == {"status": "on_order", "issued_at": None}
    assert entry.after == {"status": "issued", "issued_at": NOW.isoformat(), "licenses": 3}


@pytest.mark.parametrize("user", [SOUTH_DEALER_USER, DISTRIBUTED_DEALER_USER])
async def test_issue_by_other_dealer_not_found(
    database: FakeDatabase, tree: Tree, user: int
) -> None:
    await stock(database, tree.north_dealer, 3)
    await stock(database, tree.south_dealer, 3)
    await stock(database, tree.distributed_dealer, 3)
    order = await place(database, "PO-1", 3)

    with pytest.raises(NotFound):
        await issue(database, order.id, user=user)

    assert database.committed.orders[order.id] == order
    assert licenses_of_order(database, order.id) == []


@pytest.mark.parametrize("user", [CUSTOMER_USER, HEADQUARTERS_USER, NORTH_USER])
async def test_issue_by_non_dealer_not_allowed(
    database: FakeDatabase, tree: Tree, user: int
) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)

    with pytest.raises(NotAllowed, match="Only dealer administrators"):
        await issue(database, order.id, user=user)

    assert database.committed.orders[order.id] == order


async def test_issue_by_unlinked_user(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)

    with pytest.raises(NotLinked):
        await issue(database, order.id, user=UNLINKED_USER)


async def test_issue_unknown_order(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotFound):
        await issue(database, 999_999)


async def test_issue_twice_names_local_date(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 6)
    order = await place(database, "PO-1", 3)
    await issue(database, order.id, now=LATE_EVENING_UTC)

    with pytest.raises(OrderNotIssuable) as caught:
        await issue(database, order.id, now=LATE_EVENING_UTC + timedelta(days=1))

    assert "already issued on 2025-04-01" in str(caught.value)
    assert len(stock_of(database, tree.north_dealer)) == 3


async def test_issue_cancelled_names_local_date(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3, now=LATE_EVENING_UTC - timedelta(days=1))
    await cancel_order(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        order_id=order.id,
        policy=POLICY,
        now=LATE_EVENING_UTC,
    )

    with pytest.raises(OrderNotIssuable) as caught:
        await issue(database, order.id, now=LATE_EVENING_UTC + timedelta(hours=1))

    assert "cancelled on 2025-04-01" in str(caught.value)
    assert len(stock_of(database, tree.north_dealer)) == 3


async def test_issue_after_customer_changed_dealer(database: FakeDatabase, tree: Tree) -> None:
    # The order stays with the dealer it was placed with.
    await stock(database, tree.north_dealer, 2)
    order = await place(database, "PO-1", 2)
    uow = FakeUnitOfWork(database)
    async with uow:
        await uow.organisations.set_dealer(tree.customer.id, tree.south_dealer.id)
        await uow.commit()

    issued = await issue(database, order.id)

    assert issued.order.status is OrderStatus.ISSUED


# preview_issue


async def test_preview_issue_returns_stock(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 5)
    order = await place(database, "PO-1", 3)

    preview = await preview_issue(
        FakeUnitOfWork(database), telegram_user_id=DEALER_USER, order_id=order.id, now=NOW
    )

    assert preview.order == order
    assert preview.stock == 5
    assert preview.customer == tree.customer
    assert preview.dealer == tree.north_dealer


async def test_preview_issue_changes_nothing(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 5)
    order = await place(database, "PO-1", 3)
    uow = FakeUnitOfWork(database)

    await preview_issue(uow, telegram_user_id=DEALER_USER, order_id=order.id, now=NOW)

    assert uow.commit_count == 0
    assert database.committed.orders[order.id] == order


async def test_preview_issue_stock_short(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 2)
    order = await place(database, "PO-1", 3)

    with pytest.raises(StockShort, match=r"has 2 licenses.*needs 3"):
        await preview_issue(
            FakeUnitOfWork(database), telegram_user_id=DEALER_USER, order_id=order.id, now=NOW
        )


async def test_preview_issue_issued(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    order = await place(database, "PO-1", 3)
    await issue(database, order.id)

    with pytest.raises(OrderNotIssuable, match="already issued"):
        await preview_issue(
            FakeUnitOfWork(database), telegram_user_id=DEALER_USER, order_id=order.id, now=NOW
        )


async def test_preview_issue_other_dealer(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.south_dealer, 3)
    order = await place(database, "PO-1", 3)

    with pytest.raises(NotFound):
        await preview_issue(
            FakeUnitOfWork(database),
            telegram_user_id=SOUTH_DEALER_USER,
            order_id=order.id,
            now=NOW,
        )


# pending_orders and stock_level


async def test_pending_orders_oldest_first(database: FakeDatabase, tree: Tree) -> None:
    second = await place(database, "PO-2", 1, now=NOW + timedelta(minutes=5))
    first = await place(database, "PO-1", 2)
    other = await place(
        database, "PO-3", 3, user=OTHER_CUSTOMER_USER, now=NOW + timedelta(minutes=9)
    )
    await stock(database, tree.north_dealer, 8)

    pending = await pending_orders(
        FakeUnitOfWork(database), telegram_user_id=DEALER_USER, page_number=1, policy=POLICY
    )

    assert [row.order.id for row in pending.page.items] == [first.id, second.id, other.id]
    assert [row.customer.name for row in pending.page.items] == [
        "Acme Clinic",
        "Acme Clinic",
        "Other Clinic",
    ]
    assert pending.stock == 8
    assert pending.dealer == tree.north_dealer


async def test_pending_orders_leave_out_issued(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 1)
    issued = await place(database, "PO-1", 1)
    waiting = await place(database, "PO-2", 1)
    await issue(database, issued.id)

    pending = await pending_orders(
        FakeUnitOfWork(database), telegram_user_id=DEALER_USER, page_number=1, policy=POLICY
    )

    assert [row.order.id for row in pending.page.items] == [waiting.id]
    assert pending.page.total_items == 1


async def test_pending_orders_paging(database: FakeDatabase, tree: Tree) -> None:
    policy = LicensingPolicy(page_size=2)
    orders = [
        await place(database, f"PO-{i}", 1, now=NOW + timedelta(minutes=i)) for i in range(5)
    ]

    last = await pending_orders(
        FakeUnitOfWork(database), telegram_user_id=DEALER_USER, page_number=3, policy=policy
    )

    assert [row.order.id for row in last.page.items] == [orders[4].id]
    assert last.page.total_pages == 3


async def test_pending_orders_page_out_of_range(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 1)

    with pytest.raises(InvalidInput, match="Page 2 does not exist"):
        await pending_orders(
            FakeUnitOfWork(database), telegram_user_id=DEALER_USER, page_number=2, policy=POLICY
        )


async def test_pending_orders_by_customer(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotAllowed):
        await pending_orders(
            FakeUnitOfWork(database), telegram_user_id=CUSTOMER_USER, page_number=1, policy=POLICY
        )


async def test_stock_level(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 4)
    await stock(database, tree.south_dealer, 9)

    dealer, level = await stock_level(FakeUnitOfWork(database), telegram_user_id=DEALER_USER)

    assert dealer == tree.north_dealer
    assert level == 4


async def test_stock_level_by_customer(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotAllowed):
        await stock_level(FakeUnitOfWork(database), telegram_user_id=CUSTOMER_USER)


# order_for_reply


async def send_all(database: FakeDatabase, first_message_id: int) -> None:
    """Mark every pending notification as sent, with message ids counting up."""
    uow = FakeUnitOfWork(database)
    async with uow:
        ids = sorted(database.committed.notifications)
        for offset, notification_id in enumerate(ids):
            await uow.notifications.record_sent(notification_id, first_message_id + offset, NOW)
        await uow.commit()


async def test_reply_to_order_notification(database: FakeDatabase, tree: Tree) -> None:
    order = await place(database, "PO-1", 1)
    await send_all(database, 700)

    order_id = await order_for_reply(
        FakeUnitOfWork(database), telegram_user_id=DEALER_USER, chat_id=DEALER_USER, message_id=700
    )

    assert order_id == order.id


async def test_reply_to_other_message(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 1)
    await send_all(database, 700)

    order_id = await order_for_reply(
        FakeUnitOfWork(database), telegram_user_id=DEALER_USER, chat_id=DEALER_USER, message_id=701
    )

    assert order_id is None


async def test_reply_in_other_chat(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 1)
    await send_all(database, 700)

    order_id = await order_for_reply(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        chat_id=CUSTOMER_USER,
        message_id=700,
    )

    assert order_id is None


async def test_reply_to_issued_notification(database: FakeDatabase, tree: Tree) -> None:
    # Only the notification of a new order leads to issuing.
    await stock(database, tree.north_dealer, 1)
    order = await place(database, "PO-1", 1)
    await issue(database, order.id)
    [issued] = notifications(database, NotificationKind.ORDER_ISSUED)
    await send_all(database, 700)
    sent = database.committed.notifications[issued.id]
    assert sent.sent_message_id is not None

    order_id = await order_for_reply(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        chat_id=CUSTOMER_USER,
        message_id=sent.sent_message_id,
    )

    assert order_id is None
