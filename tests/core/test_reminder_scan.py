"""The scheduler's scan: each reminder that is due is added once, to the right members."""

from datetime import timedelta

import pytest

from core.licenses import expiry_after
from core.notifications import Notification, NotificationKind
from core.reminders import ReminderPolicy
from core.use_cases.ordering import cancel_order
from core.use_cases.reachability import record_reachability
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import (
    CANCEL_WINDOW,
    CUSTOMER_USER,
    DISTRIBUTED_DEALER_USER,
    NOW,
    OTHER_CUSTOMER_USER,
    Tree,
    add_member,
    set_dealer,
)
from tests.core.steps import (
    POLICY,
    assign,
    cancel_issue,
    issue,
    notifications,
    place,
    place_and_issue,
    scan,
    stock,
    unassign,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)
DEADLINE = NOW + CANCEL_WINDOW
CLOSING_AT = DEADLINE - timedelta(hours=24)
SECOND_CUSTOMER_USER = 5_000_000_201
# Acme Clinic is in Berlin, so a license assigned at NOW expires at the start
# of 3 March 2026 there.
EXPIRES_AT = expiry_after(NOW, "Europe/Berlin")


def member_ids(sent: list[Notification]) -> list[int]:
    return [notification.member_id for notification in sent]


async def unreachable(database: FakeDatabase, user: int) -> None:
    await record_reachability(
        FakeUnitOfWork(database), telegram_user_id=user, reachable=False, now=NOW
    )


# Cancel window closing


async def test_closing_added_once(database: FakeDatabase, tree: Tree) -> None:
    order = await place(database, "PO-1", 2)

    first = await scan(database, CLOSING_AT + HOUR)
    second = await scan(database, CLOSING_AT + 2 * HOUR)

    [sent] = notifications(database, NotificationKind.WINDOW_CLOSING)
    assert first == 1
    assert second == 0
    assert sent.member_id == tree.customer_member.id
    assert sent.chat_id == CUSTOMER_USER
    assert sent.order_id == order.id
    assert sent.created_at == CLOSING_AT + HOUR
    assert sent.timezone == "Europe/Berlin"


