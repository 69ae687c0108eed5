from datetime import datetime, timedelta

import pytest

from core.errors import InvalidInput, NotAllowed, NotLinked
from core.orders import OrderStatus
from core.policy import LicensingPolicy
from core.use_cases.history import OrderHistory, order_history
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import (
    CANCEL_WINDOW,
    CUSTOMER_USER,
    DEALER_USER,
    NOW,
    UNLINKED_USER,
    Tree,
    store_order,
)

POLICY = LicensingPolicy()
# Late enough that every order stored by store_orders is placed, and within
# the cancel window of all of them.
LATER = NOW + timedelta(days=1)


async def store_orders(database: FakeDatabase, tree: Tree, count: int) -> None:
    """Store ``count`` orders of the customer, PO-000 first, one minute apart."""
    for index in range(count):
        await store_order(
            database,
            customer=tree.customer,
            member=tree.customer_member,
            po_number=f"PO-{index:03d}",
            ordered_at=NOW + timedelta(minutes=index),
        )


async def history(
    uow: FakeUnitOfWork,
    page_number: int,
    *,
    user: int = CUSTOMER_USER,
    policy: LicensingPolicy = POLICY,
    now: datetime = LATER,
) -> OrderHistory:
    return await order_history(
        uow, telegram_user_id=user, page_number=page_number, policy=policy, now=now
    )


def po_numbers(result: OrderHistory) -> list[str]:
    return [row.order.po_number for row in result.page.items]


@pytest.mark.parametrize(
    ("count", "page_number", "expected_rows", "expected_pages"),
    [
        (0, 1, 0, 1),
        (1, 1, 1, 1),
        (10, 1, 10, 1),
        (11, 1, 10, 2),
        (11, 2, 1, 2),
        (95, 1, 10, 10),
        (95, 5, 10, 10),
        (95, 10, 5, 10),
    ],
)
async def test_history_page_counts(
    uow: FakeUnitOfWork,
    database: FakeDatabase,
    tree: Tree,
    count: int,
    page_number: int,
    expected_rows: int,
    expected_pages: int,
) -> None:
    await store_orders(database, tree, count)

    result = await history(uow, page_number)

    assert result.page.total_items == count
    assert result.page.total_pages == expected_pages
    assert result.page.number == page_number
    assert result.page.page_size == 10
    assert len(result.page.items) == expected_rows


async def test_history_newest_first(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_orders(database, tree, 95)

    first = await history(uow, 1)
    last = await history(uow, 10)

    assert po_numbers(first) == [f"PO-{index:03d}" for index in range(94, 84, -1)]
    assert po_numbers(last) == ["PO-004", "PO-003", "PO-002", "PO-001", "PO-000"]


async def test_history_pages_cover_all_orders(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_orders(database, tree, 95)

    listed: list[str] = []
    for page_number in range(1, 11):
        listed.extend(po_numbers(await history(uow, page_number)))

    assert listed == [f"PO-{index:03d}" for index in range(94, -1, -1)]


async def test_history_respects_page_size(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_orders(database, tree, 11)
    policy = LicensingPolicy(page_size=3)

    third = await history(uow, 3, policy=policy)
    fourth = await history(uow, 4, policy=policy)

    assert third.page.total_pages == 4
    assert po_numbers(third) == ["PO-004", "PO-003", "PO-002"]
    assert po_numbers(fourth) == ["PO-001", "PO-000"]


@pytest.mark.parametrize(("count", "total_pages"), [(0, 1), (10, 1), (11, 2), (95, 10)])
async def test_history_rejects_page_zero(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree, count: int, total_pages: int
) -> None:
    await store_orders(database, tree, count)

    there_are = "there is 1 page" if total_pages == 1 else f"there are {total_pages} pages"
    with pytest.raises(InvalidInput, match=f"Page 0 does not exist; {there_are}"):
        await history(uow, 0)


@pytest.mark.parametrize(("count", "total_pages"), [(0, 1), (10, 1), (11, 2), (95, 10)])
async def test_history_rejects_page_after_last(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree, count: int, total_pages: int
) -> None:
    await store_orders(database, tree, count)

    with pytest.raises(InvalidInput, match=f"Page {total_pages + 1} does not exist"):
        await history(uow, total_pages + 1)


async def test_history_deadline_only_for_cancellable(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    now = NOW + timedelta(hours=1)
    stored = {
        "OPEN": await store_order(
            database, customer=tree.customer, member=tree.customer_member, po_number="OPEN"
        ),
        "WINDOW-CLOSED": await store_order(
            database,
            customer=tree.customer,
            member=tree.customer_member,
            po_number="WINDOW-CLOSED",
            ordered_at=now - CANCEL_WINDOW,
        ),
        "ISSUED": await store_order(
            database,
            customer=tree.customer,
            member=tree.customer_member,
            po_number="ISSUED",
            status=OrderStatus.ISSUED,
        ),
        "CANCELLED": await store_order(
            database,
            customer=tree.customer,
            member=tree.customer_member,
            po_number="CANCELLED",
            status=OrderStatus.CANCELLED,
        ),
    }

    result = await history(uow, 1, now=now)

    rows = {row.order.po_number: row for row in result.page.items}
    assert rows.keys() == stored.keys()
    assert rows["OPEN"].cancel_deadline == NOW + CANCEL_WINDOW
    assert rows["OPEN"].can_cancel
    assert rows["WINDOW-CLOSED"].cancel_deadline is None
    assert not rows["WINDOW-CLOSED"].can_cancel
    assert rows["ISSUED"].cancel_deadline is None
    assert not rows["ISSUED"].can_cancel
    assert rows["CANCELLED"].cancel_deadline is None
    assert not rows["CANCELLED"].can_cancel


async def test_history_deadline_gone_at_fourteen_days(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_orders(database, tree, 1)

    before = await history(uow, 1, now=NOW + CANCEL_WINDOW - timedelta(seconds=1))
    at = await history(uow, 1, now=NOW + CANCEL_WINDOW)

    assert before.page.items[0].cancel_deadline == NOW + CANCEL_WINDOW
    assert at.page.items[0].cancel_deadline is None


async def test_history_shows_only_own_orders(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_orders(database, tree, 2)
    await store_order(
        database,
        customer=tree.other_customer,
        member=tree.other_customer_member,
        po_number="FOREIGN",
    )

    result = await history(uow, 1)

    assert result.customer == tree.customer
    assert result.page.total_items == 2
    assert po_numbers(result) == ["PO-001", "PO-000"]


async def test_history_commits_nothing(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_orders(database, tree, 3)

    await history(uow, 1)

    assert uow.commit_count == 0


async def test_history_by_dealer_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotAllowed, match="see the order history"):
        await history(uow, 1, user=DEALER_USER)


async def test_history_unlinked_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotLinked):
        await history(uow, 1, user=UNLINKED_USER)
