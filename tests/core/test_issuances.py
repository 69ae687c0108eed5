"""Cancelling an issuance: who may, until when, and what it puts back."""

from datetime import timedelta

import pytest

from core.errors import InvalidInput, IssuanceNotCancellable, NotAllowed, NotFound
from core.licenses import LicenseState
from core.notifications import NotificationKind
from core.orders import OrderStatus
from core.organisations import Tier
from core.policy import LicensingPolicy
from core.use_cases.inventory import unassign_license
from core.use_cases.issuances import (
    MAX_REASON_LENGTH,
    cancel_issuance,
    cancellable_issuances,
    normalise_reason,
    preview_cancel_issuance,
)
from core.use_cases.ordering import cancel_order
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import (
    CANCEL_WINDOW,
    CUSTOMER_USER,
    DEALER_USER,
    DISTRIBUTED_DEALER_USER,
    HEADQUARTERS_USER,
    JUST_BEFORE_DEADLINE,
    NORTH_USER,
    NOW,
    OTHER_CUSTOMER_USER,
    SOUTH_DEALER_USER,
    SOUTH_USER,
    Tree,
    add_member,
    set_dealer,
)
from tests.core.steps import (
    POLICY,
    assign,
    cancel_issue,
    inventory_of,
    issue,
    licenses_of_order,
    notifications,
    place,
    place_and_issue,
    stock,
    stock_of,
)


async def issued_to_acme(database: FakeDatabase, tree: Tree, quantity: int = 3) -> int:
    """Issue an order of Acme Clinic by North Dealer at NOW and return its id."""
    await stock(database, tree.north_dealer, quantity)
    order = await place_and_issue(database, "PO-1", quantity)
    return order.id


async def issued_by_distributed_dealer(database: FakeDatabase, tree: Tree) -> int:
    """Issue an order of Other Clinic by Distributed Dealer, which sits under a distributor."""
    await set_dealer(database, tree.other_customer, tree.distributed_dealer)
    await stock(database, tree.distributed_dealer, 2)
    order = await place_and_issue(
        database,
        "PO-D",
        2,
        customer_user=OTHER_CUSTOMER_USER,
        dealer_user=DISTRIBUTED_DEALER_USER,
    )
    return order.id


async def issued_by_south_dealer(database: FakeDatabase, tree: Tree) -> int:
    await set_dealer(database, tree.other_customer, tree.south_dealer)
    await stock(database, tree.south_dealer, 2)
    order = await place_and_issue(
        database, "PO-S", 2, customer_user=OTHER_CUSTOMER_USER, dealer_user=SOUTH_DEALER_USER
    )
    return order.id


# Who may cancel an issuance


async def test_headquarters_cancels_any_dealer(database: FakeDatabase, tree: Tree) -> None:
    north = await issued_to_acme(database, tree)
    south = await issued_by_south_dealer(database, tree)

    await cancel_issue(database, north, user=HEADQUARTERS_USER)
    await cancel_issue(database, south, user=HEADQUARTERS_USER)

    assert database.committed.orders[north].status is OrderStatus.ON_ORDER
    assert database.committed.orders[south].status is OrderStatus.ON_ORDER


async def test_centre_cancels_own_dealer(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)

    cancelled = await cancel_issue(database, order_id, user=NORTH_USER)

    assert cancelled.order.status is OrderStatus.ON_ORDER


