"""A customer's inventory: assigning, unassigning, and activating license keys."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from stdnum import luhn

from core.cards import ALPHABET, format_key
from core.errors import (
    InvalidInput,
    InvalidLicenseKey,
    LicenseKeyNotAccepted,
    LicenseNotAssignable,
    NotAllowed,
    TooManyAttempts,
)
from core.licenses import License, LicenseState, expiry_after
from core.policy import LicensingPolicy
from core.use_cases.inventory import (
    MAX_WRONG_KEYS,
    WRONG_KEY_PERIOD,
    activate_key,
    assign_license,
    inventory,
    license_counts,
    preview_assign,
    preview_unassign,
    unassign_license,
)
from core.use_cases.supply import generate_cards
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import (
    CUSTOMER_USER,
    DEALER_USER,
    NOW,
    OTHER_CUSTOMER_USER,
    Tree,
    add_member,
)
from tests.core.steps import POLICY, assign, inventory_of, place_and_issue, stock

BERLIN = ZoneInfo("Europe/Berlin")
# 00:30 on 1 March 2027 in Berlin, Acme Clinic's time zone, but still 28 February in UTC.
BERLIN_HALF_PAST_MIDNIGHT = datetime(2027, 2, 28, 23, 30, tzinfo=UTC)
SECOND_CUSTOMER_USER = 5_000_000_103


async def give_licenses(database: FakeDatabase, tree: Tree, count: int) -> None:
    """Issue ``count`` unused licenses to Acme Clinic."""
    await stock(database, tree.north_dealer, count)
    await place_and_issue(database, f"PO-{len(database.committed.orders) + 1}", count)


async def unassign(database: FakeDatabase, email: str, *, now: datetime = NOW) -> License:
    return await unassign_license(
        FakeUnitOfWork(database), telegram_user_id=CUSTOMER_USER, email=email, now=now
    )


# assign


async def test_assign_fresh_license(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)

    assigned = await assign(database, "ana@example.com", now=BERLIN_HALF_PAST_MIDNIGHT)

    assert assigned.state is LicenseState.ASSIGNED
    assert assigned.email == "ana@example.com"
    assert assigned.assigned_at == BERLIN_HALF_PAST_MIDNIGHT
    assert assigned.expires_at == datetime(2028, 3, 1, 0, 0, tzinfo=BERLIN)
    assert database.committed.licenses[assigned.id] == assigned


async def test_assign_normalises_email(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)

    assigned = await assign(database, "  Ana@Example.COM ")

    assert assigned.email == "ana@example.com"


async def test_assign_records_audit(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)

    assigned = await assign(database, "ana@example.com")

    entry = database.committed.audit[-1]
    assert entry.action == "license.assigned"
    assert entry.entity == "license"
    assert entry.entity_id == assigned.id
    assert entry.actor_member_id == tree.customer_member.id
    assert entry.organisation_id == tree.customer.id
    assert entry.before == {"state": "unused", "email": None}
    assert entry.after == {
        "state": "assigned",
        "email": "ana@example.com",
        "expires_at": expiry_after(NOW, "Europe/Berlin").isoformat(),
    }


async def test_preview_assign_changes_nothing(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)
    uow = FakeUnitOfWork(database)
    before = dict(database.committed.licenses)

    preview = await preview_assign(
        uow, telegram_user_id=CUSTOMER_USER, email="Ana@example.com", now=NOW
    )

    assert preview.email == "ana@example.com"
    assert preview.expires_at == expiry_after(NOW, "Europe/Berlin")
    assert preview.customer == tree.customer
    assert uow.commit_count == 0
    assert database.committed.licenses == before


async def test_reusable_chosen_first(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 3)
    first = await assign(database, "ana@example.com")
    await unassign(database, "ana@example.com", now=NOW + timedelta(days=1))

    again = await assign(database, "ben@example.com", now=NOW + timedelta(days=30))

    assert again.id == first.id
    assert again.expires_at == first.expires_at


async def test_latest_reusable_chosen_first(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 3)
    early = await assign(database, "ana@example.com")
    late = await assign(database, "ben@example.com", now=NOW + timedelta(days=40))
    await unassign(database, "ana@example.com", now=NOW + timedelta(days=50))
    await unassign(database, "ben@example.com", now=NOW + timedelta(days=50))

    preview = await preview_assign(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        email="carl@example.com",
        now=NOW + timedelta(days=60),
    )

    assert preview.license.id == late.id
    assert preview.expires_at == late.expires_at
    assert late.expires_at > early.expires_at


async def test_expired_reusable_not_chosen(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 2)
    first = await assign(database, "ana@example.com")
    await unassign(database, "ana@example.com")
    assert first.expires_at is not None

    later = await assign(database, "ben@example.com", now=first.expires_at)

    assert later.id != first.id
    assert later.expires_at == expiry_after(first.expires_at, "Europe/Berlin")


async def test_only_expired_reusable_left(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)
    first = await assign(database, "ana@example.com")
    await unassign(database, "ana@example.com")
    assert first.expires_at is not None

    with pytest.raises(LicenseNotAssignable, match="no unused license"):
        await assign(database, "ben@example.com", now=first.expires_at)


async def test_assign_rejects_address_with_license(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 2)
    await assign(database, "ana@example.com", now=BERLIN_HALF_PAST_MIDNIGHT)

    with pytest.raises(LicenseNotAssignable) as caught:
        await assign(database, "ANA@example.com", now=BERLIN_HALF_PAST_MIDNIGHT)

    message = str(caught.value)
    assert "ana@example.com already has a license" in message
    assert "expires on 2028-03-01" in message


async def test_assign_just_before_expiry_rejected(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 2)
    first = await assign(database, "ana@example.com")
    assert first.expires_at is not None

    with pytest.raises(LicenseNotAssignable, match="already has a license"):
        await assign(database, "ana@example.com", now=first.expires_at - timedelta(seconds=1))


async def test_assign_after_expiry_allowed(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 2)
    first = await assign(database, "ana@example.com")
    assert first.expires_at is not None

    second = await assign(database, "ana@example.com", now=first.expires_at)

    assert second.id != first.id
    assert second.email == "ana@example.com"


async def test_unassign_after_renewal_takes_new(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 2)
    first = await assign(database, "ana@example.com")
    assert first.expires_at is not None
    second = await assign(database, "ana@example.com", now=first.expires_at)

    unassigned = await unassign(database, "ana@example.com", now=first.expires_at)

    assert unassigned.id == second.id


async def test_assign_without_unused_license(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(LicenseNotAssignable) as caught:
        await assign(database, "ana@example.com")

    assert "/order" in str(caught.value)
    assert "/activate" in str(caught.value)


async def test_assign_all_taken(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)
    await assign(database, "ana@example.com")

    with pytest.raises(LicenseNotAssignable, match="no unused license"):
        await assign(database, "ben@example.com")


async def test_same_address_other_customer(database: FakeDatabase, tree: Tree) -> None:
    # The one-license rule holds within a customer's inventory.
    await give_licenses(database, tree, 1)
    await stock(database, tree.north_dealer, 1)
    await place_and_issue(database, "PO-OTHER", 1, customer_user=OTHER_CUSTOMER_USER)
    await assign(database, "ana@example.com")

    other = await assign(database, "ana@example.com", user=OTHER_CUSTOMER_USER)

    assert other.customer_id == tree.other_customer.id


async def test_assign_license_taken_meanwhile(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 2)
    preview = await preview_assign(
        FakeUnitOfWork(database), telegram_user_id=CUSTOMER_USER, email="ana@example.com", now=NOW
    )
    assigned_meanwhile = await assign(database, "ben@example.com")
    assert assigned_meanwhile.id == preview.license.id

    with pytest.raises(LicenseNotAssignable, match="meanwhile"):
        await assign_license(
            FakeUnitOfWork(database),
            telegram_user_id=CUSTOMER_USER,
            email="ana@example.com",
            license_id=preview.license.id,
            now=NOW,
        )

    assert database.committed.licenses[assigned_meanwhile.id].email == "ben@example.com"


async def test_assign_address_taken_meanwhile(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 2)
    preview = await preview_assign(
        FakeUnitOfWork(database), telegram_user_id=CUSTOMER_USER, email="ana@example.com", now=NOW
    )
    await assign(database, "ana@example.com")

    with pytest.raises(LicenseNotAssignable, match="already has a license"):
        await assign_license(
            FakeUnitOfWork(database),
            telegram_user_id=CUSTOMER_USER,
            email="ana@example.com",
            license_id=preview.license.id,
            now=NOW,
        )


async def test_assign_other_customers_license(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 1)
    await place_and_issue(database, "PO-OTHER", 1, customer_user=OTHER_CUSTOMER_USER)
    [foreign] = inventory_of(database, tree.other_customer)

    with pytest.raises(LicenseNotAssignable, match="not in your inventory"):
        await assign_license(
            FakeUnitOfWork(database),
            telegram_user_id=CUSTOMER_USER,
            email="ana@example.com",
            license_id=foreign.id,
            now=NOW,
        )

    assert database.committed.licenses[foreign.id] == foreign


async def test_assign_stock_license_rejected(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 1)
    [in_stock] = database.committed.licenses.values()

    with pytest.raises(LicenseNotAssignable, match="not in your inventory"):
        await assign_license(
            FakeUnitOfWork(database),
            telegram_user_id=CUSTOMER_USER,
            email="ana@example.com",
            license_id=in_stock.id,
            now=NOW,
        )


async def test_assign_invalid_email(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)

    with pytest.raises(InvalidInput, match="not a valid e-mail address"):
        await assign(database, "ana at example")


async def test_assign_by_dealer_not_allowed(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotAllowed, match="Only customer administrators can assign"):
        await assign(database, "ana@example.com", user=DEALER_USER)


# unassign


async def test_unassign_keeps_expiry(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)
    assigned = await assign(database, "ana@example.com")

    unassigned = await unassign(database, "Ana@Example.com", now=NOW + timedelta(days=3))

    assert unassigned.id == assigned.id
    assert unassigned.state is LicenseState.UNUSED
    assert unassigned.email is None
    assert unassigned.expires_at == assigned.expires_at
    assert database.committed.licenses[assigned.id] == unassigned


async def test_unassign_records_audit(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)
    assigned = await assign(database, "ana@example.com")

    await unassign(database, "ana@example.com")

    entry = database.committed.audit[-1]
    assert entry.action == "license.unassigned"
    assert entry.entity_id == assigned.id
    assert entry.before == {"state": "assigned", "email": "ana@example.com"}
    assert entry.after == {"state": "unused", "email": None}


async def test_unassign_unknown_address(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)
    await assign(database, "ana@example.com")

    with pytest.raises(LicenseNotAssignable, match=r"ben@example\.com has no license"):
        await unassign(database, "ben@example.com")


async def test_unassign_twice(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)
    await assign(database, "ana@example.com")
    await unassign(database, "ana@example.com")

    with pytest.raises(LicenseNotAssignable, match="has no license"):
        await unassign(database, "ana@example.com")


async def test_preview_unassign(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 1)
    assigned = await assign(database, "ana@example.com")
    uow = FakeUnitOfWork(database)

    preview = await preview_unassign(uow, telegram_user_id=CUSTOMER_USER, email="ANA@example.com")

    assert preview.license == assigned
    assert preview.email == "ana@example.com"
    assert preview.customer == tree.customer
    assert uow.commit_count == 0


async def test_preview_unassign_unknown(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(LicenseNotAssignable, match="has no license"):
        await preview_unassign(
            FakeUnitOfWork(database), telegram_user_id=CUSTOMER_USER, email="ana@example.com"
        )


async def test_preview_unassign_by_dealer(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotAllowed):
        await preview_unassign(
            FakeUnitOfWork(database), telegram_user_id=DEALER_USER, email="ana@example.com"
        )


# inventory and license_counts


async def test_inventory_counts(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 4)
    await assign(database, "ana@example.com")
    await assign(database, "ben@example.com")

    seen = await inventory(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        page_number=1,
        policy=POLICY,
        now=NOW,
    )

    assert seen.unused == 2
    assert seen.assigned == 2
    assert seen.customer == tree.customer


async def test_inventory_soonest_expiry_first(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 3)
    late = await assign(database, "late@example.com", now=NOW + timedelta(days=20))
    early = await assign(database, "early@example.com")
    middle = await assign(database, "middle@example.com", now=NOW + timedelta(days=10))

    seen = await inventory(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        page_number=1,
        policy=POLICY,
        now=NOW + timedelta(days=20),
    )

    assert [license.id for license in seen.page.items] == [early.id, middle.id, late.id]


async def test_inventory_paging(database: FakeDatabase, tree: Tree) -> None:
    policy = LicensingPolicy(page_size=2)
    await give_licenses(database, tree, 3)
    for name in ("a", "b", "c"):
        await assign(database, f"{name}@example.com")

    seen = await inventory(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        page_number=2,
        policy=policy,
        now=NOW,
    )

    assert len(seen.page.items) == 1
    assert seen.page.total_pages == 2


async def test_inventory_leaves_out_expired_unused(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 2)
    first = await assign(database, "ana@example.com")
    await unassign(database, "ana@example.com")
    assert first.expires_at is not None

    seen = await inventory(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        page_number=1,
        policy=POLICY,
        now=first.expires_at,
    )

    assert seen.unused == 1
    assert seen.assigned == 0


async def test_license_counts(database: FakeDatabase, tree: Tree) -> None:
    await give_licenses(database, tree, 3)
    await assign(database, "ana@example.com")
    uow = FakeUnitOfWork(database)

    counts = await license_counts(uow, telegram_user_id=CUSTOMER_USER, now=NOW)

    assert counts.unused == 2
    assert counts.assigned == 1
    assert counts.customer == tree.customer


async def test_license_counts_by_dealer(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotAllowed, match="assign"):
        await license_counts(FakeUnitOfWork(database), telegram_user_id=DEALER_USER, now=NOW)


async def test_inventory_by_dealer(database: FakeDatabase, tree: Tree) -> None:
    with pytest.raises(NotAllowed):
        await inventory(
            FakeUnitOfWork(database),
            telegram_user_id=DEALER_USER,
            page_number=1,
            policy=POLICY,
            now=NOW,
        )


# activate_key


async def new_keys(database: FakeDatabase, count: int) -> list[str]:
    return await generate_cards(FakeUnitOfWork(database), count=count, now=NOW)


async def activate(
    database: FakeDatabase, key: str, *, now: datetime = NOW, user: int = CUSTOMER_USER
) -> License:
    return await activate_key(FakeUnitOfWork(database), telegram_user_id=user, key=key, now=now)


def unknown_key() -> str:
    body = "ABCDEFGHJKMNPQR"
    return format_key(body + luhn.calc_check_digit(body, ALPHABET))


def mistyped(key: str) -> str:
    compact = key.replace("-", "")
    replacement = "0" if compact[0] != "0" else "1"
    return replacement + compact[1:]


async def test_activate_adds_unused_license(database: FakeDatabase, tree: Tree) -> None:
    [key] = await new_keys(database, 1)

    license = await activate(database, key)

    assert license.state is LicenseState.UNUSED
    assert license.customer_id == tree.customer.id
    assert license.order_id is None
    assert license.expires_at is None
    assert inventory_of(database, tree.customer) == [license]


async def test_activate_marks_card(database: FakeDatabase, tree: Tree) -> None:
    [key] = await new_keys(database, 1)
    now = NOW + timedelta(hours=1)

    await activate(database, key.lower().replace("-", " "), now=now)

    card = database.committed.cards[key.replace("-", "")]
    assert card.activated_at == now
    assert card.customer_id == tree.customer.id


async def test_activate_records_audit(database: FakeDatabase, tree: Tree) -> None:
    [key] = await new_keys(database, 1)

    license = await activate(database, key)

    entry = database.committed.audit[-1]
    assert entry.action == "license.activated"
    assert entry.entity_id == license.id
    assert entry.actor_member_id == tree.customer_member.id
    assert entry.after == {"state": "unused", "key_suffix": key[-4:]}


async def test_activated_license_assignable(database: FakeDatabase, tree: Tree) -> None:
    [key] = await new_keys(database, 1)
    license = await activate(database, key)

    assigned = await assign(database, "ana@example.com")

    assert assigned.id == license.id


async def test_activate_mistyped_key(database: FakeDatabase, tree: Tree) -> None:
    [key] = await new_keys(database, 1)

    with pytest.raises(InvalidLicenseKey, match="not a valid key"):
        await activate(database, mistyped(key))

    assert inventory_of(database, tree.customer) == []
    assert len(database.committed.key_attempts) == 1


async def test_activate_unknown_key(database: FakeDatabase, tree: Tree) -> None:
    await new_keys(database, 1)

    with pytest.raises(LicenseKeyNotAccepted) as caught:
        await activate(database, unknown_key())

    assert str(caught.value) == "This key is not known."
    assert inventory_of(database, tree.customer) == []


async def test_activate_used_key(database: FakeDatabase, tree: Tree) -> None:
    [key] = await new_keys(database, 1)
    await activate(database, key)

    with pytest.raises(LicenseKeyNotAccepted) as caught:
        await activate(database, key)

    assert str(caught.value) == "This key was already activated."
    assert len(inventory_of(database, tree.customer)) == 1


async def test_activate_key_of_other_customer(database: FakeDatabase, tree: Tree) -> None:
    [key] = await new_keys(database, 1)
    await activate(database, key, user=OTHER_CUSTOMER_USER)

    with pytest.raises(LicenseKeyNotAccepted, match="already activated"):
        await activate(database, key)

    assert inventory_of(database, tree.customer) == []


async def test_activate_messages_differ(database: FakeDatabase, tree: Tree) -> None:
    messages = set()
    [key] = await new_keys(database, 1)
    await activate(database, key)
    for typed in (key, unknown_key(), mistyped(key)):
        with pytest.raises((LicenseKeyNotAccepted, InvalidLicenseKey)) as caught:
            await activate(database, typed)
        messages.add(str(caught.value))

    assert len(messages) == 3


async def test_activate_by_dealer(database: FakeDatabase, tree: Tree) -> None:
    [key] = await new_keys(database, 1)

    with pytest.raises(NotAllowed):
        await activate(database, key, user=DEALER_USER)

    assert database.committed.key_attempts == []


async def fail_keys(database: FakeDatabase, start: datetime, step: timedelta) -> None:
    """Type MAX_WRONG_KEYS unknown keys, the first at ``start``, one every ``step``."""
    for index in range(MAX_WRONG_KEYS):
        with pytest.raises(LicenseKeyNotAccepted):
            await activate(database, unknown_key(), now=start + index * step)


async def test_sixth_key_blocked_before_period(database: FakeDatabase, tree: Tree) -> None:
    await fail_keys(database, NOW, timedelta(minutes=1))
    [key] = await new_keys(database, 1)

    with pytest.raises(TooManyAttempts) as caught:
        await activate(database, key, now=NOW + WRONG_KEY_PERIOD - timedelta(seconds=1))

    assert caught.value.retry_after_seconds == 1
    assert "Try again in 1 s" in str(caught.value)


async def test_blocked_correct_key_not_used(database: FakeDatabase, tree: Tree) -> None:
    await fail_keys(database, NOW, timedelta(minutes=1))
    [key] = await new_keys(database, 1)

    with pytest.raises(TooManyAttempts):
        await activate(database, key, now=NOW + timedelta(minutes=5))

    assert database.committed.cards[key.replace("-", "")].activated_at is None
    assert inventory_of(database, tree.customer) == []


async def test_blocked_attempt_not_counted(database: FakeDatabase, tree: Tree) -> None:
    await fail_keys(database, NOW, timedelta(minutes=1))

    with pytest.raises(TooManyAttempts):
        await activate(database, unknown_key(), now=NOW + timedelta(minutes=9))

    assert len(database.committed.key_attempts) == MAX_WRONG_KEYS


async def test_key_allowed_after_period(database: FakeDatabase, tree: Tree) -> None:
    await fail_keys(database, NOW, timedelta(minutes=1))
    [key] = await new_keys(database, 1)
    with pytest.raises(TooManyAttempts):
        await activate(database, key, now=NOW + WRONG_KEY_PERIOD - timedelta(seconds=1))

    license = await activate(database, key, now=NOW + WRONG_KEY_PERIOD)

    assert license.customer_id == tree.customer.id


async def test_fifth_failure_then_wait(database: FakeDatabase, tree: Tree) -> None:
    # Four wrong keys leave one more try, and the fifth starts the wait.
    for index in range(MAX_WRONG_KEYS - 1):
        with pytest.raises(LicenseKeyNotAccepted):
            await activate(database, unknown_key(), now=NOW + timedelta(seconds=index))
    with pytest.raises(InvalidLicenseKey):
        await activate(database, "short", now=NOW + timedelta(seconds=10))

    with pytest.raises(TooManyAttempts) as caught:
        await activate(database, unknown_key(), now=NOW + timedelta(minutes=1))

    assert caught.value.retry_after_seconds == 9 * 60
    assert "Try again in 9 min 0 s" in str(caught.value)


async def test_wait_follows_oldest_of_last_five(database: FakeDatabase, tree: Tree) -> None:
    await fail_keys(database, NOW, timedelta(minutes=1))
    # At NOW + 10 min the first failure has aged out. One more wrong key then
    # blocks the member until the second failure (NOW + 1 min) ages out.
    with pytest.raises(LicenseKeyNotAccepted):
        await activate(database, unknown_key(), now=NOW + WRONG_KEY_PERIOD)

    with pytest.raises(TooManyAttempts) as caught:
        await activate(database, unknown_key(), now=NOW + WRONG_KEY_PERIOD + timedelta(seconds=1))

    assert caught.value.retry_after_seconds == 59


async def test_wait_rounds_up(database: FakeDatabase, tree: Tree) -> None:
    await fail_keys(database, NOW, timedelta(seconds=1))
    now = NOW + WRONG_KEY_PERIOD - timedelta(seconds=59, microseconds=500)

    with pytest.raises(TooManyAttempts) as caught:
        await activate(database, unknown_key(), now=now)

    assert caught.value.retry_after_seconds == 60


async def test_wait_is_per_member(database: FakeDatabase, tree: Tree) -> None:
    await add_member(database, tree.customer, SECOND_CUSTOMER_USER, "Carla")
    await fail_keys(database, NOW, timedelta(seconds=1))
    [key] = await new_keys(database, 1)
    later = NOW + timedelta(minutes=1)

    license = await activate(database, key, now=later, user=SECOND_CUSTOMER_USER)

    assert license.customer_id == tree.customer.id
