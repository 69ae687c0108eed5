"""When reminders are due: the pure functions of core.reminders, on explicit times."""

from datetime import UTC, datetime, timedelta

import pytest

from core.licenses import License, LicenseState
from core.notifications import NotificationKind
from core.orders import Order, OrderStatus
from core.reminders import (
    DEFAULT_EXPIRY_LEADS,
    DueReminder,
    ReminderPolicy,
    expiry_reminder,
    issuance_reminder,
    window_reminder,
)

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)
LEAD = timedelta(hours=24)
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)
DEADLINE = NOW + WINDOW
# 1 April 2026, 00:00 in Berlin: the start of the expiry date.
EXPIRES_AT = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)


def order(status: OrderStatus = OrderStatus.ON_ORDER, **changes: object) -> Order:
    fields: dict[str, object] = {
        "id": 7,
        "customer_id": 1,
        "dealer_id": 2,
        "po_number": "PO-7",
        "quantity": 2,
        "status": status,
        "ordered_at": NOW,
        "window_opened_at": NOW,
        "placed_by_member_id": 3,
    }
    if status is OrderStatus.ISSUED:
        fields["issued_at"] = NOW
    if status is OrderStatus.CANCELLED:
        fields["cancelled_at"] = NOW
    return Order(**(fields | changes))


def license(license_id: int = 11, expires_at: datetime | None = EXPIRES_AT) -> License:
    return License(
        id=license_id,
        state=LicenseState.ASSIGNED,
        dealer_id=2,
        customer_id=1,
        email="ana@example.com",
        assigned_at=NOW,
        expires_at=expires_at,
        version=2,
    )


def closing(now: datetime, subject: Order | None = None) -> DueReminder | None:
    return window_reminder(subject or order(), now, WINDOW, LEAD)


def expiring(now: datetime, subject: License | None = None) -> DueReminder | None:
    return expiry_reminder(subject or license(), now, DEFAULT_EXPIRY_LEADS)


def test_policy_defaults() -> None:
    policy = ReminderPolicy()

    assert policy.window_lead == timedelta(hours=24)
    assert policy.issuance_lead == timedelta(days=1)
    assert policy.expiry_leads == (timedelta(days=30), timedelta(days=7))
    assert policy.shortage_horizon == timedelta(days=14)


# Cancel window


def test_window_nothing_before_lead() -> None:
    assert closing(DEADLINE - LEAD - MICROSECOND) is None


def test_window_closing_at_lead() -> None:
    due = closing(DEADLINE - LEAD)

    assert due is not None
    assert due.kind is NotificationKind.WINDOW_CLOSING
    assert due.due_at == DEADLINE - LEAD
    assert due.deadline == DEADLINE
    assert due.lead == LEAD


def test_window_closing_until_deadline() -> None:
    due = closing(DEADLINE - MICROSECOND)

    assert due is not None
    assert due.kind is NotificationKind.WINDOW_CLOSING


def test_window_closed_at_deadline() -> None:
    due = closing(DEADLINE)

    assert due is not None
    assert due.kind is NotificationKind.WINDOW_CLOSED
    assert due.due_at == DEADLINE
    assert due.deadline == DEADLINE


def test_window_closed_stays_same() -> None:
    at_deadline = closing(DEADLINE)
    days_later = closing(DEADLINE + timedelta(days=3))

    assert at_deadline == days_later


def test_window_keys_stable() -> None:
    first = closing(DEADLINE - LEAD)
    later = closing(DEADLINE - timedelta(hours=2))

    assert first is not None
    assert later is not None
    assert first.key == later.key


def test_window_keys_differ_by_kind() -> None:
    closing_soon = closing(DEADLINE - LEAD)
    closed = closing(DEADLINE)

    assert closing_soon is not None
    assert closed is not None
    assert closing_soon.key != closed.key


def test_window_keys_differ_by_order() -> None:
    first = closing(DEADLINE - LEAD, order(id=7))
    second = closing(DEADLINE - LEAD, order(id=8))

    assert first is not None
    assert second is not None
    assert first.key != second.key


