"""Per-user settings of a customer's license users: auto-assign on or off."""

from datetime import timedelta

import pytest

from core.audit import AuditEntry
from core.errors import InvalidInput, NotAllowed, NotLinked
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import (
    DEALER_USER,
    HEADQUARTERS_USER,
    NOW,
    OTHER_CUSTOMER_USER,
    UNLINKED_USER,
    Tree,
)
from tests.core.steps import set_auto

ANA = "ana@example.com"


async def auto_assign(database: FakeDatabase, customer_id: int, email: str) -> bool:
    uow = FakeUnitOfWork(database)
    async with uow:
        return await uow.license_users.auto_assign(customer_id, email)


def changes(database: FakeDatabase) -> list[AuditEntry]:
    return [
        entry
        for entry in database.committed.audit
        if entry.action == "license_user.auto_assign_changed"
    ]


async def test_auto_assign_turned_off(database: FakeDatabase, tree: Tree) -> None:
    email = await set_auto(database, ANA, False)

    assert email == ANA
    assert await auto_assign(database, tree.customer.id, ANA) is False


async def test_auto_assign_email_normalised(database: FakeDatabase, tree: Tree) -> None:
    email = await set_auto(database, "  Ana@Example.COM ", False)

    assert email == ANA
    assert await auto_assign(database, tree.customer.id, ANA) is False


async def test_auto_assign_turned_back_on(database: FakeDatabase, tree: Tree) -> None:
    await set_auto(database, ANA, False)

    await set_auto(database, ANA, True, now=NOW + timedelta(hours=1))

    assert await auto_assign(database, tree.customer.id, ANA) is True


async def test_auto_assign_per_customer(database: FakeDatabase, tree: Tree) -> None:
    await set_auto(database, ANA, False)

    assert await auto_assign(database, tree.other_customer.id, ANA) is True


async def test_auto_assign_audit_entry(database: FakeDatabase, tree: Tree) -> None:
    await set_auto(database, ANA, False)

    [entry] = changes(database)
    assert entry.entity == "organisation"
    assert entry.entity_id == tree.customer.id
    assert entry.at == NOW
    assert entry.actor_member_id == tree.customer_member.id
    assert entry.organisation_id == tree.customer.id
    assert entry.before == {"email": ANA, "auto_assign": True}
    assert entry.after == {"email": ANA, "auto_assign": False}


async def test_auto_assign_unchanged_no_audit(database: FakeDatabase, tree: Tree) -> None:
    await set_auto(database, ANA, True)
    await set_auto(database, ANA, False)
    await set_auto(database, ANA, False)

    assert len(changes(database)) == 1


async def test_auto_assign_back_on_audited(database: FakeDatabase, tree: Tree) -> None:
    await set_auto(database, ANA, False)
    await set_auto(database, ANA, True)

    entries = changes(database)
    assert len(entries) == 2
    assert entries[1].before == {"email": ANA, "auto_assign": False}
    assert entries[1].after == {"email": ANA, "auto_assign": True}


async def test_auto_assign_other_customer_member(database: FakeDatabase, tree: Tree) -> None:
    await set_auto(database, ANA, False, user=OTHER_CUSTOMER_USER)

    assert await auto_assign(database, tree.other_customer.id, ANA) is False
    assert await auto_assign(database, tree.customer.id, ANA) is True


@pytest.mark.parametrize("user", [DEALER_USER, HEADQUARTERS_USER])
async def test_auto_assign_customer_only(database: FakeDatabase, tree: Tree, user: int) -> None:
    with pytest.raises(NotAllowed, match="Only customer administrators"):
        await set_auto(database, ANA, False, user=user)

    assert database.committed.license_users == {}
    assert changes(database) == []


async def test_auto_assign_unlinked(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotLinked):
        await set_auto(database, ANA, False, user=UNLINKED_USER)

    assert database.committed.license_users == {}


@pytest.mark.parametrize("email", ["", "   ", "not an address", "ana@", "a" * 250 + "@x.com"])
async def test_auto_assign_invalid_email(database: FakeDatabase, tree: Tree, email: str) -> None:
    with pytest.raises(InvalidInput):
        await set_auto(database, email, False)

    assert database.committed.license_users == {}
    assert changes(database) == []
