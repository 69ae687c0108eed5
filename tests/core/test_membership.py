from datetime import datetime, timedelta

import pytest

from core.errors import AlreadyLinked, InvalidInvite, NotFound
from core.members import INVITE_LIFETIME, Invite, MemberContext, is_invite_code_shaped
from core.organisations import Organisation
from core.use_cases.membership import (
    add_member,
    create_invite,
    describe_member,
    redeem_invite,
)
from tests.core.fakes import FakeDatabase, FakeInviteRepository, FakeUnitOfWork
from tests.core.sample_tree import CUSTOMER_USER, NOW, UNLINKED_USER, Tree

CODE = "Invite-Code_0001"
SECOND_USER = 5_000_000_010


async def store_invite(database: FakeDatabase, organisation: Organisation) -> Invite:
    invite = Invite(
        code=CODE,
        organisation_id=organisation.id,
        created_at=NOW,
        expires_at=NOW + INVITE_LIFETIME,
    )
    uow = FakeUnitOfWork(database)
    async with uow:
        await uow.invites.add(invite)
        await uow.commit()
    return invite


async def redeem(
    uow: FakeUnitOfWork,
    *,
    code: str = CODE,
    user: int = UNLINKED_USER,
    name: str = "Carla",
    now: datetime = NOW + timedelta(hours=1),
) -> MemberContext:
    return await redeem_invite(uow, code=code, telegram_user_id=user, name=name, now=now)


# redeem_invite


async def test_redeem_links_user(uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree) -> None:
    await store_invite(database, tree.customer)

    context = await redeem(uow)

    assert context.organisation == tree.customer
    assert context.member.telegram_user_id == UNLINKED_USER
    assert context.member.organisation_id == tree.customer.id
    assert context.member.name == "Carla"
    assert uow.committed.members[context.member.id] == context.member
    assert uow.commit_count == 1


async def test_redeem_marks_invite_used(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.customer)
    now = NOW + timedelta(hours=1)

    await redeem(uow, now=now)

    invite = uow.committed.invites[CODE]
    assert invite.used_at == now
    assert invite.used_by_telegram_user_id == UNLINKED_USER


async def test_redeem_records_audit(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.customer)
    now = NOW + timedelta(hours=1)

    context = await redeem(uow, now=now)

    [entry] = uow.committed.audit
    assert entry.action == "member.added"
    assert entry.entity == "member"
    assert entry.entity_id == context.member.id
    assert entry.organisation_id == tree.customer.id
    assert entry.at == now
    assert entry.before == {}
    assert entry.after == {"telegram_user_id": UNLINKED_USER, "via": "invite"}


async def test_redeem_cleans_member_name(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.customer)

    context = await redeem(uow, name="  Carla \t  Diaz ")

    assert context.member.name == "Carla Diaz"


async def test_redeem_blank_name_uses_user_id(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.customer)

    context = await redeem(uow, name="   ")

    assert context.member.name == f"Telegram user {UNLINKED_USER}"


async def test_redeem_truncates_long_name(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.customer)

    context = await redeem(uow, name="N" * 150)

    assert context.member.name == "N" * 100


async def test_redeem_used_twice_rejected(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.customer)
    await redeem(uow)
    committed_members = dict(uow.committed.members)

    with pytest.raises(InvalidInvite, match="already used"):
        await redeem(uow, user=SECOND_USER, now=NOW + timedelta(hours=2))

    assert uow.commit_count == 1
    assert uow.committed.members == committed_members


async def test_redeem_same_user_twice_rejected(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.customer)
    await redeem(uow)

    with pytest.raises(AlreadyLinked, match="Acme Clinic"):
        await redeem(uow, now=NOW + timedelta(hours=2))

    assert uow.commit_count == 1