async def test_closing_payload(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    await scan(database, CLOSING_AT + HOUR)

    [sent] = notifications(database, NotificationKind.WINDOW_CLOSING)
    assert sent.payload["deadline"] == DEADLINE.isoformat()
    assert sent.payload["po_number"] == "PO-1"
    assert sent.payload["quantity"] == 2
    assert sent.payload["customer"] == "Acme Clinic"


async def test_closing_is_urgent(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    await scan(database, CLOSING_AT + HOUR)

    [sent] = notifications(database, NotificationKind.WINDOW_CLOSING)
    assert sent.urgent is True


async def test_closing_nothing_before_lead(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    added = await scan(database, CLOSING_AT - MICROSECOND)

    assert added == 0
    assert notifications(database, NotificationKind.WINDOW_CLOSING) == []


async def test_closing_just_after_lead(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    added = await scan(database, CLOSING_AT + MICROSECOND)

    assert added == 1


async def test_closing_at_exact_lead(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    added = await scan(database, CLOSING_AT)

    assert added == 1


async def test_closing_to_reachable_members(database: FakeDatabase, tree: Tree) -> None:
    second = await add_member(database, tree.customer, SECOND_CUSTOMER_USER, "Cleo")
    await place(database, "PO-1", 2)

    added = await scan(database, CLOSING_AT + HOUR)

    sent = notifications(database, NotificationKind.WINDOW_CLOSING)
    assert added == 2
    assert member_ids(sent) == [tree.customer_member.id, second.id]


async def test_closing_skips_unreachable(database: FakeDatabase, tree: Tree) -> None:
    second = await add_member(database, tree.customer, SECOND_CUSTOMER_USER, "Cleo")
    await unreachable(database, CUSTOMER_USER)
    await place(database, "PO-1", 2)

    added = await scan(database, CLOSING_AT + HOUR)

    sent = notifications(database, NotificationKind.WINDOW_CLOSING)
    assert added == 1
    assert member_ids(sent) == [second.id]


async def test_closing_only_to_customer(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    await scan(database, CLOSING_AT + HOUR)

    # The dealer's member got ORDER_PLACED when the order was placed, and nothing since.
    recipients = {n.member_id for n in database.committed.notifications.values()}
    assert recipients == {tree.customer_member.id, tree.dealer_member.id}
    assert len(notifications(database, NotificationKind.ORDER_PLACED)) == 1
    assert len(database.committed.notifications) == 2


async def test_closing_per_order(database: FakeDatabase, tree: Tree) -> None:
    first = await place(database, "PO-1", 2)
    second = await place(database, "PO-2", 1, now=NOW + HOUR)

    added = await scan(database, CLOSING_AT + 2 * HOUR)

    sent = notifications(database, NotificationKind.WINDOW_CLOSING)
    assert added == 2
    assert [n.order_id for n in sent] == [first.id, second.id]


async def test_closing_restart_adds_nothing(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)
    await scan(database, CLOSING_AT + HOUR)

    # A new process: a new unit of work on the same stored rows.
    again = await scan(database, CLOSING_AT + HOUR)

    assert again == 0
    assert len(notifications(database, NotificationKind.WINDOW_CLOSING)) == 1


# Cancel window closed


async def test_closed_at_deadline(database: FakeDatabase, tree: Tree) -> None:
    order = await place(database, "PO-1", 2)

    added = await scan(database, DEADLINE)

    [sent] = notifications(database, NotificationKind.WINDOW_CLOSED)
    assert added == 1
    assert sent.order_id == order.id
    assert sent.member_id == tree.customer_member.id
    assert sent.payload["deadline"] == DEADLINE.isoformat()


async def test_closed_not_urgent(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    await scan(database, DEADLINE)

    [sent] = notifications(database, NotificationKind.WINDOW_CLOSED)
    assert sent.urgent is False


async def test_closed_after_closing(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    await scan(database, CLOSING_AT + HOUR)
    at_deadline = await scan(database, DEADLINE)
    later = await scan(database, DEADLINE + HOUR)

    assert at_deadline == 1
    assert later == 0
    assert len(notifications(database, NotificationKind.WINDOW_CLOSING)) == 1
    assert len(notifications(database, NotificationKind.WINDOW_CLOSED)) == 1


async def test_closed_late_skips_closing(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    # The bot was offline for the whole last day of the window.
    late = await scan(database, DEADLINE + 2 * HOUR)
    later = await scan(database, DEADLINE + 3 * HOUR)

    assert late == 1
    assert later == 0
    assert notifications(database, NotificationKind.WINDOW_CLOSING) == []
    assert len(notifications(database, NotificationKind.WINDOW_CLOSED)) == 1


async def test_closed_within_lookback(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    added = await scan(database, DEADLINE + ReminderPolicy().lookback)

    assert added == 1


async def test_closed_beyond_lookback(database: FakeDatabase, tree: Tree) -> None:
    await place(database, "PO-1", 2)

    added = await scan(database, DEADLINE + ReminderPolicy().lookback + MICROSECOND)

    assert added == 0


# Orders no longer on order


async def test_issued_order_no_window_reminder(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 2)
    await place_and_issue(database, "PO-1", 2)

    await scan(database, CLOSING_AT + HOUR)
    await scan(database, DEADLINE)

    assert notifications(database, NotificationKind.WINDOW_CLOSING) == []
    assert notifications(database, NotificationKind.WINDOW_CLOSED) == []


async def test_cancelled_order_no_reminder(database: FakeDatabase, tree: Tree) -> None:
    order = await place(database, "PO-1", 2)
    await cancel_order(
        FakeUnitOfWork(database),
        telegram_user_id=CUSTOMER_USER,
        order_id=order.id,
        policy=POLICY,
        now=NOW + HOUR,
    )

    await scan(database, CLOSING_AT + HOUR)
    await scan(database, DEADLINE)

    assert notifications(database, NotificationKind.WINDOW_CLOSING) == []
    assert notifications(database, NotificationKind.WINDOW_CLOSED) == []


# A cancel window reopened by the cancellation of an issuance


async def test_reopened_window_reminded_again(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 2)
    order = await place(database, "PO-1", 2)
    await scan(database, CLOSING_AT + HOUR)
    await issue(database, order.id, now=CLOSING_AT + 2 * HOUR)
    reopened_at = CLOSING_AT + 3 * HOUR
    await cancel_issue(database, order.id, now=reopened_at)
    new_deadline = reopened_at + CANCEL_WINDOW

    at_old_deadline = await scan(database, DEADLINE)
    before_new_lead = await scan(database, new_deadline - timedelta(hours=24) - HOUR)
    after_new_lead = await scan(database, new_deadline - timedelta(hours=23))

    sent = notifications(database, NotificationKind.WINDOW_CLOSING)
    assert at_old_deadline == 0
    assert before_new_lead == 0
    assert after_new_lead == 1
    assert len(sent) == 2
    assert sent[1].payload["deadline"] == new_deadline.isoformat()


async def test_reopened_window_closed(database: FakeDatabase, tree: Tree) -> None:
    await stock(database, tree.north_dealer, 2)
    order = await place_and_issue(database, "PO-1", 2)
    reopened_at = NOW + 5 * DAY
    await cancel_issue(database, order.id, now=reopened_at)
    new_deadline = reopened_at + CANCEL_WINDOW

    at_old_deadline = await scan(database, DEADLINE)
    at_new_deadline = await scan(database, new_deadline)

    [sent] = notifications(database, NotificationKind.WINDOW_CLOSED)
    assert at_old_deadline == 0
    assert at_new_deadline == 1
    assert sent.payload["deadline"] == new_deadline.isoformat()


# Issuance window closing


ISSUANCE_DEADLINE = NOW + CANCEL_WINDOW
ISSUANCE_DUE = ISSUANCE_DEADLINE - DAY


async def issued(database: FakeDatabase, tree: Tree, quantity: int = 2) -> int:
    await stock(database, tree.north_dealer, quantity)
    order = await place_and_issue(database, "PO-1", quantity)
    return order.id


async def test_issuance_to_administrators(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued(database, tree)

    added = await scan(database, ISSUANCE_DUE + HOUR)

    sent = notifications(database, NotificationKind.ISSUANCE_WINDOW_CLOSING)
    assert added == 2
    assert member_ids(sent) == [tree.headquarters_member.id, tree.north_member.id]
    assert all(n.order_id == order_id for n in sent)
    assert all(n.payload["deadline"] == ISSUANCE_DEADLINE.isoformat() for n in sent)
    assert all(n.urgent is False for n in sent)


async def test_issuance_recipient_timezones(database: FakeDatabase, tree: Tree) -> None:
    await issued(database, tree)

    await scan(database, ISSUANCE_DUE + HOUR)

    headquarters, north = notifications(database, NotificationKind.ISSUANCE_WINDOW_CLOSING)
    assert headquarters.timezone == "UTC"
    assert north.timezone == "Europe/Berlin"
    assert north.payload["recipient_timezone"] == "Europe/Berlin"


async def test_issuance_not_other_centre(database: FakeDatabase, tree: Tree) -> None:
    await issued(database, tree)

    await scan(database, ISSUANCE_DUE + HOUR)

    recipients = member_ids(notifications(database, NotificationKind.ISSUANCE_WINDOW_CLOSING))
    assert tree.south_member.id not in recipients
    assert tree.dealer_member.id not in recipients
    assert tree.customer_member.id not in recipients


async def test_issuance_centre_above_distributor(database: FakeDatabase, tree: Tree) -> None:
    await set_dealer(database, tree.other_customer, tree.distributed_dealer)
    await stock(database, tree.distributed_dealer, 1)
    await place_and_issue(
        database,
        "PO-1",
        1,
        customer_user=OTHER_CUSTOMER_USER,
        dealer_user=DISTRIBUTED_DEALER_USER,
    )

    await scan(database, ISSUANCE_DUE + HOUR)

    sent = notifications(database, NotificationKind.ISSUANCE_WINDOW_CLOSING)
    assert member_ids(sent) == [tree.headquarters_member.id, tree.north_member.id]


async def test_issuance_added_once(database: FakeDatabase, tree: Tree) -> None:
    await issued(database, tree)

    first = await scan(database, ISSUANCE_DUE + HOUR)
    second = await scan(database, ISSUANCE_DUE + 2 * HOUR)

    assert first == 2
    assert second == 0


async def test_issuance_nothing_before_lead(database: FakeDatabase, tree: Tree) -> None:
    await issued(database, tree)

    added = await scan(database, ISSUANCE_DUE - MICROSECOND)

    assert added == 0


async def test_issuance_at_exact_lead(database: FakeDatabase, tree: Tree) -> None:
    await issued(database, tree)

    added = await scan(database, ISSUANCE_DUE)

    assert added == 2


async def test_issuance_nothing_at_deadline(database: FakeDatabase, tree: Tree) -> None:
    await issued(database, tree)

    added = await scan(database, ISSUANCE_DEADLINE)

    assert added == 0


async def test_issuance_nothing_once_assigned(database: FakeDatabase, tree: Tree) -> None:
    await issued(database, tree)
    await assign(database, "ana@example.com", now=NOW + HOUR)

    added = await scan(database, ISSUANCE_DUE + HOUR)

    assert added == 0


async def test_issuance_nothing_after_unassign(database: FakeDatabase, tree: Tree) -> None:
    await issued(database, tree)
    await assign(database, "ana@example.com", now=NOW + HOUR)
    await unassign(database, "ana@example.com", now=NOW + 2 * HOUR)

    added = await scan(database, ISSUANCE_DUE + HOUR)

    assert added == 0


async def test_issuance_nothing_when_cancelled(database: FakeDatabase, tree: Tree) -> None:
    order_id = await issued(database, tree)
    await cancel_issue(database, order_id, now=NOW + DAY)

    await scan(database, ISSUANCE_DUE + HOUR)

    assert notifications(database, NotificationKind.ISSUANCE_WINDOW_CLOSING) == []


async def test_issuance_skips_unreachable(database: FakeDatabase, tree: Tree) -> None:
    await issued(database, tree)
    await unreachable(database, tree.headquarters_member.telegram_user_id)

    added = await scan(database, ISSUANCE_DUE + HOUR)

    sent = notifications(database, NotificationKind.ISSUANCE_WINDOW_CLOSING)
    assert added == 1
    assert member_ids(sent) == [tree.north_member.id]


# License expiry


async def assigned(database: FakeDatabase, tree: Tree, email: str = "ana@example.com") -> int:
    await stock(database, tree.north_dealer, 1)
    await place_and_issue(database, f"PO-{email}", 1)
    license = await assign(database, email)
    assert license.expires_at == EXPIRES_AT
    return license.id


async def test_expiry_30_days(database: FakeDatabase, tree: Tree) -> None:
    license_id = await assigned(database, tree)

    added = await scan(database, EXPIRES_AT - timedelta(days=30) + HOUR)

    [sent] = notifications(database, NotificationKind.LICENSE_EXPIRING)
    assert added == 1
    assert sent.member_id == tree.customer_member.id
    assert sent.payload["days"] == 30
    assert sent.payload["license_id"] == license_id
    assert sent.payload["email"] == "ana@example.com"
    assert sent.payload["expires_at"] == EXPIRES_AT.isoformat()
    assert sent.payload["customer"] == "Acme Clinic"
    assert sent.urgent is False
    assert sent.order_id is None


async def test_expiry_nothing_before_30_days(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree)

    added = await scan(database, EXPIRES_AT - timedelta(days=30) - MICROSECOND)

    assert added == 0


async def test_expiry_at_exact_30_days(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree)

    added = await scan(database, EXPIRES_AT - timedelta(days=30))

    assert added == 1


async def test_expiry_at_exact_7_days(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree)

    added = await scan(database, EXPIRES_AT - timedelta(days=7))

    [sent] = notifications(database, NotificationKind.LICENSE_EXPIRING)
    assert added == 1
    assert sent.payload["days"] == 7


async def test_expiry_both_tiers_once(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree)

    counts = [
        await scan(database, EXPIRES_AT - timedelta(days=30) + HOUR),
        await scan(database, EXPIRES_AT - timedelta(days=20)),
        await scan(database, EXPIRES_AT - timedelta(days=7)),
        await scan(database, EXPIRES_AT - timedelta(days=1)),
        await scan(database, EXPIRES_AT - MICROSECOND),
    ]

    sent = notifications(database, NotificationKind.LICENSE_EXPIRING)
    assert counts == [1, 0, 1, 0, 0]
    assert [n.payload["days"] for n in sent] == [30, 7]


async def test_expiry_late_scan_skips_tier(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree)

    late = await scan(database, EXPIRES_AT - timedelta(days=5))
    later = await scan(database, EXPIRES_AT - timedelta(days=2))

    [sent] = notifications(database, NotificationKind.LICENSE_EXPIRING)
    assert late == 1
    assert later == 0
    assert sent.payload["days"] == 7


@pytest.mark.parametrize("offset", [timedelta(0), HOUR, 40 * DAY])
async def test_expiry_nothing_at_or_after(
    database: FakeDatabase, tree: Tree, offset: timedelta
) -> None:
    await assigned(database, tree)

    added = await scan(database, EXPIRES_AT + offset)

    assert added == 0


async def test_expiry_restart_adds_nothing(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree)
    await scan(database, EXPIRES_AT - timedelta(days=7))

    again = await scan(database, EXPIRES_AT - timedelta(days=7))

    assert again == 0
    assert len(notifications(database, NotificationKind.LICENSE_EXPIRING)) == 1


async def test_expiry_not_for_unassigned(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree)
    await unassign(database, "ana@example.com", now=NOW + DAY)

    added = await scan(database, EXPIRES_AT - timedelta(days=7))

    assert added == 0


async def test_expiry_per_license(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree, "ana@example.com")
    await assigned(database, tree, "ben@example.com")

    added = await scan(database, EXPIRES_AT - timedelta(days=7))

    sent = notifications(database, NotificationKind.LICENSE_EXPIRING)
    assert added == 2
    assert [n.payload["email"] for n in sent] == ["ana@example.com", "ben@example.com"]


async def test_expiry_custom_leads(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree)
    reminders = ReminderPolicy(expiry_leads=(timedelta(days=3),))

    at_7_days = await scan(database, EXPIRES_AT - timedelta(days=7), reminders)
    at_3_days = await scan(database, EXPIRES_AT - timedelta(days=3) + HOUR, reminders)

    [sent] = notifications(database, NotificationKind.LICENSE_EXPIRING)
    assert at_7_days == 0
    assert at_3_days == 1
    assert sent.payload["days"] == 3


# Everything in one scan


async def test_scan_counts_all_kinds(database: FakeDatabase, tree: Tree) -> None:
    await assigned(database, tree)
    # The order's window closes 1 hour after the 7-day expiry reminder is due.
    await place(database, "PO-window", 1, now=EXPIRES_AT - timedelta(days=21) + HOUR)

    added = await scan(database, EXPIRES_AT - timedelta(days=7))

    assert added == 2
    assert len(notifications(database, NotificationKind.LICENSE_EXPIRING)) == 1
    assert len(notifications(database, NotificationKind.WINDOW_CLOSING)) == 1


async def test_scan_empty_database(database: FakeDatabase) -> None:
    added = await scan(database, NOW)

    assert added == 0
