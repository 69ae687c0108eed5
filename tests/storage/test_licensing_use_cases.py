"""The license use cases running end to end on the SQL storage, outbox included."""

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import IssuanceNotCancellable, LicenseKeyNotAccepted, StockShort
from core.licenses import LicenseState
from core.notifications import NotificationKind, NotificationStatus
from core.orders import OrderStatus
from core.policy import LicensingPolicy
from core.use_cases.audit_trail import organisation_trail
from core.use_cases.inventory import (
    activate_key,
    assign_license,
    preview_assign,
    unassign_license,
)
from core.use_cases.issuances import cancel_issuance
from core.use_cases.issuing import issue_order, order_for_reply
from core.use_cases.ordering import place_order
from core.use_cases.supply import add_stock, generate_cards
from storage import Database, Outbox

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = LicensingPolicy()
DEALER_USER = 6_000_000_001
HQ_USER = 6_000_000_002


@pytest.fixture
async def people(database: Database, tree) -> None:
    """Add a member to the tree's dealer and one to headquarters."""
    async with database.unit_of_work() as uow:
        await uow.members.add(
            telegram_user_id=DEALER_USER, organisation_id=tree.dealer_id, name="Dora", now=NOW
        )
        await uow.members.add(
            telegram_user_id=HQ_USER, organisation_id=tree.hq_id, name="Hal", now=NOW
        )
        await uow.commit()


async def _place_and_issue(database: Database, tree, po_number: str, quantity: int):
    placed = await place_order(
        database.unit_of_work(),
        telegram_user_id=tree.member_telegram_user_id,
        po_number=po_number,
        quantity=quantity,
        policy=POLICY,
        now=NOW,
    )
    return await issue_order(
        database.unit_of_work(),
        telegram_user_id=DEALER_USER,
        order_id=placed.order.id,
        now=NOW + timedelta(hours=1),
    )


async def _assign(database: Database, tree, email: str, now: datetime):
    preview = await preview_assign(
        database.unit_of_work(),
        telegram_user_id=tree.member_telegram_user_id,
        email=email,
        now=now,
    )
    return await assign_license(
        database.unit_of_work(),
        telegram_user_id=tree.member_telegram_user_id,
        email=email,
        license_id=preview.license.id,
        now=now,
    )


async def test_issue_moves_stock(database: Database, tree, people) -> None:
    stock = await add_stock(database.unit_of_work(), dealer_name="Dealer One", count=5, now=NOW)

    issued = await _place_and_issue(database, tree, "PO-1", 3)
    async with database.unit_of_work() as uow:
        licenses = await uow.licenses.list_for_order(issued.order.id)
        unused, assigned = await uow.licenses.count_inventory(tree.customer_id, NOW)

    assert stock == 5
    assert issued.stock_left == 2
    assert issued.order.status is OrderStatus.ISSUED
    assert len(licenses) == 3
    assert {license.state for license in licenses} == {LicenseState.UNUSED}
    assert (unused, assigned) == (3, 0)


async def test_issue_short_moves_nothing(database: Database, tree, people) -> None:
    await add_stock(database.unit_of_work(), dealer_name="Dealer One", count=2, now=NOW)

    with pytest.raises(StockShort, match="has 2 licenses"):
        await _place_and_issue(database, tree, "PO-1", 3)
    async with database.unit_of_work() as uow:
        stock = await uow.licenses.count_in_stock(tree.dealer_id)

    assert stock == 2


async def test_reply_resolves_order(database: Database, tree, people) -> None:
    placed = await place_order(
        database.unit_of_work(),
        telegram_user_id=tree.member_telegram_user_id,
        po_number="PO-1",
        quantity=1,
        policy=POLICY,
        now=NOW,
    )
    outbox = Outbox(database)
    (notification,) = await outbox.claim_due(
        now=NOW, limit=10, claimer="test", stale_after=timedelta(minutes=5)
    )
    await outbox.mark_sent(notification.id, claimer="test", message_id=77, now=NOW)

    order_id = await order_for_reply(
        database.unit_of_work(), telegram_user_id=DEALER_USER, chat_id=DEALER_USER, message_id=77
    )

    assert notification.kind is NotificationKind.ORDER_PLACED
    assert notification.chat_id == DEALER_USER
    assert order_id == placed.order.id


