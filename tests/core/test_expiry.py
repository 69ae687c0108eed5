"""License expiry: retiring expired licenses, auto-assign, and shortage warnings."""

from datetime import timedelta
from typing import Any

import pytest

from core.errors import LicenseNotAssignable
from core.licenses import LicenseState, expiry_after
from core.notifications import Notification, NotificationKind
from core.reminders import ReminderPolicy
from core.use_cases.expiry import process_expired_licenses
from core.use_cases.reachability import record_reachability
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import (
    CUSTOMER_USER,
    NOW,
    OTHER_CUSTOMER_USER,
    Tree,
    add_member,
)
from tests.core.steps import (
    assign,
    check,
    inventory_of,
    notifications,
    place_and_issue,
    process_expired,
    set_auto,
    stock,
    unassign,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)
BERLIN = "Europe/Berlin"
# Acme Clinic is in Berlin, so a license assigned at NOW expires at the start
# of 3 March 2026 there.
EXPIRES_AT = expiry_after(NOW, BERLIN)
AFTER = EXPIRES_AT + HOUR
ANA = "ana@example.com"
BEN = "ben@example.com"
CARL = "carl@example.com"
SECOND_CUSTOMER_USER = 5_000_000_301

REPORTS = (
    NotificationKind.AUTO_ASSIGNED,
    NotificationKind.AUTO_ASSIGN_FAILED,
    NotificationKind.LICENSE_EXPIRED,
)


async def give(database: FakeDatabase, tree: Tree, count: int) -> None:
    """Issue ``count`` unused licenses to Acme Clinic at NOW."""
    await stock(database, tree.north_dealer, count)
    await place_and_issue(database, f"PO-{len(database.committed.orders) + 1}", count)


def reports(database: FakeDatabase) -> list[Notification]:
    stored = database.committed.notifications.values()
    return sorted((n for n in stored if n.kind in REPORTS), key=lambda n: n.id)


def holding(database: FakeDatabase, tree: Tree, email: str) -> list[int]:
    """Return the ids of the unexpired licenses assigned to ``email`` at AFTER."""
    return [
        license.id
        for license in inventory_of(database, tree.customer)
        if license.state is LicenseState.ASSIGNED
        and license.email == email
        and not license.is_expired(AFTER)
    ]


# Retiring an expired license


async def test_expired_license_retired(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 1)
    license = await assign(database, ANA)

    retired = await process_expired(database, AFTER)

    stored = database.committed.licenses[license.id]
    assert retired == 1
    assert stored.state is LicenseState.EXPIRED
    assert stored.email == ANA
    assert stored.expires_at == EXPIRES_AT
    assert stored.version == license.version + 1


