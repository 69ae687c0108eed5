"""Use-case calls and committed-state queries shared by the license tests.

Each step runs one use case on a fresh FakeUnitOfWork of the test's
database, as one request of the bot would.
"""

from __future__ import annotations

from datetime import datetime

from core.licenses import License, LicenseState
from core.notifications import Notification, NotificationKind
from core.orders import Order
from core.organisations import Organisation
from core.policy import LicensingPolicy
from core.reminders import ReminderPolicy
from core.use_cases.expiry import check_shortages, process_expired_licenses
from core.use_cases.inventory import assign_license, preview_assign, unassign_license
from core.use_cases.issuances import CancelledIssuance, cancel_issuance
from core.use_cases.issuing import IssuedOrder, issue_order
from core.use_cases.license_users import set_auto_assign
from core.use_cases.ordering import place_order
from core.use_cases.reminders import scan_reminders
from core.use_cases.supply import add_stock
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.core.sample_tree import CUSTOMER_USER, DEALER_USER, HEADQUARTERS_USER, NOW

POLICY = LicensingPolicy()
REMINDERS = ReminderPolicy()


async def stock(database: FakeDatabase, dealer: Organisation, count: int) -> int:
    return await add_stock(FakeUnitOfWork(database), dealer_name=dealer.name, count=count, now=NOW)


async def place(
    database: FakeDatabase,
    po_number: str,
    quantity: int,
    *,
    user: int = CUSTOMER_USER,
    now: datetime = NOW,
) -> Order:
    placed = await place_order(
        FakeUnitOfWork(database),
        telegram_user_id=user,
        po_number=po_number,
        quantity=quantity,
        policy=POLICY,
        now=now,
    )
    return placed.order


async def issue(
    database: FakeDatabase, order_id: int, *, user: int = DEALER_USER, now: datetime = NOW
) -> IssuedOrder:
    return await issue_order(
        FakeUnitOfWork(database), telegram_user_id=user, order_id=order_id, now=now
    )


async def place_and_issue(
    database: FakeDatabase,
    po_number: str,
    quantity: int,
    *,
    now: datetime = NOW,
    customer_user: int = CUSTOMER_USER,
    dealer_user: int = DEALER_USER,
) -> Order:
    """Place an order and issue it at ``now``. The dealer's stock must suffice."""
    order = await place(database, po_number, quantity, user=customer_user, now=now)
    issued = await issue(database, order.id, user=dealer_user, now=now)
    return issued.order


async def cancel_issue(
    database: FakeDatabase,
    order_id: int,
    *,
    user: int = HEADQUARTERS_USER,
    reason: str = "Ordered by mistake",
    now: datetime = NOW,
) -> CancelledIssuance:
    return await cancel_issuance(
        FakeUnitOfWork(database),
        telegram_user_id=user,
        order_id=order_id,
        reason=reason,
        policy=POLICY,
        now=now,
    )


async def assign(
    database: FakeDatabase, email: str, *, user: int = CUSTOMER_USER, now: datetime = NOW
) -> License:
    """Preview the assignment to ``email`` and carry it out, as the bot's two steps do."""
    preview = await preview_assign(
        FakeUnitOfWork(database), telegram_user_id=user, email=email, now=now
    )
    return await assign_license(
        FakeUnitOfWork(database),
        telegram_user_id=user,
        email=email,
        license_id=preview.license.id,
        now=now,
    )


async def unassign(
    database: FakeDatabase, email: str, *, user: int = CUSTOMER_USER, now: datetime = NOW
) -> License:
    return await unassign_license(
        FakeUnitOfWork(database), telegram_user_id=user, email=email, now=now
    )


async def set_auto(
    database: FakeDatabase,
    email: str,
    enabled: bool,
    *,
    user: int = CUSTOMER_USER,
    now: datetime = NOW,
) -> str:
    return await set_auto_assign(
        FakeUnitOfWork(database), telegram_user_id=user, email=email, enabled=enabled, now=now
    )


async def scan(
    database: FakeDatabase, now: datetime, reminders: ReminderPolicy = REMINDERS
) -> int:
    """Run one scheduler scan at ``now`` on a fresh unit of work, as after a restart."""
    return await scan_reminders(
        FakeUnitOfWork(database), now=now, policy=POLICY, reminders=reminders
    )


async def process_expired(database: FakeDatabase, now: datetime) -> int:
    return await process_expired_licenses(FakeUnitOfWork(database), now=now)


async def check(
    database: FakeDatabase, now: datetime, reminders: ReminderPolicy = REMINDERS
) -> int:
    return await check_shortages(FakeUnitOfWork(database), now=now, reminders=reminders)


def stock_of(database: FakeDatabase, dealer: Organisation) -> list[License]:
    return [
        license
        for license in database.committed.licenses.values()
        if license.state is LicenseState.IN_STOCK and license.dealer_id == dealer.id
    ]


def inventory_of(database: FakeDatabase, customer: Organisation) -> list[License]:
    return [
        license
        for license in database.committed.licenses.values()
        if license.state is not LicenseState.IN_STOCK and license.customer_id == customer.id
    ]


def licenses_of_order(database: FakeDatabase, order_id: int) -> list[License]:
    return [
        license for license in database.committed.licenses.values() if license.order_id == order_id
    ]


def notifications(database: FakeDatabase, kind: NotificationKind) -> list[Notification]:
    """Return the committed notifications of ``kind``, in the order they were added."""
    stored = database.committed.notifications.values()
    return sorted(
        (notification for notification in stored if notification.kind is kind),
        key=lambda notification: notification.id,
    )