@pytest.mark.parametrize("status", [OrderStatus.ISSUED, OrderStatus.CANCELLED])
@pytest.mark.parametrize("offset", [-LEAD, -MICROSECOND, timedelta(0), DAY])
def test_window_nothing_unless_on_order(status: OrderStatus, offset: timedelta) -> None:
    assert closing(DEADLINE + offset, order(status)) is None


def test_window_custom_lead() -> None:
    lead = timedelta(hours=2)

    before = window_reminder(order(), DEADLINE - lead - MICROSECOND, WINDOW, lead)
    at_lead = window_reminder(order(), DEADLINE - lead, WINDOW, lead)

    assert before is None
    assert at_lead is not None
    assert at_lead.kind is NotificationKind.WINDOW_CLOSING


# Cancel window reopened by the cancellation of an issuance


REOPENED_AT = NOW + timedelta(days=10)
NEW_DEADLINE = REOPENED_AT + WINDOW


def reopened() -> Order:
    issued = order().issued(NOW + DAY, "UTC")
    return issued.issuance_cancelled(REOPENED_AT, WINDOW)


def test_reopened_nothing_at_old_lead() -> None:
    assert closing(DEADLINE - LEAD, reopened()) is None


def test_reopened_nothing_at_old_deadline() -> None:
    assert closing(DEADLINE, reopened()) is None


def test_reopened_closing_at_new_lead() -> None:
    due = closing(NEW_DEADLINE - LEAD, reopened())

    assert due is not None
    assert due.kind is NotificationKind.WINDOW_CLOSING
    assert due.deadline == NEW_DEADLINE
    assert due.due_at == NEW_DEADLINE - LEAD


def test_reopened_nothing_before_new_lead() -> None:
    assert closing(NEW_DEADLINE - LEAD - MICROSECOND, reopened()) is None


def test_reopened_closed_at_new_deadline() -> None:
    due = closing(NEW_DEADLINE, reopened())

    assert due is not None
    assert due.kind is NotificationKind.WINDOW_CLOSED
    assert due.deadline == NEW_DEADLINE


def test_reopened_key_differs() -> None:
    first = closing(DEADLINE - LEAD)
    again = closing(NEW_DEADLINE - LEAD, reopened())

    assert first is not None
    assert again is not None
    assert first.key != again.key


# Issuance window


ISSUED_AT = NOW + DAY
ISSUANCE_DEADLINE = ISSUED_AT + WINDOW


def issued_order() -> Order:
    return order().issued(ISSUED_AT, "UTC")


def issuance_due(now: datetime, subject: Order | None = None) -> DueReminder | None:
    return issuance_reminder(subject or issued_order(), now, WINDOW, DAY)


def test_issuance_nothing_before_lead() -> None:
    assert issuance_due(ISSUANCE_DEADLINE - DAY - MICROSECOND) is None


def test_issuance_due_at_lead() -> None:
    due = issuance_due(ISSUANCE_DEADLINE - DAY)

    assert due is not None
    assert due.kind is NotificationKind.ISSUANCE_WINDOW_CLOSING
    assert due.due_at == ISSUANCE_DEADLINE - DAY
    assert due.deadline == ISSUANCE_DEADLINE
    assert due.lead == DAY


def test_issuance_due_until_deadline() -> None:
    assert issuance_due(ISSUANCE_DEADLINE - MICROSECOND) is not None


def test_issuance_nothing_at_deadline() -> None:
    assert issuance_due(ISSUANCE_DEADLINE) is None


def test_issuance_key_stable() -> None:
    first = issuance_due(ISSUANCE_DEADLINE - DAY)
    later = issuance_due(ISSUANCE_DEADLINE - timedelta(hours=1))

    assert first is not None
    assert later is not None
    assert first.key == later.key


def test_issuance_key_differs_from_window() -> None:
    due = issuance_due(ISSUANCE_DEADLINE - DAY)
    window = closing(DEADLINE - LEAD)

    assert due is not None
    assert window is not None
    assert due.key != window.key


@pytest.mark.parametrize("status", [OrderStatus.ON_ORDER, OrderStatus.CANCELLED])
def test_issuance_nothing_unless_issued(status: OrderStatus) -> None:
    assert issuance_due(ISSUANCE_DEADLINE - timedelta(hours=1), order(status)) is None


