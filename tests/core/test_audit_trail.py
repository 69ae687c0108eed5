"""Reading the audit trail of an order or of an organisation."""

from datetime import timedelta

import pytest

from core.errors import InvalidPoNumber, NotAllowed, NotFound
from core.use_cases.audit_trail import order_trails, organisation_trail
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import (
    CUSTOMER_USER,
    DEALER_USER,
    HEADQUARTERS_USER,
    NORTH_USER,
    NOW,
    OTHER_CUSTOMER_USER,
    SOUTH_DEALER_USER,
    SOUTH_USER,
    Tree,
    set_dealer,
)
from tests.core.steps import cancel_issue, place, place_and_issue, stock


async def trails(database: FakeDatabase, user: int, po_number: str) -> list:
    return await order_trails(FakeUnitOfWork(database), telegram_user_id=user, po_number=po_number)


async def test_trail_entries_oldest_first(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 2)
    order = await place_and_issue(database, "PO-1", 2)
    await cancel_issue(database, order.id, now=NOW + timedelta(hours=1))

    [trail] = await trails(database, HEADQUARTERS_USER, "PO-1")

    assert trail.order.id == order.id
    assert trail.customer_name == "Acme Clinic"
    assert [entry.action for entry in trail.entries] == [
        "order.placed",
        "order.issued",
        "issuance.cancelled",
    ]


async def test_trail_only_about_order(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 1)
    await place(database, "PO-2", 1)

    [trail] = await trails(database, HEADQUARTERS_USER, "PO-1")

    assert all(entry.entity == "order" for entry in trail.entries)
    assert all(entry.entity_id == trail.order.id for entry in trail.entries)


async def test_headquarters_sees_every_customer(database: FakeDatabase, tree: Tree) -> None:
    await set_dealer(database, tree.other_customer, tree.south_dealer)
    await place(database, "PO-1", 1)
    await place(database, "PO-1", 1, user=OTHER_CUSTOMER_USER)

    found = await trails(database, HEADQUARTERS_USER, "PO-1")

    assert sorted(trail.customer_name for trail in found) == ["Acme Clinic", "Other Clinic"]


async def test_centre_sees_only_its_dealers(database: FakeDatabase, tree: Tree) -> None:
    await set_dealer(database, tree.other_customer, tree.south_dealer)
    north = await place(database, "PO-1", 1)
    south = await place(database, "PO-1", 1, user=OTHER_CUSTOMER_USER)

    north_found = await trails(database, NORTH_USER, "PO-1")
    south_found = await trails(database, SOUTH_USER, "PO-1")

    assert [trail.order.id for trail in north_found] == [north.id]
    assert [trail.order.id for trail in south_found] == [south.id]


async def test_centre_sees_dealer_under_distributor(database: FakeDatabase, tree: Tree) -> None:
    await set_dealer(database, tree.customer, tree.distributed_dealer)
    order = await place(database, "PO-1", 1)

    [trail] = await trails(database, NORTH_USER, "PO-1")

    assert trail.order.id == order.id


async def test_other_centre_not_found(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 1)

    with pytest.raises(NotFound, match="No order with PO number PO-1 is visible"):
        await trails(database, SOUTH_USER, "PO-1")


@pytest.mark.parametrize("po_number", ["po-2025/7", "  PO-2025/7 ", "Po-2025/7", "PO-2025/7"])
async def test_trail_po_any_case_and_spacing(
    database: FakeDatabase, tree: Tree, po_number: str
) -> None:
    order = await place(database, "PO-2025/7", 1)

    [trail] = await trails(database, HEADQUARTERS_USER, po_number)

    assert trail.order.id == order.id


async def test_trail_po_inner_spacing(database: FakeDatabase, tree: Tree) -> None:
    order = await place(database, "PO 2025 7", 1)

    [trail] = await trails(database, HEADQUARTERS_USER, "po   2025\u00a07")

    assert trail.order.id == order.id


async def test_trail_unknown_po(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 1)

    with pytest.raises(NotFound):
        await trails(database, HEADQUARTERS_USER, "PO-2")


async def test_trail_empty_po(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(InvalidPoNumber):
        await trails(database, HEADQUARTERS_USER, "   ")


@pytest.mark.parametrize("user", [DEALER_USER, SOUTH_DEALER_USER, CUSTOMER_USER])
async def test_trail_lower_tier_not_allowed(database: FakeDatabase, tree: Tree, user: int) -> None:
    await place(database, "PO-1", 1)

    with pytest.raises(NotAllowed, match="Only headquarters and business centre"):
        await trails(database, user, "PO-1")


async def test_trail_names_actors(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 2)
    order = await place_and_issue(database, "PO-1", 2)
    await cancel_issue(database, order.id, user=NORTH_USER, now=NOW + timedelta(hours=1))

    [trail] = await trails(database, HEADQUARTERS_USER, "PO-1")

    names = [trail.actor_names[entry.actor_member_id] for entry in trail.entries]
    assert names == ["Ana", "Dana", "Nils"]


async def test_trail_actor_names_leave_out_strangers(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 1)

    [trail] = await trails(database, HEADQUARTERS_USER, "PO-1")

    assert tree.other_customer_member.id not in trail.actor_names
    assert tree.south_member.id not in trail.actor_names
    assert trail.actor_names[tree.headquarters_member.id] == "Hana"


@pytest.mark.parametrize(
    ("user", "timezone"), [(HEADQUARTERS_USER, "UTC"), (NORTH_USER, "Europe/Berlin")]
)
async def test_trail_in_reader_timezone(
    database: FakeDatabase, tree: Tree, user: int, timezone: str
) -> None:
    await place(database, "PO-1", 1)

    [trail] = await trails(database, user, "PO-1")

    assert trail.timezone == timezone


async def test_trail_tier_checked_before_po(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotAllowed):
        await trails(database, DEALER_USER, "   ")


# organisation_trail


async def test_organisation_trail(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 1)
    await place_and_issue(database, "PO-1", 1, now=NOW + timedelta(hours=1))

    entries = await organisation_trail(
        FakeUnitOfWork(database), organisation_name="acme clinic", since=None
    )

    assert [entry.action for entry in entries] == ["order.placed", "order.issued"]


async def test_organisation_trail_since(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 1)
    await place(database, "PO-2", 1, now=NOW + timedelta(days=2))

    entries = await organisation_trail(
        FakeUnitOfWork(database), organisation_name="Acme Clinic", since=NOW + timedelta(days=1)
    )

    assert [entry.after["po_number"] for entry in entries] == ["PO-2"]


async def test_organisation_trail_unknown(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotFound):
        await organisation_trail(FakeUnitOfWork(database), organisation_name="Nobody", since=None)
