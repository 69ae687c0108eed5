"""License expiry: retirement, auto-assign, and warnings of a coming shortage."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from core.audit import AuditEntry
from core.errors import ConcurrentChange
from core.licenses import License, LicenseState
from core.notifications import NotificationKind
from core.ports import UnitOfWork
from core.reminders import ReminderPolicy
from core.use_cases.notify import notify_members
from core.use_cases.reminders import license_payload


async def process_expired_licenses(uow: UnitOfWork, *, now: datetime) -> int:
    """Retire every assigned license that has expired and auto-assign a successor.

    With auto-assign on for the user (the default), an unused license is
    assigned to the same address at once: a reusable one first, the one
    that expires last. The customer's members are told what happened, or
    that no license was left. Returns how many licenses were retired.
    """
    async with uow:
        expired = [
            license
            # A license expires at exactly expires_at; the range excludes its end.
            for license in await uow.licenses.list_assigned_expiring(
                now + timedelta(microseconds=1)
            )
            if license.is_expired(now)
        ]
    retired = 0
    for license in expired:
        try:
            retired += await _retire(uow, license.id, now)
        except ConcurrentChange:
            # Another process retired it first; the next scan sees it done.
            continue
    return retired


async def _retire(uow: UnitOfWork, license_id: int, now: datetime) -> int:
    async with uow:
        license = await uow.licenses.get(license_id)
        if license is None or license.state is not LicenseState.ASSIGNED:
            return 0
        if not license.is_expired(now) or license.customer_id is None or license.email is None:
            return 0
        customer = await uow.organisations.get(license.customer_id)
        if customer is None:
            return 0
        await uow.organisations.lock(customer.id)
        retired = replace(license, state=LicenseState.EXPIRED, version=license.version + 1)
        await uow.licenses.move([license], [retired])
        await _audit(uow, license, retired, now, "license.expired")

        payload = license_payload(license, customer)
        kind = NotificationKind.LICENSE_EXPIRED
        current = await uow.licenses.find_assigned(customer.id, license.email)
        has_successor = current is not None and not current.is_expired(now)
        if not has_successor and await uow.license_users.auto_assign(customer.id, license.email):
            successor = await uow.licenses.pick_assignable(customer.id, now)
            if successor is None:
                kind = NotificationKind.AUTO_ASSIGN_FAILED
            else:
                assigned = successor.assigned(license.email, now, customer.timezone)
                await uow.licenses.move([successor], [assigned])
                await _audit(uow, successor, assigned, now, "license.auto_assigned")
                kind = NotificationKind.AUTO_ASSIGNED
                payload = payload | {
                    "new_license_id": assigned.id,
                    "new_expires_at": _iso(assigned.expires_at),
                }
        await notify_members(
            uow,
            customer.id,
            kind,
            now=now,
            payload=payload,
            dedupe_key=f"expired:{license.id}:{_iso(license.expires_at)}",
        )
        await uow.commit()
    return 1


async def check_shortages(uow: UnitOfWork, *, now: datetime, reminders: ReminderPolicy) -> int:
    """Warn each customer once when expiring licenses will outnumber its unused ones.

    Users whose licenses expire within the shortage horizon and who have
    auto-assign on are counted against the unused licenses auto-assign could
    give them. The warning names the missing number and is sent once per
    shortage: again only after the shortage was resolved and came back.
    Returns how many customers were warned.
    """
    async with uow:
        expiring = await uow.licenses.list_assigned_expiring(now + reminders.shortage_horizon)
        recorded = set(await uow.shortages.list_customers())
    users: dict[int, set[str]] = defaultdict(set)
    for license in expiring:
        if license.customer_id is not None and license.email and not license.is_expired(now):
            users[license.customer_id].add(license.email)
    warned = 0
    for customer_id in set(users) | recorded:
        emails = users.get(customer_id, set())
        warned += await _check_customer(uow, customer_id, emails, now, reminders)
    return warned


async def _check_customer(
    uow: UnitOfWork,
    customer_id: int,
    emails: set[str],
    now: datetime,
    reminders: ReminderPolicy,
) -> int:
    async with uow:
        customer = await uow.organisations.get(customer_id)
        if customer is None:
            return 0
        waiting = [
            e for e in sorted(emails) if await uow.license_users.auto_assign(customer_id, e)
        ]
        available, _ = await uow.licenses.count_inventory(customer_id, now)
        missing = len(waiting) - available
        previous = await uow.shortages.get(customer_id)
        if missing <= 0:
            if previous is not None:
                await uow.shortages.clear(customer_id)
                await uow.commit()
            return 0
        await uow.shortages.set(customer_id, missing, now)
        if previous is None:
            await notify_members(
                uow,
                customer_id,
                NotificationKind.SHORTAGE,
                now=now,
                payload={
                    "customer": customer.name,
                    "customer_timezone": customer.timezone,
                    "missing": missing,
                    "users": len(waiting),
                    "available": available,
                    "horizon_days": reminders.shortage_horizon.days,
                },
            )
        await uow.commit()
    return int(previous is None)


async def _audit(
    uow: UnitOfWork, before: License, after: License, now: datetime, action: str
) -> None:
    await uow.audit.add(
        AuditEntry(
            action=action,
            entity="license",
            entity_id=before.id,
            at=now,
            actor_member_id=None,
            organisation_id=before.customer_id,
            before={"state": before.state.value, "email": before.email},
            after={
                "state": after.state.value,
                "email": after.email,
                "expires_at": _iso(after.expires_at),
            },
        )
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