def test_issuance_nothing_after_cancellation() -> None:
    cancelled = issued_order().issuance_cancelled(ISSUED_AT + DAY, WINDOW)

    assert issuance_due(ISSUANCE_DEADLINE - timedelta(hours=1), cancelled) is None


# License expiry


def test_expiry_nothing_before_first_tier() -> None:
    assert expiring(EXPIRES_AT - timedelta(days=30) - MICROSECOND) is None


def test_expiry_30_days() -> None:
    due = expiring(EXPIRES_AT - timedelta(days=30))

    assert due is not None
    assert due.kind is NotificationKind.LICENSE_EXPIRING
    assert due.lead == timedelta(days=30)
    assert due.due_at == EXPIRES_AT - timedelta(days=30)
    assert due.deadline == EXPIRES_AT


def test_expiry_30_days_until_7() -> None:
    due = expiring(EXPIRES_AT - timedelta(days=7) - MICROSECOND)

    assert due is not None
    assert due.lead == timedelta(days=30)


def test_expiry_7_days() -> None:
    due = expiring(EXPIRES_AT - timedelta(days=7))

    assert due is not None
    assert due.lead == timedelta(days=7)
    assert due.due_at == EXPIRES_AT - timedelta(days=7)


def test_expiry_late_scan_only_7_days() -> None:
    due = expiring(EXPIRES_AT - timedelta(days=5))

    assert due is not None
    assert due.lead == timedelta(days=7)
    assert due.due_at == EXPIRES_AT - timedelta(days=7)


def test_expiry_until_expiry() -> None:
    due = expiring(EXPIRES_AT - MICROSECOND)

    assert due is not None
    assert due.lead == timedelta(days=7)


@pytest.mark.parametrize("offset", [timedelta(0), MICROSECOND, DAY, timedelta(days=400)])
def test_expiry_nothing_at_or_after(offset: timedelta) -> None:
    assert expiring(EXPIRES_AT + offset) is None


def test_expiry_nothing_without_expiry() -> None:
    assert expiring(NOW, license(expires_at=None)) is None


def test_expiry_leads_in_any_order() -> None:
    leads = (timedelta(days=7), timedelta(days=30))

    due = expiry_reminder(license(), EXPIRES_AT - timedelta(days=8), leads)

    assert due is not None
    assert due.lead == timedelta(days=30)


def test_expiry_no_leads() -> None:
    assert expiry_reminder(license(), EXPIRES_AT - DAY, ()) is None


def test_expiry_key_stable_within_tier() -> None:
    first = expiring(EXPIRES_AT - timedelta(days=30))
    later = expiring(EXPIRES_AT - timedelta(days=20))

    assert first is not None
    assert later is not None
    assert first.key == later.key


def test_expiry_key_differs_per_tier() -> None:
    thirty = expiring(EXPIRES_AT - timedelta(days=30))
    seven = expiring(EXPIRES_AT - timedelta(days=7))

    assert thirty is not None
    assert seven is not None
    assert thirty.key != seven.key


def test_expiry_key_differs_per_due_time() -> None:
    later_expiry = EXPIRES_AT + timedelta(days=365)
    first = expiring(EXPIRES_AT - timedelta(days=7))
    second = expiring(later_expiry - timedelta(days=7), license(expires_at=later_expiry))

    assert first is not None
    assert second is not None
    assert first.key != second.key


def test_expiry_key_differs_per_license() -> None:
    first = expiring(EXPIRES_AT - timedelta(days=7), license(11))
    second = expiring(EXPIRES_AT - timedelta(days=7), license(12))

    assert first is not None
    assert second is not None
    assert first.key != second.key


def test_expiry_key_differs_for_hour_leads() -> None:
    leads = (timedelta(hours=12), timedelta(hours=1))
    twelve_hours = expiry_reminder(license(), EXPIRES_AT - timedelta(hours=12), leads)
    one_hour = expiry_reminder(license(), EXPIRES_AT - timedelta(hours=1), leads)

    assert twelve_hours is not None
    assert one_hour is not None
    assert twelve_hours.key != one_hour.key