async def test_redeem_expired_rejected(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    invite = await store_invite(database, tree.customer)

    with pytest.raises(InvalidInvite, match="expired"):
        await redeem(uow, now=invite.expires_at)

    assert uow.commit_count == 0
    assert uow.committed.invites[CODE].used_at is None


async def test_redeem_just_before_expiry(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    invite = await store_invite(database, tree.customer)

    context = await redeem(uow, now=invite.expires_at - timedelta(seconds=1))

    assert context.organisation == tree.customer


async def test_redeem_linked_user_rejected(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.other_customer)

    with pytest.raises(AlreadyLinked) as caught:
        await redeem(uow, user=CUSTOMER_USER)

    assert "already a member of Acme Clinic" in str(caught.value)
    assert uow.commit_count == 0
    assert uow.committed.invites[CODE].used_at is None


@pytest.mark.parametrize(
    "code", ["<b>", "", "abc def", "Invite-Code_0001;", "A" * 65, "/start Invite-Code_0001"]
)
async def test_redeem_malformed_code_rejected(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree, code: str
) -> None:
    await store_invite(database, tree.customer)

    with pytest.raises(InvalidInvite, match="not an invite code"):
        await redeem(uow, code=code)

    assert uow.block_count == 0
    assert uow.commit_count == 0


async def test_redeem_unknown_code_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(InvalidInvite, match="not known"):
        await redeem(uow, code="Unknown-Code")

    assert uow.commit_count == 0


async def test_redeem_code_is_case_sensitive(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.customer)

    with pytest.raises(InvalidInvite, match="not known"):
        await redeem(uow, code=CODE.lower())


class RivalRedeemsAfterRead(FakeInviteRepository):
    """Invite repository after whose read another request redeems the same code."""

    def __init__(self, uow: FakeUnitOfWork, rival: FakeUnitOfWork) -> None:
        super().__init__(uow)
        self._rival = rival

    async def get(self, code: str) -> Invite | None:
        invite = await super().get(code)
        await redeem(self._rival, code=code, user=SECOND_USER)
        return invite


async def test_redeem_race_lost_rejected(
    uow: FakeUnitOfWork, database: FakeDatabase, tree: Tree
) -> None:
    await store_invite(database, tree.customer)
    uow.invites = RivalRedeemsAfterRead(uow, rival=FakeUnitOfWork(database))

    with pytest.raises(InvalidInvite, match="already used"):
        await redeem(uow)

    linked_users = {member.telegram_user_id for member in uow.committed.members.values()}
    assert uow.commit_count == 0
    assert uow.committed.invites[CODE].used_by_telegram_user_id == SECOND_USER
    assert UNLINKED_USER not in linked_users


# create_invite


async def test_create_invite_stores_code(uow: FakeUnitOfWork, tree: Tree) -> None:
    invite = await create_invite(uow, organisation_name="acme clinic", now=NOW)

    assert is_invite_code_shaped(invite.code)
    assert invite.organisation_id == tree.customer.id
    assert invite.created_at == NOW
    assert invite.expires_at == NOW + timedelta(days=7)
    assert invite.used_at is None
    assert uow.committed.invites[invite.code] == invite
    assert uow.commit_count == 1


async def test_create_invite_records_audit(uow: FakeUnitOfWork, tree: Tree) -> None:
    invite = await create_invite(uow, organisation_name="Acme Clinic", now=NOW)

    [entry] = uow.committed.audit
    assert entry.action == "invite.created"
    assert entry.entity == "organisation"
    assert entry.entity_id == tree.customer.id
    assert entry.actor_member_id is None
    assert entry.after == {"expires_at": invite.expires_at.isoformat()}
    assert CODE not in str(entry.after)


async def test_create_invite_unknown_organisation(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotFound, match="'Atlantis'"):
        await create_invite(uow, organisation_name="Atlantis", now=NOW)

    assert uow.commit_count == 0


async def test_created_invite_redeemable(uow: FakeUnitOfWork, tree: Tree) -> None:
    invite = await create_invite(uow, organisation_name="South Dealer", now=NOW)

    context = await redeem(uow, code=invite.code, now=NOW + timedelta(days=6))

    assert context.organisation == tree.south_dealer


# add_member and describe_member


async def test_add_member_links_user(uow: FakeUnitOfWork, tree: Tree) -> None:
    context = await add_member(
        uow, organisation_name="North Centre", telegram_user_id=UNLINKED_USER, name="Eva", now=NOW
    )

    assert context.organisation == tree.north
    assert context.member.name == "Eva"
    assert uow.commit_count == 1
    [entry] = uow.committed.audit
    assert entry.action == "member.added"
    assert entry.after == {"telegram_user_id": UNLINKED_USER, "via": "operator"}


async def test_add_member_without_name(uow: FakeUnitOfWork, tree: Tree) -> None:
    context = await add_member(
        uow, organisation_name="North Centre", telegram_user_id=UNLINKED_USER, name=None, now=NOW
    )

    assert context.member.name == f"Telegram user {UNLINKED_USER}"


async def test_add_member_linked_user_rejected(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(AlreadyLinked, match=str(CUSTOMER_USER)):
        await add_member(
            uow,
            organisation_name="North Centre",
            telegram_user_id=CUSTOMER_USER,
            name=None,
            now=NOW,
        )

    assert uow.commit_count == 0


async def test_add_member_unknown_organisation(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotFound, match="'Atlantis'"):
        await add_member(
            uow, organisation_name="Atlantis", telegram_user_id=UNLINKED_USER, name=None, now=NOW
        )

    assert uow.commit_count == 0


async def test_describe_member_unlinked(uow: FakeUnitOfWork, tree: Tree) -> None:
    assert await describe_member(uow, telegram_user_id=UNLINKED_USER) is None


async def test_describe_member_linked(uow: FakeUnitOfWork, tree: Tree) -> None:
    context = await describe_member(uow, telegram_user_id=CUSTOMER_USER)

    assert context is not None
    assert context.member == tree.customer_member
    assert context.organisation == tree.customer


async def test_describe_member_commits_nothing(uow: FakeUnitOfWork, tree: Tree) -> None:
    await describe_member(uow, telegram_user_id=CUSTOMER_USER)

    assert uow.commit_count == 0
