from datetime import timedelta

import pytest

from core.errors import NotAllowed, NotFound, NotLinked
from core.organisations import Tier
from core.policy import LicensingPolicy
from core.use_cases.dealers import DealerChoice, choose_dealer, show_dealer_choice
from core.use_cases.ordering import place_order
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import CUSTOMER_USER, DEALER_USER, NOW, UNLINKED_USER, Tree


async def choose(
    uow: FakeUnitOfWork, dealer_id: int, *, user: int = CUSTOMER_USER
) -> DealerChoice:
    return await choose_dealer(uow, telegram_user_id=user, dealer_id=dealer_id, now=NOW)


# show_dealer_choice


async def test_choice_lists_dealers_of_own_centre(uow: FakeUnitOfWork, tree: Tree) -> None:
    choice = await show_dealer_choice(uow, telegram_user_id=CUSTOMER_USER)

    # Sorted by name. South Dealer is missing because it belongs to the other business centre.
    assert choice.candidates == [tree.distributed_dealer, tree.north_dealer]


async def test_choice_shows_current_dealer(uow: FakeUnitOfWork, tree: Tree) -> None:
    choice = await show_dealer_choice(uow, telegram_user_id=CUSTOMER_USER)

    assert choice.customer == tree.customer
    assert choice.current == tree.north_dealer


async def test_choice_by_dealer_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotAllowed, match="Only customer administrators can choose a dealer"):
        await show_dealer_choice(uow, telegram_user_id=DEALER_USER)


async def test_choice_unlinked_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotLinked):
        await show_dealer_choice(uow, telegram_user_id=UNLINKED_USER)


async def test_choice_without_current_dealer(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    setup = FakeUnitOfWork(database)
    async with setup:
        customer = await setup.organisations.add(
            name="New Clinic",
            tier=Tier.CUSTOMER,
            parent_id=tree.distributed_dealer.id,
            timezone="UTC",
            dealer_id=None,
        )
        await setup.members.add(
            telegram_user_id=UNLINKED_USER, organisation_id=customer.id, name="Gil", now=NOW
        )
        await setup.commit()

    choice = await show_dealer_choice(uow, telegram_user_id=UNLINKED_USER)

    assert choice.current is None
    assert choice.candidates == [tree.distributed_dealer, tree.north_dealer]


# choose_dealer


async def test_choose_dealer_under_distributor(uow: FakeUnitOfWork, tree: Tree) -> None:
    choice = await choose(uow, tree.distributed_dealer.id)

    assert choice.current == tree.distributed_dealer
    assert choice.customer.dealer_id == tree.distributed_dealer.id
    assert uow.committed.organisations[tree.customer.id].dealer_id == tree.distributed_dealer.id
    assert uow.commit_count == 1


async def test_choose_dealer_under_centre(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await choose(FakeUnitOfWork(database), tree.distributed_dealer.id)

    choice = await choose(uow, tree.north_dealer.id)

    assert choice.current == tree.north_dealer
    assert uow.committed.organisations[tree.customer.id].dealer_id == tree.north_dealer.id


async def test_choose_dealer_keeps_other_fields(uow: FakeUnitOfWork, tree: Tree) -> None:
    await choose(uow, tree.distributed_dealer.id)

    stored = uow.committed.organisations[tree.customer.id]
    assert stored.name == tree.customer.name
    assert stored.parent_id == tree.north_dealer.id
    assert stored.tier is Tier.CUSTOMER


async def test_choose_dealer_records_audit(uow: FakeUnitOfWork, tree: Tree) -> None:
    await choose(uow, tree.distributed_dealer.id)

    [entry] = uow.committed.audit
    assert entry.action == "customer.dealer_changed"
    assert entry.entity == "organisation"
    assert entry.entity_id == tree.customer.id
    assert entry.actor_member_id == tree.customer_member.id
    assert entry.organisation_id == tree.customer.id
    assert entry.at == NOW
    assert entry.before == {"dealer_id": tree.north_dealer.id}
    assert entry.after == {"dealer_id": tree.distributed_dealer.id}


async def test_choose_current_dealer_not_audited(uow: FakeUnitOfWork, tree: Tree) -> None:
    choice = await choose(uow, tree.north_dealer.id)

    assert choice.current == tree.north_dealer
    assert uow.committed.audit == []
    assert uow.committed.organisations[tree.customer.id] == tree.customer


async def test_choose_foreign_dealer_not_found(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotFound, match="not one your organisation can order from"):
        await choose(uow, tree.south_dealer.id)

    assert uow.commit_count == 0
    assert uow.committed.organisations[tree.customer.id] == tree.customer
    assert uow.committed.audit == []


@pytest.mark.parametrize("target", ["north_distributor", "north", "other_customer"])
async def test_choose_non_dealer_not_found(uow: FakeUnitOfWork, tree: Tree, target: str) -> None:
    with pytest.raises(NotFound):
        await choose(uow, getattr(tree, target).id)

    assert uow.commit_count == 0


async def test_choose_unknown_dealer_not_found(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotFound):
        await choose(uow, 999_999)

    assert uow.commit_count == 0


async def test_choose_dealer_by_dealer_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotAllowed):
        await choose(uow, tree.distributed_dealer.id, user=DEALER_USER)

    assert uow.commit_count == 0


async def test_open_orders_keep_their_dealer(uow: FakeUnitOfWork, tree: Tree) -> None:
    policy = LicensingPolicy()
    before = await place_order(
        uow, telegram_user_id=CUSTOMER_USER, po_number="PO-A", quantity=1, policy=policy, now=NOW
    )

    await choose(uow, tree.distributed_dealer.id)
    after = await place_order(
        uow,
        telegram_user_id=CUSTOMER_USER,
        po_number="PO-B",
        quantity=1,
        policy=policy,
        now=NOW + timedelta(minutes=1),
    )

    assert uow.committed.orders[before.order.id].dealer_id == tree.north_dealer.id
    assert uow.committed.orders[before.order.id].version == 1
    assert after.order.dealer_id == tree.distributed_dealer.id
    assert after.dealer == tree.distributed_dealer
