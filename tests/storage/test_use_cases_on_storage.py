"""The core use cases running end to end on the SQL storage."""

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import AlreadyLinked, DuplicatePoNumber, InvalidInvite, InvalidOrganisation
from core.orders import OrderStatus
from core.organisations import Organisation, Tier
from core.policy import LicensingPolicy
from core.use_cases.dealers import choose_dealer
from core.use_cases.history import order_history
from core.use_cases.membership import add_member, create_invite, redeem_invite
from core.use_cases.ordering import cancel_order, place_order
from core.use_cases.organisations import add_organisation
from storage import Database

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = LicensingPolicy(page_size=2)
CUSTOMER_USER = 6_000_000_001
SECOND_USER = 6_000_000_002


async def _add(
    database: Database,
    name: str,
    tier: Tier,
    parent_name: str | None,
    dealer_name: str | None = None,
) -> Organisation:
    return await add_organisation(
        database.unit_of_work(),
        name=name,
        tier=tier,
        parent_name=parent_name,
        dealer_name=dealer_name,
        timezone="Europe/Berlin",
        now=NOW,
    )


@pytest.fixture
async def customer(database: Database) -> Organisation:
    """Build headquarters → business centre → two dealers → customer, with one member."""
    await _add(database, "Vendor HQ", Tier.HEADQUARTERS, None)
    await _add(database, "Centre North", Tier.BUSINESS_CENTRE, "vendor hq")
    await _add(database, "Dealer One", Tier.DEALER, "Centre North")
    await _add(database, "Dealer Two", Tier.DEALER, "Centre North")
    customer = await _add(database, "Clinic Ost", Tier.CUSTOMER, "dealer one")
    await add_member(
        database.unit_of_work(),
        organisation_name="clinic ost",
        telegram_user_id=CUSTOMER_USER,
        name="Ana",
        now=NOW,
    )
    return customer


async def _place(database: Database, po_number: str, now: datetime = NOW):
    return await place_order(
        database.unit_of_work(),
        telegram_user_id=CUSTOMER_USER,
        po_number=po_number,
        quantity=3,
        policy=POLICY,
        now=now,
    )


async def test_customer_gets_parent_dealer(database: Database, customer) -> None:
    async with database.unit_of_work() as uow:
        dealer = await uow.organisations.get_by_name("Dealer One")

    assert dealer is not None
    assert customer.dealer_id == dealer.id


async def test_duplicate_organisation_name(database: Database, customer) -> None:
    with pytest.raises(InvalidOrganisation, match="already taken"):
        await _add(database, "CLINIC OST", Tier.CUSTOMER, "Dealer Two")


async def test_add_member_links_user(database: Database, customer) -> None:
    async with database.unit_of_work() as uow:
        member = await uow.members.get_by_telegram_user(CUSTOMER_USER)

    assert member is not None
    assert member.organisation_id == customer.id


async def test_add_member_twice_rejected(database: Database, customer) -> None:
    with pytest.raises(AlreadyLinked):
        await add_member(
            database.unit_of_work(),
            organisation_name="Dealer One",
            telegram_user_id=CUSTOMER_USER,
            name=None,
            now=NOW,
        )


async def test_place_order(database: Database, customer) -> None:
    placed = await _place(database, "PO-1")

    assert placed.order.status is OrderStatus.ON_ORDER
    assert placed.dealer.name == "Dealer One"


async def test_place_duplicate_po(database: Database, customer) -> None:
    await _place(database, "PO-1")

    with pytest.raises(DuplicatePoNumber):
        await _place(database, " po-1 ")


async def test_place_writes_audit(database: Database, customer) -> None:
    placed = await _place(database, "PO-1")

    async with database.unit_of_work() as uow:
        entries = await uow.audit.list_for_entity("order", placed.order.id)

    assert [entry.action for entry in entries] == ["order.placed"]
    assert entries[0].after["po_number"] == "PO-1"


async def test_cancel_order(database: Database, customer) -> None:
    placed = await _place(database, "PO-1")

    cancelled = await cancel_order(
        database.unit_of_work(),
        telegram_user_id=CUSTOMER_USER,
        order_id=placed.order.id,
        policy=POLICY,
        now=NOW + timedelta(days=1),
    )
    async with database.unit_of_work() as uow:
        stored = await uow.orders.get(placed.order.id)

    assert stored == cancelled
    assert stored.status is OrderStatus.CANCELLED


async def test_order_history_pages(database: Database, customer) -> None:
    for day in range(3):
        await _place(database, f"PO-{day}", now=NOW + timedelta(days=day))

    history = await order_history(
        database.unit_of_work(),
        telegram_user_id=CUSTOMER_USER,
        page_number=1,
        policy=POLICY,
        now=NOW + timedelta(days=3),
    )

    assert [row.order.po_number for row in history.page.items] == ["PO-2", "PO-1"]
    assert history.page.total_items == 3
    assert history.page.total_pages == 2


async def test_order_history_cancel_window(database: Database, customer) -> None:
    await _place(database, "PO-old", now=NOW - timedelta(days=20))
    await _place(database, "PO-new", now=NOW)

    history = await order_history(
        database.unit_of_work(),
        telegram_user_id=CUSTOMER_USER,
        page_number=1,
        policy=POLICY,
        now=NOW + timedelta(hours=1),
    )
    can_cancel = {row.order.po_number: row.can_cancel for row in history.page.items}

    assert can_cancel == {"PO-new": True, "PO-old": False}


async def test_invite_redeemed_once(database: Database, customer) -> None:
    invite = await create_invite(database.unit_of_work(), organisation_name="Dealer Two", now=NOW)
    context = await redeem_invite(
        database.unit_of_work(),
        code=invite.code,
        telegram_user_id=SECOND_USER,
        name="Bo",
        now=NOW + timedelta(minutes=5),
    )

    assert context.organisation.name == "Dealer Two"
    with pytest.raises(InvalidInvite, match="already used"):
        await redeem_invite(
            database.unit_of_work(),
            code=invite.code,
            telegram_user_id=SECOND_USER + 1,
            name="Cy",
            now=NOW + timedelta(minutes=6),
        )


async def test_choose_dealer(database: Database, customer) -> None:
    async with database.unit_of_work() as uow:
        dealer_two = await uow.organisations.get_by_name("Dealer Two")
    assert dealer_two is not None

    choice = await choose_dealer(
        database.unit_of_work(),
        telegram_user_id=CUSTOMER_USER,
        dealer_id=dealer_two.id,
        now=NOW,
    )

    assert choice.current == dealer_two
    assert [dealer.name for dealer in choice.candidates] == ["Dealer One", "Dealer Two"]
