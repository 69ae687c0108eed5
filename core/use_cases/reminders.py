"""The scheduler's scan: add the reminders that are due, each exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.licenses import License, LicenseState
from core.notifications import NotificationKind
from core.orders import Order
from core.organisations import Organisation, Tier
from core.policy import LicensingPolicy
from core.ports import UnitOfWork
from core.reminders import (
    DueReminder,
    ReminderPolicy,
    expiry_reminder,
    issuance_reminder,
    window_reminder,
)
from core.use_cases.access import find_ancestor
from core.use_cases.notify import notify_members, order_payload

# The repository ranges exclude their end, but a reminder is due at exactly
# its due time; one microsecond (the resolution of datetime) includes it.
_INCLUSIVE = timedelta(microseconds=1)


async def scan_reminders(
    uow: UnitOfWork, *, now: datetime, policy: LicensingPolicy, reminders: ReminderPolicy
) -> int:
    """Add every reminder due at ``now`` that was not added before; return how many.

    Each order or license is handled in its own transaction, so a long scan
    never holds the database for long, and a scan stopped half way is
    completed by the next one.
    """
    added = 0
    added += await _scan_cancel_windows(uow, now, policy, reminders)
    added += await _scan_issuance_windows(uow, now, policy, reminders)
    added += await _scan_expiries(uow, now, reminders)
    return added


async def _scan_cancel_windows(
    uow: UnitOfWork, now: datetime, policy: LicensingPolicy, reminders: ReminderPolicy
) -> int:
    window = policy.cancel_window
    # An order's deadline is the start of its current window plus the window,
    # so deadlines in [now - lookback, now + lead] come from these windows.
    async with uow:
        orders = await uow.orders.list_on_order_window_opened(
            now - reminders.lookback - window, now + reminders.window_lead - window + _INCLUSIVE
        )
    added = 0
    for order in orders:
        due = window_reminder(order, now, window, reminders.window_lead)
        if due is not None:
            added += await _notify_customer(uow, order, due, now)
    return added


async def _notify_customer(uow: UnitOfWork, order: Order, due: DueReminder, now: datetime) -> int:
    async with uow:
        customer = await uow.organisations.get(order.customer_id)
        dealer = await uow.organisations.get(order.dealer_id)
        if customer is None or dealer is None:
            return 0
        payload = order_payload(order, customer, dealer) | {"deadline": due.deadline.isoformat()}
        added = await notify_members(
            uow,
            customer.id,
            due.kind,
            now=now,
            payload=payload,
            order_id=order.id,
            # A closing cancel window cannot wait for the end of quiet hours.
            urgent=due.kind is NotificationKind.WINDOW_CLOSING,
            dedupe_key=due.key,
        )
        await uow.commit()
    return added


async def _scan_issuance_windows(
    uow: UnitOfWork, now: datetime, policy: LicensingPolicy, reminders: ReminderPolicy
) -> int:
    window = policy.cancel_window
    async with uow:
        orders = await uow.orders.list_issued_between(
            now - window, now - window + reminders.issuance_lead + _INCLUSIVE
        )
    added = 0
    for order in orders:
        due = issuance_reminder(order, now, window, reminders.issuance_lead)
        if due is not None:
            added += await _notify_administrators(uow, order, due, now)
    return added


async def _notify_administrators(
    uow: UnitOfWork, order: Order, due: DueReminder, now: datetime
) -> int:
    """Tell headquarters and the business centre above the dealer, while the issuance is unused."""
    async with uow:
        licenses = await uow.licenses.list_for_order(order.id)
        if any(license.ever_assigned for license in licenses):
            return 0
        customer = await uow.organisations.get(order.customer_id)
        dealer = await uow.organisations.get(order.dealer_id)
        if customer is None or dealer is None:
            return 0
        recipients: list[Organisation] = await uow.organisations.list_by_tier(Tier.HEADQUARTERS)
        centre = await find_ancestor(uow, dealer, Tier.BUSINESS_CENTRE)
        if centre is not None:
            recipients.append(centre)
        payload = order_payload(order, customer, dealer) | {"deadline": due.deadline.isoformat()}
        added = 0
        for organisation in recipients:
            added += await notify_members(
                uow,
                organisation.id,
                due.kind,
                now=now,
                payload=payload | {"recipient_timezone": organisation.timezone},
                order_id=order.id,
                dedupe_key=due.key,
            )
        await uow.commit()
    return added


async def _scan_expiries(uow: UnitOfWork, now: datetime, reminders: ReminderPolicy) -> int:
    horizon = now + max(reminders.expiry_leads, default=reminders.shortage_horizon) + _INCLUSIVE
    async with uow:
        licenses = await uow.licenses.list_assigned_expiring(horizon)
    added = 0
    for license in licenses:
        due = expiry_reminder(license, now, reminders.expiry_leads)
        if due is not None and license.state is LicenseState.ASSIGNED:
            added += await _notify_expiry(uow, license, due, now)
    return added


async def _notify_expiry(
    uow: UnitOfWork, license: License, due: DueReminder, now: datetime
) -> int:
    async with uow:
        customer = await uow.organisations.get(license.customer_id or 0)
        if customer is None:
            return 0
        added = await notify_members(
            uow,
            customer.id,
            due.kind,
            now=now,
            payload=license_payload(license, customer)
            | {"days": due.lead.days if due.lead else 0},
            dedupe_key=due.key,
        )
        await uow.commit()
    return added


def license_payload(license: License, customer: Organisation) -> dict[str, object]:
    """Return the facts about an assigned license that its notifications show."""
    return {
        "license_id": license.id,
        "email": license.email,
        "expires_at": license.expires_at.isoformat() if license.expires_at else None,
        "customer": customer.name,
        "customer_timezone": customer.timezone,
    }
