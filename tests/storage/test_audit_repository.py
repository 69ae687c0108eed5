from datetime import UTC, datetime

from core.audit import AuditEntry
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
