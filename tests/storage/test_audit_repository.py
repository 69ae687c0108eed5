from datetime import UTC, datetime, timedelta

import pytest

from core.audit import AuditEntry
from core.organisations import Tier
from storage import Database

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


async def test_json_round_trip(database: Database, tree) -> None:
    entry = AuditEntry(
        action="order.cancelled",
        entity="order",
        entity_id=7,
        at=AT,
        actor_member_id=tree.member_id,
        organisation_id=tree.customer_id,
        before={"status": "on_order", "quantity": 3, "note": None},
        after={"status": "cancelled", "tags": ["a", "b"], "nested": {"ü": 1.5}},
    )
    async with database.unit_of_work() as uow:
        await uow.audit.add(entry)
        await uow.commit()
    async with database.unit_of_work() as uow:
        stored = await uow.audit.list_for_entity("order", 7)

    assert stored == [entry]


async def test_operator_entry_round_trip(database: Database, tree) -> None:
    entry = AuditEntry(
        action="organisation.added",
        entity="organisation",
        entity_id=tree.hq_id,
        at=AT,
        actor_member_id=None,
        organisation_id=tree.hq_id,
        after={"name": "Vendor HQ"},
    )
    async with database.unit_of_work() as uow:
        await uow.audit.add(entry)
        await uow.commit()
    async with database.unit_of_work() as uow:
        stored = await uow.audit.list_for_entity("organisation", tree.hq_id)

    assert stored == [entry]


async def test_list_for_entity_filters(database: Database, tree) -> None:
    for entity_id in (1, 2):
        async with database.unit_of_work() as uow:
            await uow.audit.add(
                AuditEntry(
                    action="order.placed",
                    entity="order",
                    entity_id=entity_id,
                    at=AT,
                    actor_member_id=tree.member_id,
                    organisation_id=tree.customer_id,
                )
            )
            await uow.commit()
    async with database.unit_of_work() as uow:
        stored = await uow.audit.list_for_entity("order", 2)

    assert [entry.entity_id for entry in stored] == [2]


async def _add_entries(database: Database, entries: list[AuditEntry]) -> None:
    async with database.unit_of_work() as uow:
        for entry in entries:
            await uow.audit.add(entry)
        await uow.commit()


def _entry(action: str, entity: str, entity_id: int, organisation_id: int | None, minutes: int):
    return AuditEntry(
        action=action,
        entity=entity,
        entity_id=entity_id,
        at=AT + timedelta(minutes=minutes),
        actor_member_id=None,
        organisation_id=organisation_id,
    )


@pytest.fixture
async def trail(database: Database, tree, new_order) -> dict[str, AuditEntry]:
    """Store entries about the tree's customer, its dealer, an order between them and others."""
    async with database.unit_of_work() as uow:
        order = await uow.orders.add(new_order("PO-1"))
        other = await uow.organisations.add(
            name="Dealer Two",
            tier=Tier.DEALER,
            parent_id=tree.centre_id,
            timezone="UTC",
            dealer_id=None,
        )
        await uow.commit()
    entries = {
        "issued": _entry("order.issued", "order", order.id, tree.customer_id, 30),
        "placed": _entry("order.placed", "order", order.id, tree.customer_id, 10),
        "assigned": _entry("license.assigned", "license", 5, tree.customer_id, 20),
        "stock": _entry("stock.added", "organisation", tree.dealer_id, tree.dealer_id, 15),
        "other_stock": _entry("stock.added", "organisation", other.id, other.id, 16),
        # An entry about an order outside the tree.
        "other_order": _entry("order.placed", "order", order.id + 100, None, 17),
        # An entry about another dealer's license whose id is the order's id.
        "other_license": _entry("license.assigned", "license", order.id, other.id, 18),
        "centre": _entry("organisation.added", "organisation", tree.centre_id, tree.hq_id, 1),
    }
    await _add_entries(database, list(entries.values()))
    return entries


async def test_organisation_trail_customer(database: Database, tree, trail) -> None:
    async with database.unit_of_work() as uow:
        stored = await uow.audit.list_for_organisation(tree.customer_id, None)

    assert stored == [trail["placed"], trail["assigned"], trail["issued"]]


async def test_organisation_trail_dealer(database: Database, tree, trail) -> None:
    async with database.unit_of_work() as uow:
        stored = await uow.audit.list_for_organisation(tree.dealer_id, None)

    assert stored == [trail["placed"], trail["stock"], trail["issued"]]


async def test_organisation_trail_since_inclusive(database: Database, tree, trail) -> None:
    async with database.unit_of_work() as uow:
        stored = await uow.audit.list_for_organisation(tree.customer_id, trail["assigned"].at)

    assert stored == [trail["assigned"], trail["issued"]]


async def test_organisation_trail_empty(database: Database, tree, trail) -> None:
    async with database.unit_of_work() as uow:
        stored = await uow.audit.list_for_organisation(tree.customer_id, AT + timedelta(days=1))

    assert stored == []