async def test_centre_cancels_dealer_under_distributor(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_by_distributed_dealer(database, tree)

    cancelled = await cancel_issue(database, order_id, user=NORTH_USER)

    assert cancelled.order.status is OrderStatus.ON_ORDER
    assert cancelled.dealer == tree.distributed_dealer


async def test_other_centre_not_found(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)

    with pytest.raises(NotFound):
        await cancel_issue(database, order_id, user=SOUTH_USER)

    assert database.committed.orders[order_id].status is OrderStatus.ISSUED


async def test_north_centre_not_found_for_south(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_by_south_dealer(database, tree)

    with pytest.raises(NotFound):
        await cancel_issue(database, order_id, user=NORTH_USER)


@pytest.mark.parametrize("user", [DEALER_USER, CUSTOMER_USER, SOUTH_DEALER_USER])
async def test_cancel_by_lower_tier_not_allowed(
    database: FakeDatabase, tree: Tree, user: int
) -> None:
    order_id = await issued_to_acme(database, tree)

    with pytest.raises(NotAllowed, match="Only headquarters and business centre"):
        await cancel_issue(database, order_id, user=user)

    assert database.committed.orders[order_id].status is OrderStatus.ISSUED


async def test_cancel_unknown_order(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotFound):
        await cancel_issue(database, 999_999)


# When an issuance can be cancelled


async def test_cancel_just_before_fourteen_days(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)

    cancelled = await cancel_issue(database, order_id, now=NOW + JUST_BEFORE_DEADLINE)

    assert cancelled.licenses_returned == 3


async def test_cancel_rejected_at_fourteen_days(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)

    with pytest.raises(IssuanceNotCancellable, match="14 days old"):
        await cancel_issue(database, order_id, now=NOW + CANCEL_WINDOW)

    assert len(licenses_of_order(database, order_id)) == 3


async def test_cancel_rejected_when_assigned(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    await assign(database, "ana@example.com")

    with pytest.raises(IssuanceNotCancellable, match="1 of the 3 licenses"):
        await cancel_issue(database, order_id)

    assert database.committed.orders[order_id].status is OrderStatus.ISSUED


async def test_cancel_rejected_after_unassign(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    await assign(database, "ana@example.com")
    await unassign_license(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        email="ana@example.com",
        now=NOW,
    )
    assert all(
        license.state is LicenseState.UNUSED for license in licenses_of_order(database, order_id)
    )

    with pytest.raises(IssuanceNotCancellable, match="have been assigned"):
        await cancel_issue(database, order_id)


async def test_cancel_rejected_when_not_issued(database: FakeDatabase, tree: Tree) -> None:
    order = await place(database, "PO-1", 1)

    with pytest.raises(IssuanceNotCancellable, match="not issued"):
        await cancel_issue(database, order.id)


async def test_cancel_twice_rejected(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    await cancel_issue(database, order_id)

    with pytest.raises(IssuanceNotCancellable, match="not issued"):
        await cancel_issue(database, order_id, now=NOW + timedelta(minutes=1))


# The reason


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
async def test_cancel_requires_reason(database: FakeDatabase, tree: Tree, reason: str) -> None:
    order_id = await issued_to_acme(database, tree)

    with pytest.raises(InvalidInput, match="reason is required"):
        await cancel_issue(database, order_id, reason=reason)

    assert database.committed.orders[order_id].status is OrderStatus.ISSUED


async def test_cancel_accepts_longest_reason(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    reason = "r" * MAX_REASON_LENGTH

    await cancel_issue(database, order_id, reason=reason)

    assert database.committed.audit[-1].after["reason"] == reason


async def test_cancel_rejects_long_reason(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)

    with pytest.raises(InvalidInput, match="at most 500 characters; this one has 501"):
        await cancel_issue(database, order_id, reason="r" * (MAX_REASON_LENGTH + 1))


def test_reason_on_one_line() -> None:
    assert normalise_reason("  Wrong\n  customer\tentered ") == "Wrong customer entered"


def test_reason_length_after_collapsing() -> None:
    text = "a " * MAX_REASON_LENGTH

    with pytest.raises(InvalidInput, match="this one has 999"):
        normalise_reason(text)


# What a cancelled issuance changes


async def test_cancel_reopens_order(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    now = NOW + timedelta(days=10)

    cancelled = await cancel_issue(database, order_id, now=now)

    stored = database.committed.orders[order_id]
    assert stored == cancelled.order
    assert stored.status is OrderStatus.ON_ORDER
    assert stored.issued_at is None
    assert stored.window_opened_at == now
    assert stored.cancel_deadline(CANCEL_WINDOW) == now + CANCEL_WINDOW


async def test_customer_cancels_after_reopening(database: FakeDatabase, tree: Tree) -> None:
    # The first window closed at NOW + 14 days, and the new one runs from NOW + 10 days.
    order_id = await issued_to_acme(database, tree)
    reopened_at = NOW + timedelta(days=10)
    await cancel_issue(database, order_id, now=reopened_at)

    cancelled = await cancel_order(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        order_id=order_id,
        policy=POLICY,
        now=reopened_at + JUST_BEFORE_DEADLINE,
    )

    assert cancelled.status is OrderStatus.CANCELLED


async def test_cancel_returns_licenses_to_stock(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    issued_ids = {license.id for license in licenses_of_order(database, order_id)}

    cancelled = await cancel_issue(database, order_id)

    back = stock_of(database, tree.north_dealer)
    assert {license.id for license in back} == issued_ids
    assert all(license.customer_id is None for license in back)
    assert all(license.order_id is None for license in back)
    assert inventory_of(database, tree.customer) == []
    assert cancelled.licenses_returned == 3


async def test_cancel_returns_to_issuing_dealer(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    await set_dealer(database, tree.customer, tree.south_dealer)

    await cancel_issue(database, order_id)

    assert len(stock_of(database, tree.north_dealer)) == 3
    assert stock_of(database, tree.south_dealer) == []


async def test_cancel_keeps_card_licenses(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    uow = FakeUnitOfWork(database)
    async with uow:
        card_license = await uow.licenses.add_to_inventory(tree.customer.id)
        await uow.commit()

    await cancel_issue(database, order_id)

    assert inventory_of(database, tree.customer) == [card_license]


async def test_order_issued_again_after_cancel(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    await cancel_issue(database, order_id)

    issued = await issue(database, order_id, now=NOW + timedelta(days=1))

    assert issued.order.status is OrderStatus.ISSUED
    assert len(licenses_of_order(database, order_id)) == 3
    assert issued.stock_left == 0


async def test_cancel_notifies_customer_and_dealer(database: FakeDatabase, tree: Tree) -> None:
    second_dealer_member = await add_member(database, tree.north_dealer, 5_000_000_102, "Dora")
    order_id = await issued_to_acme(database, tree)

    await cancel_issue(database, order_id)

    sent = notifications(database, NotificationKind.ISSUANCE_CANCELLED)
    assert [n.member_id for n in sent] == [
        tree.customer_member.id,
        tree.dealer_member.id,
        second_dealer_member.id,
    ]
    assert all(n.order_id == order_id for n in sent)


async def test_cancel_notification_payload(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    now = NOW + timedelta(days=2)

    await cancel_issue(database, order_id, reason="  Wrong\ncustomer ", user=NORTH_USER, now=now)

    sent = notifications(database, NotificationKind.ISSUANCE_CANCELLED)
    payload = sent[0].payload
    assert payload["reason"] == "Wrong customer"
    assert payload["cancelled_by"] == "North Centre"
    assert payload["cancel_deadline"] == (now + CANCEL_WINDOW).isoformat()
    assert payload["po_number"] == "PO-1"
    assert payload["quantity"] == 3
    assert payload["issued_at"] is None
    assert sent[0].created_at == now


async def test_cancel_payload_names_recipient(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)

    await cancel_issue(database, order_id)

    customer_copy, dealer_copy = notifications(database, NotificationKind.ISSUANCE_CANCELLED)
    assert customer_copy.payload["recipient_tier"] == Tier.CUSTOMER
    assert dealer_copy.payload["recipient_tier"] == Tier.DEALER
    shared = {key for key in customer_copy.payload if key != "recipient_tier"}
    assert shared == {key for key in dealer_copy.payload if key != "recipient_tier"}
    assert all(customer_copy.payload[key] == dealer_copy.payload[key] for key in shared)


async def test_cancel_records_audit(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    now = NOW + timedelta(hours=1)

    await cancel_issue(database, order_id, reason="Duplicate", now=now)

    entry = database.committed.audit[-1]
    assert entry.action == "issuance.cancelled"
    assert entry.entity_id == order_id
    assert entry.actor_member_id == tree.headquarters_member.id
    assert entry.organisation_id == tree.customer.id
    assert entry.at == now
    assert entry.before == {"status": "issued", "issued_at": NOW.isoformat()}
    assert entry.after == {
        "status": "on_order",
        "issued_at": None,
        "licenses_returned": 3,
        "reason": "Duplicate",
    }


async def test_rejected_cancel_commits_nothing(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    uow = FakeUnitOfWork(database)

    with pytest.raises(IssuanceNotCancellable):
        await cancel_issuance(
            uow,
            telegram_user_id=HEADQUARTERS_USER,
            order_id=order_id,
            reason="Late",
            policy=POLICY,
            now=NOW + CANCEL_WINDOW,
        )

    assert uow.commit_count == 0
    assert notifications(database, NotificationKind.ISSUANCE_CANCELLED) == []


# preview_cancel_issuance


async def test_preview_returns_deadline(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    uow = FakeUnitOfWork(database)

    preview = await preview_cancel_issuance(
        uow, telegram_user_id=NORTH_USER, order_id=order_id, policy=POLICY, now=NOW
    )

    assert preview.deadline == NOW + CANCEL_WINDOW
    assert preview.customer == tree.customer
    assert preview.dealer == tree.north_dealer
    assert uow.commit_count == 0


async def test_preview_rejected_when_assigned(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    await assign(database, "ana@example.com")

    with pytest.raises(IssuanceNotCancellable):
        await preview_cancel_issuance(
            FakeUnitOfWork(database),
            telegram_user_id=HEADQUARTERS_USER,
            order_id=order_id,
            policy=POLICY,
            now=NOW,
        )


async def test_preview_other_centre(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)

    with pytest.raises(NotFound):
        await preview_cancel_issuance(
            FakeUnitOfWork(database),
            telegram_user_id=SOUTH_USER,
            order_id=order_id,
            policy=POLICY,
            now=NOW,
        )


# cancellable_issuances


async def list_issuances(
    database: FakeDatabase,
    user: int,
    *,
    page_number: int = 1,
    policy: LicensingPolicy = POLICY,
    after: timedelta = timedelta(0),
) -> list[int]:
    """Return the ids of one page of issuances listed at NOW + ``after``."""
    page = await cancellable_issuances(
        FakeUnitOfWork(database),
        telegram_user_id=user,
        page_number=page_number,
        policy=policy,
        now=NOW + after,
    )
    return [row.order.id for row in page.items]


async def test_list_newest_first(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 3)
    older = await place_and_issue(database, "PO-1", 1)
    newer = await place_and_issue(database, "PO-2", 1, now=NOW + timedelta(hours=1))
    oldest = await place(database, "PO-3", 1, now=NOW - timedelta(hours=2))
    await issue(database, oldest.id, now=NOW - timedelta(hours=1))

    ids = await list_issuances(database, HEADQUARTERS_USER, after=timedelta(hours=2))

    assert ids == [newer.id, older.id, oldest.id]


async def test_list_paging(database: FakeDatabase, tree: Tree) -> None:
    policy = LicensingPolicy(page_size=2)
    await stock(database, tree.north_dealer, 5)
    orders = [
        await place_and_issue(database, f"PO-{i}", 1, now=NOW + timedelta(minutes=i))
        for i in range(5)
    ]
    later = timedelta(hours=1)

    first = await list_issuances(database, HEADQUARTERS_USER, policy=policy, after=later)
    second = await list_issuances(
        database, HEADQUARTERS_USER, page_number=2, policy=policy, after=later
    )
    third = await list_issuances(
        database, HEADQUARTERS_USER, page_number=3, policy=policy, after=later
    )

    assert first == [orders[4].id, orders[3].id]
    assert second == [orders[2].id, orders[1].id]
    assert third == [orders[0].id]


async def test_list_page_count(database: FakeDatabase, tree: Tree) -> None:
    policy = LicensingPolicy(page_size=2)
    await stock(database, tree.north_dealer, 3)
    for i in range(3):
        await place_and_issue(database, f"PO-{i}", 1)

    page = await cancellable_issuances(
        FakeUnitOfWork(database),
        telegram_user_id=HEADQUARTERS_USER,
        page_number=2,
        policy=policy,
        now=NOW,
    )

    assert page.total_items == 3
    assert page.total_pages == 2
    assert not page.has_next


async def test_list_page_out_of_range(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(InvalidInput, match="Page 2 does not exist"):
        await list_issuances(database, HEADQUARTERS_USER, page_number=2)


async def test_list_area_of_centre(database: FakeDatabase, tree: Tree) -> None:
    north = await issued_to_acme(database, tree)
    distributed = await issued_by_distributed_dealer(database, tree)

    north_ids = await list_issuances(database, NORTH_USER)
    south_ids = await list_issuances(database, SOUTH_USER)
    all_ids = await list_issuances(database, HEADQUARTERS_USER)

    assert sorted(north_ids) == sorted([north, distributed])
    assert south_ids == []
    assert sorted(all_ids) == sorted([north, distributed])


async def test_list_south_centre(database: FakeDatabase, tree: Tree) -> None:
    await issued_to_acme(database, tree)
    south = await issued_by_south_dealer(database, tree)

    assert await list_issuances(database, SOUTH_USER) == [south]


async def test_list_leaves_out_old(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)

    before = await list_issuances(database, HEADQUARTERS_USER, after=JUST_BEFORE_DEADLINE)
    at_deadline = await list_issuances(database, HEADQUARTERS_USER, after=CANCEL_WINDOW)

    assert before == [order_id]
    assert at_deadline == []


async def test_list_leaves_out_assigned(database: FakeDatabase, tree: Tree) -> None:
    await issued_to_acme(database, tree)
    await assign(database, "ana@example.com")

    assert await list_issuances(database, HEADQUARTERS_USER) == []


async def test_list_leaves_out_reopened(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued_to_acme(database, tree)
    await cancel_issue(database, order_id)

    assert await list_issuances(database, HEADQUARTERS_USER) == []


async def test_list_shows_deadline(database: FakeDatabase, tree: Tree) -> None:
    await issued_to_acme(database, tree)

    page = await cancellable_issuances(
        FakeUnitOfWork(database),
        telegram_user_id=HEADQUARTERS_USER,
        page_number=1,
        policy=POLICY,
        now=NOW,
    )

    [row] = page.items
    assert row.deadline == NOW + CANCEL_WINDOW
    assert row.customer == tree.customer
    assert row.dealer == tree.north_dealer


@pytest.mark.parametrize(
    ("user", "timezone"), [(HEADQUARTERS_USER, "UTC"), (NORTH_USER, "Europe/Berlin")]
)
async def test_list_in_reader_timezone(
    database: FakeDatabase, tree: Tree, user: int, timezone: str
) -> None:
    await issued_to_acme(database, tree)

    page = await cancellable_issuances(
        FakeUnitOfWork(database), telegram_user_id=user, page_number=1, policy=POLICY, now=NOW
    )

    assert page.items[0].timezone == timezone


@pytest.mark.parametrize("user", [DEALER_USER, CUSTOMER_USER])
async def test_list_by_lower_tier(database: FakeDatabase, tree: Tree, user: int) -> None:
    with pytest.raises(NotAllowed):
        await list_issuances(database, user)


@pytest.mark.parametrize("reason", ["Refund \u202e000,01 EUR", "Bad\x1b[31m red"])
def test_reason_rejects_control_characters(reason: str) -> None:
    from core.errors import InvalidInput
    from core.use_cases.issuances import normalise_reason

    with pytest.raises(InvalidInput, match="plain text"):
        normalise_reason(reason)