async def test_issue_notifies_customer(database: Database, tree, people) -> None:
    await add_stock(database.unit_of_work(), dealer_name="Dealer One", count=1, now=NOW)
    await _place_and_issue(database, tree, "PO-1", 1)

    pending = await Outbox(database).list([NotificationStatus.PENDING], limit=10)

    # Newest first.
    assert [notification.kind for notification in pending] == [
        NotificationKind.ORDER_ISSUED,
        NotificationKind.ORDER_PLACED,
    ]
    assert pending[0].chat_id == tree.member_telegram_user_id


async def test_unassign_keeps_expiry(database: Database, tree, people) -> None:
    await add_stock(database.unit_of_work(), dealer_name="Dealer One", count=2, now=NOW)
    await _place_and_issue(database, tree, "PO-1", 2)

    first = await _assign(database, tree, "ana@example.com", NOW)
    await unassign_license(
        database.unit_of_work(),
        telegram_user_id=tree.member_telegram_user_id,
        email="ana@example.com",
        now=NOW + timedelta(days=1),
    )
    second = await _assign(database, tree, "bo@example.com", NOW + timedelta(days=2))

    assert second.id == first.id
    assert second.expires_at == first.expires_at
    assert second.email == "bo@example.com"


async def test_cancel_issuance_returns_stock(database: Database, tree, people) -> None:
    await add_stock(database.unit_of_work(), dealer_name="Dealer One", count=3, now=NOW)
    issued = await _place_and_issue(database, tree, "PO-1", 3)

    cancelled = await cancel_issuance(
        database.unit_of_work(),
        telegram_user_id=HQ_USER,
        order_id=issued.order.id,
        reason="Wrong customer",
        policy=POLICY,
        now=NOW + timedelta(days=1),
    )
    async with database.unit_of_work() as uow:
        stock = await uow.licenses.count_in_stock(tree.dealer_id)
        licenses = await uow.licenses.list_for_order(issued.order.id)

    assert cancelled.licenses_returned == 3
    assert cancelled.order.status is OrderStatus.ON_ORDER
    assert stock == 3
    assert licenses == []


async def test_cancel_issuance_after_assignment_refused(database: Database, tree, people) -> None:
    await add_stock(database.unit_of_work(), dealer_name="Dealer One", count=2, now=NOW)
    issued = await _place_and_issue(database, tree, "PO-1", 2)
    await _assign(database, tree, "ana@example.com", NOW + timedelta(hours=2))

    with pytest.raises(IssuanceNotCancellable, match="1 of the 2 licenses"):
        await cancel_issuance(
            database.unit_of_work(),
            telegram_user_id=HQ_USER,
            order_id=issued.order.id,
            reason="Wrong customer",
            policy=POLICY,
            now=NOW + timedelta(days=1),
        )


async def test_activate_key_once(database: Database, tree) -> None:
    (key,) = await generate_cards(database.unit_of_work(), count=1, now=NOW)

    license = await activate_key(
        database.unit_of_work(), telegram_user_id=tree.member_telegram_user_id, key=key, now=NOW
    )
    with pytest.raises(LicenseKeyNotAccepted, match="already activated"):
        await activate_key(
            database.unit_of_work(),
            telegram_user_id=tree.member_telegram_user_id,
            key=key,
            now=NOW,
        )
    async with database.unit_of_work() as uow:
        failures = await uow.key_attempts.failures_since(tree.member_id, NOW - timedelta(hours=1))

    assert license.customer_id == tree.customer_id
    assert failures == [NOW]


async def test_organisation_trail_of_dealer(database: Database, tree, people) -> None:
    await add_stock(database.unit_of_work(), dealer_name="Dealer One", count=1, now=NOW)
    await _place_and_issue(database, tree, "PO-1", 1)

    entries = await organisation_trail(
        database.unit_of_work(), organisation_name="Dealer One", since=None
    )

    assert [entry.action for entry in entries] == ["stock.added", "order.placed", "order.issued"]