async def test_unexpired_license_left_alone(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    license = await assign(database, ANA)

    retired = await process_expired(database, EXPIRES_AT - MICROSECOND)

    assert retired == 0
    assert database.committed.licenses[license.id] == license
    assert reports(database) == []


async def test_license_retired_at_exact_expiry(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 1)
    await assign(database, ANA)

    retired = await process_expired(database, EXPIRES_AT)

    assert retired == 1


async def test_retire_records_audit(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 1)
    license = await assign(database, ANA)

    await process_expired(database, AFTER)

    [entry] = [e for e in database.committed.audit if e.action == "license.expired"]
    assert entry.entity == "license"
    assert entry.entity_id == license.id
    assert entry.at == AFTER
    assert entry.actor_member_id is None
    assert entry.organisation_id == tree.customer.id
    assert entry.before == {"state": "assigned", "email": ANA}
    assert entry.after == {
        "state": "expired",
        "email": ANA,
        "expires_at": EXPIRES_AT.isoformat(),
    }


async def test_expired_not_unassignable(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 1)
    await assign(database, ANA)
    await set_auto(database, ANA, False)
    await process_expired(database, AFTER)

    with pytest.raises(LicenseNotAssignable):
        await unassign(database, ANA, now=AFTER)


async def test_expired_never_assigned_again(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 1)
    expired = await assign(database, ANA)
    await set_auto(database, ANA, False)
    await process_expired(database, AFTER)

    with pytest.raises(LicenseNotAssignable):
        await assign(database, BEN, now=AFTER)

    assert database.committed.licenses[expired.id].state is LicenseState.EXPIRED


async def test_second_run_retires_nothing(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    await assign(database, ANA)
    await process_expired(database, AFTER)
    stored = dict(database.committed.licenses)

    again = await process_expired(database, AFTER + HOUR)

    assert again == 0
    assert database.committed.licenses == stored
    assert len(reports(database)) == 1


async def test_nothing_lost_or_created(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 3)
    await assign(database, ANA)
    await assign(database, BEN)

    await process_expired(database, AFTER)

    assert len(database.committed.licenses) == 3


# Auto-assign


async def test_auto_assign_fresh(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    expired = await assign(database, ANA)

    await process_expired(database, AFTER)

    [new_id] = holding(database, tree, ANA)
    new = database.committed.licenses[new_id]
    assert new_id != expired.id
    assert new.assigned_at == AFTER
    assert new.expires_at == expiry_after(AFTER, BERLIN)


async def test_auto_assign_one_year_in_timezone(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    await assign(database, ANA)
    # 00:30 on 3 March 2026 in Berlin, still 2 March in UTC.
    just_after = EXPIRES_AT + timedelta(minutes=30)

    await process_expired(database, just_after)

    [new_id] = [
        license.id
        for license in inventory_of(database, tree.customer)
        if license.state is LicenseState.ASSIGNED
    ]
    new = database.committed.licenses[new_id]
    assert new.expires_at == EXPIRES_AT.replace(year=2027)


async def test_auto_assign_latest_reusable(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 4)
    await assign(database, ANA)
    ben = await assign(database, BEN, now=NOW + 10 * DAY)
    carl = await assign(database, CARL, now=NOW + 20 * DAY)
    await unassign(database, BEN, now=NOW + 21 * DAY)
    await unassign(database, CARL, now=NOW + 21 * DAY)

    await process_expired(database, AFTER)

    [new_id] = holding(database, tree, ANA)
    new = database.committed.licenses[new_id]
    assert new_id == carl.id
    assert new.expires_at == carl.expires_at
    assert new.expires_at != ben.expires_at


async def test_auto_assign_skips_expired_reusable(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 3)
    await assign(database, ANA)
    ben = await assign(database, BEN)
    await unassign(database, BEN, now=NOW + DAY)

    await process_expired(database, AFTER)

    [new_id] = holding(database, tree, ANA)
    new = database.committed.licenses[new_id]
    assert new_id != ben.id
    assert new.expires_at == expiry_after(AFTER, BERLIN)


async def test_auto_assigned_reported(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    expired = await assign(database, ANA)

    await process_expired(database, AFTER)

    [sent] = reports(database)
    [new_id] = holding(database, tree, ANA)
    assert sent.kind is NotificationKind.AUTO_ASSIGNED
    assert sent.member_id == tree.customer_member.id
    assert sent.created_at == AFTER
    assert sent.timezone == BERLIN
    assert sent.payload["license_id"] == expired.id
    assert sent.payload["email"] == ANA
    assert sent.payload["expires_at"] == EXPIRES_AT.isoformat()
    assert sent.payload["new_license_id"] == new_id
    assert sent.payload["new_expires_at"] == expiry_after(AFTER, BERLIN).isoformat()


async def test_auto_assign_records_audit(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    await assign(database, ANA)

    await process_expired(database, AFTER)

    [entry] = [e for e in database.committed.audit if e.action == "license.auto_assigned"]
    [new_id] = holding(database, tree, ANA)
    assert entry.entity_id == new_id
    assert entry.actor_member_id is None
    assert entry.before == {"state": "unused", "email": None}
    assert entry.after == {
        "state": "assigned",
        "email": ANA,
        "expires_at": expiry_after(AFTER, BERLIN).isoformat(),
    }


async def test_auto_assign_failed_without_stock(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 1)
    await assign(database, ANA)

    retired = await process_expired(database, AFTER)

    [sent] = reports(database)
    assert retired == 1
    assert sent.kind is NotificationKind.AUTO_ASSIGN_FAILED
    assert sent.payload["email"] == ANA
    assert "new_license_id" not in sent.payload
    assert holding(database, tree, ANA) == []


async def test_auto_assign_off_reports_expired(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    await assign(database, ANA)
    await set_auto(database, ANA, False)

    await process_expired(database, AFTER)

    [sent] = reports(database)
    unused = [
        license
        for license in inventory_of(database, tree.customer)
        if license.state is LicenseState.UNUSED
    ]
    assert sent.kind is NotificationKind.LICENSE_EXPIRED
    assert holding(database, tree, ANA) == []
    assert len(unused) == 1


async def test_auto_assign_off_for_other_user(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    await assign(database, ANA)
    await set_auto(database, BEN, False)

    await process_expired(database, AFTER)

    [sent] = reports(database)
    assert sent.kind is NotificationKind.AUTO_ASSIGNED


async def test_no_auto_assign_when_holding(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 3)
    await assign(database, ANA)
    # The expired license still shows as assigned, but the address is free.
    manual = await assign(database, ANA, now=EXPIRES_AT + MICROSECOND)

    await process_expired(database, AFTER)

    [sent] = reports(database)
    assert sent.kind is NotificationKind.LICENSE_EXPIRED
    assert holding(database, tree, ANA) == [manual.id]


async def test_report_once(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    await assign(database, ANA)

    await process_expired(database, AFTER)
    await process_expired(database, AFTER)
    await process_expired(database, AFTER + DAY)

    assert len(reports(database)) == 1


async def test_report_to_reachable_members(database: FakeDatabase, tree: Tree) -> None:
    second = await add_member(database, tree.customer, SECOND_CUSTOMER_USER, "Cleo")
    await give(database, tree, 2)
    await assign(database, ANA)
    await record_reachability(
        FakeUnitOfWork(database), telegram_user_id=CUSTOMER_USER, reachable=False, now=NOW
    )

    await process_expired(database, AFTER)

    assert [n.member_id for n in reports(database)] == [second.id]


async def test_retired_without_reachable_member(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 2)
    license = await assign(database, ANA)
    await record_reachability(
        FakeUnitOfWork(database), telegram_user_id=CUSTOMER_USER, reachable=False, now=NOW
    )

    retired = await process_expired(database, AFTER)

    assert retired == 1
    assert database.committed.licenses[license.id].state is LicenseState.EXPIRED
    assert len(holding(database, tree, ANA)) == 1


async def test_several_licenses_share_stock(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 3)
    await assign(database, ANA)
    await assign(database, BEN)

    retired = await process_expired(database, AFTER)

    kinds = {n.kind for n in reports(database)}
    assert retired == 2
    assert kinds == {NotificationKind.AUTO_ASSIGNED, NotificationKind.AUTO_ASSIGN_FAILED}
    assert len(holding(database, tree, ANA)) + len(holding(database, tree, BEN)) == 1


async def test_other_customer_processed(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 1)
    await place_and_issue(database, "PO-other", 1, customer_user=OTHER_CUSTOMER_USER)
    license = await assign(database, ANA, user=OTHER_CUSTOMER_USER)

    retired = await process_expired(database, license.expires_at + HOUR)

    [sent] = reports(database)
    assert retired == 1
    assert sent.member_id == tree.other_customer_member.id
    assert sent.kind is NotificationKind.AUTO_ASSIGN_FAILED


class RivalFirstUnitOfWork(FakeUnitOfWork):
    """A unit of work whose first license move lets a rival process run to the end first.

    That plays two bot processes that both found the same expired license.
    """

    def __init__(self, database: FakeDatabase) -> None:
        super().__init__(database)
        self.rival_retired: int | None = None
        move = self.licenses.move

        async def move_after_rival(licenses: Any, changed: Any) -> None:
            if self.rival_retired is None:
                self.rival_retired = await process_expired(database, AFTER)
            await move(licenses, changed)

        self.licenses.move = move_after_rival  # type: ignore[method-assign]


async def test_rival_process_retires_once(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 3)
    await assign(database, ANA)
    uow = RivalFirstUnitOfWork(database)

    retired = await process_expired_licenses(uow, now=AFTER)

    assert uow.rival_retired == 1
    assert retired == 0
    assert len(reports(database)) == 1
    assert len(holding(database, tree, ANA)) == 1
    assert len([e for e in database.committed.audit if e.action == "license.expired"]) == 1


# Shortage warnings


# 13 days before the expiry, inside the 14-day horizon.
IN_HORIZON = EXPIRES_AT - timedelta(days=13)


async def short_by_one(database: FakeDatabase, tree: Tree) -> None:
    """Give Acme Clinic 3 licenses and assign 2, so 2 users expire and 1 is unused."""
    await give(database, tree, 3)
    await assign(database, ANA)
    await assign(database, BEN)


def shortages(database: FakeDatabase) -> list[Notification]:
    return notifications(database, NotificationKind.SHORTAGE)


async def test_shortage_warned(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)

    warned = await check(database, IN_HORIZON)

    [sent] = shortages(database)
    assert warned == 1
    assert sent.member_id == tree.customer_member.id
    assert sent.payload["missing"] == 1
    assert sent.payload["users"] == 2
    assert sent.payload["available"] == 1
    assert sent.payload["horizon_days"] == 14
    assert sent.payload["customer"] == "Acme Clinic"


async def test_shortage_none_outside_horizon(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)

    warned = await check(database, EXPIRES_AT - timedelta(days=14) - HOUR)

    assert warned == 0
    assert shortages(database) == []


async def test_shortage_none_when_enough(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 4)
    await assign(database, ANA)
    await assign(database, BEN)

    warned = await check(database, IN_HORIZON)

    assert warned == 0
    assert database.committed.shortages == {}


async def test_shortage_warned_once(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)

    first = await check(database, IN_HORIZON)
    second = await check(database, IN_HORIZON + HOUR)
    third = await check(database, IN_HORIZON + DAY)

    assert [first, second, third] == [1, 0, 0]
    assert len(shortages(database)) == 1


async def test_shortage_not_again_when_worse(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)
    await check(database, IN_HORIZON)
    # The last unused license goes to a user whose license expires a year later.
    await assign(database, CARL, now=IN_HORIZON + HOUR)

    warned = await check(database, IN_HORIZON + 2 * HOUR)

    assert warned == 0
    assert len(shortages(database)) == 1
    assert database.committed.shortages[tree.customer.id].missing == 2


async def test_shortage_again_after_resolved(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)
    await check(database, IN_HORIZON)
    await give(database, tree, 1)

    resolved = await check(database, IN_HORIZON + HOUR)
    cleared = dict(database.committed.shortages)
    await assign(database, CARL, now=IN_HORIZON + 2 * HOUR)
    await assign(database, "dora@example.com", now=IN_HORIZON + 2 * HOUR)
    back = await check(database, IN_HORIZON + 3 * HOUR)

    assert resolved == 0
    assert cleared == {}
    assert back == 1
    assert len(shortages(database)) == 2


async def test_shortage_counts_auto_assign_users(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)
    await set_auto(database, BEN, False)

    warned = await check(database, IN_HORIZON)

    assert warned == 0


async def test_shortage_back_when_auto_on(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)
    await check(database, IN_HORIZON)
    await set_auto(database, BEN, False)
    await check(database, IN_HORIZON + HOUR)
    await set_auto(database, BEN, True)

    warned = await check(database, IN_HORIZON + 2 * HOUR)

    assert warned == 1
    assert len(shortages(database)) == 2


async def test_shortage_missing_number(database: FakeDatabase, tree: Tree) -> None:
    await give(database, tree, 3)
    for email in (ANA, BEN, CARL):
        await assign(database, email)

    await check(database, IN_HORIZON)

    [sent] = shortages(database)
    assert sent.payload["missing"] == 3
    assert sent.payload["available"] == 0


async def test_shortage_counts_address_once(database: FakeDatabase, tree: Tree) -> None:
    # Ana's license was unassigned and reassigned, so it is still one user.
    await give(database, tree, 2)
    await assign(database, ANA)
    await unassign(database, ANA, now=NOW + HOUR)
    await assign(database, ANA, now=NOW + 2 * HOUR)

    warned = await check(database, IN_HORIZON)

    assert warned == 0


async def test_shortage_restart_warns_nothing(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)
    await check(database, IN_HORIZON)

    again = await check(database, IN_HORIZON)

    assert again == 0


async def test_shortage_per_customer(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)
    await stock(database, tree.north_dealer, 2)
    await place_and_issue(database, "PO-other", 2, customer_user=OTHER_CUSTOMER_USER)
    await assign(database, ANA, user=OTHER_CUSTOMER_USER)

    warned = await check(database, IN_HORIZON)

    [sent] = shortages(database)
    assert warned == 1
    assert sent.member_id == tree.customer_member.id
    assert list(database.committed.shortages) == [tree.customer.id]


async def test_shortage_custom_horizon(database: FakeDatabase, tree: Tree) -> None:
    await short_by_one(database, tree)
    reminders = ReminderPolicy(shortage_horizon=timedelta(days=30))

    warned = await check(database, EXPIRES_AT - timedelta(days=29), reminders)

    [sent] = shortages(database)
    assert warned == 1
    assert sent.payload["horizon_days"] == 30
