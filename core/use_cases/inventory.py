"""A customer's licenses: the inventory, assigning and unassigning, license cards."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.audit import AuditEntry
from core.cards import normalise_key
from core.dates import local_date
from core.errors import (
    DomainError,
    LicenseKeyNotAccepted,
    LicenseNotAssignable,
    TooManyAttempts,
)
from core.licenses import License, expiry_after, normalise_email
from core.organisations import Organisation, Tier
from core.paging import Page, check_page_number
from core.policy import LicensingPolicy
from core.ports import UnitOfWork
from core.use_cases.access import load_member_of_tier

# A member who typed this many wrong keys within the period must wait until
# the oldest of them is older than the period.
MAX_WRONG_KEYS = 5
WRONG_KEY_PERIOD = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Inventory:
    customer: Organisation
    unused: int
    assigned: int
    page: Page[License]


@dataclass(frozen=True, slots=True)
class AssignPreview:
    """The license that assigning to ``email`` would use, and when it would expire."""

    customer: Organisation
    email: str
    license: License
    expires_at: datetime


async def inventory(
    uow: UnitOfWork,
    *,
    telegram_user_id: int,
    page_number: int,
    policy: LicensingPolicy,
    now: datetime,
) -> Inventory:
    """Return the license counts and one page of assigned licenses, soonest expiry first."""
    async with uow:
        context = await load_member_of_tier(
            uow, telegram_user_id, Tier.CUSTOMER, "see the license inventory"
        )
        customer = context.organisation
        unused, assigned = await uow.licenses.count_inventory(customer.id, now)
        check_page_number(page_number, assigned, policy.page_size)
        licenses = await uow.licenses.page_assigned(
            customer.id, offset=(page_number - 1) * policy.page_size, limit=policy.page_size
        )
    page = Page(
        items=licenses, number=page_number, page_size=policy.page_size, total_items=assigned
    )
    return Inventory(customer=customer, unused=unused, assigned=assigned, page=page)


async def preview_assign(
    uow: UnitOfWork, *, telegram_user_id: int, email: str, now: datetime
) -> AssignPreview:
    """Check the e-mail address and pick the license that would be assigned."""
    email = normalise_email(email)
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ASSIGN)
        customer = context.organisation
        await _check_email_free(uow, customer, email, now)
        license = await _pick(uow, customer.id, now)
    expires_at = license.expires_at or expiry_after(now, customer.timezone)
    return AssignPreview(customer=customer, email=email, license=license, expires_at=expires_at)


async def assign_license(
    uow: UnitOfWork, *, telegram_user_id: int, email: str, license_id: int, now: datetime
) -> License:
    """Assign the previewed license to ``email``.

    Raises LicenseNotAssignable when that license was taken meanwhile or the
    address got a license meanwhile; the person then starts again.
    """
    email = normalise_email(email)
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ASSIGN)
        customer = context.organisation
        # Assignments of one customer run one after another, so two requests
        # cannot both find the address free and then assign two licenses.
        await uow.organisations.lock(customer.id)
        await _check_email_free(uow, customer, email, now)
        license = await uow.licenses.get(license_id)
        if license is None or license.customer_id != customer.id:
            raise LicenseNotAssignable("That license is not in your inventory.")
        try:
            assigned = license.assigned(email, now, customer.timezone)
        except LicenseNotAssignable:
            raise LicenseNotAssignable(
                "That license was assigned or has expired meanwhile. Send /assign to start again."
            ) from None
        await uow.licenses.move([license], [assigned])
        await uow.audit.add(
            AuditEntry(
                action="license.assigned",
                entity="license",
                entity_id=license.id,
                at=now,
                actor_member_id=context.member.id,
                organisation_id=customer.id,
                before={"state": license.state.value, "email": None},
                after={
                    "state": assigned.state.value,
                    "email": email,
                    "expires_at": _iso(assigned.expires_at),
                },
            )
        )
        await uow.commit()
    return assigned


async def unassign_license(
    uow: UnitOfWork, *, telegram_user_id: int, email: str, now: datetime
) -> License:
    """Take the license back from ``email``; it stays reusable until its expiry."""
    email = normalise_email(email)
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ASSIGN)
        customer = context.organisation
        license = await uow.licenses.find_assigned(customer.id, email)
        if license is None:
            raise LicenseNotAssignable(f"{email} has no license assigned.")
        unassigned = license.unassigned()
        await uow.licenses.move([license], [unassigned])
        await uow.audit.add(
            AuditEntry(
                action="license.unassigned",
                entity="license",
                entity_id=license.id,
                at=now,
                actor_member_id=context.member.id,
                organisation_id=customer.id,
                before={"state": license.state.value, "email": email},
                after={"state": unassigned.state.value, "email": None},
            )
        )
        await uow.commit()
    return unassigned


async def activate_key(
    uow: UnitOfWork, *, telegram_user_id: int, key: str, now: datetime
) -> License:
    """Add one unused license to the customer's inventory from a license card key.

    A mistyped key, an unknown key and a used key each count as a wrong key;
    after MAX_WRONG_KEYS of them within WRONG_KEY_PERIOD the member must wait.
    """
    async with uow:
        context = await load_member_of_tier(
            uow, telegram_user_id, Tier.CUSTOMER, "activate license keys"
        )
        await _check_attempts(uow, context.member.id, now)
    customer = context.organisation
    try:
        compact = normalise_key(key)
        async with uow:
            if not await uow.cards.activate(compact, customer.id, now):
                known = await uow.cards.exists(compact)
                raise LicenseKeyNotAccepted(
                    "This key was already activated." if known else "This key is not known."
                )
            license = await uow.licenses.add_to_inventory(customer.id)
            await uow.audit.add(
                AuditEntry(
                    action="license.activated",
                    entity="license",
                    entity_id=license.id,
                    at=now,
                    actor_member_id=context.member.id,
                    organisation_id=customer.id,
                    after={"state": license.state.value, "key_suffix": compact[-4:]},
                )
            )
            await uow.commit()
    except DomainError:
        async with uow:
            await uow.key_attempts.add_failure(context.member.id, now)
            await uow.commit()
        raise
    return license


async def _check_attempts(uow: UnitOfWork, member_id: int, now: datetime) -> None:
    failures = await uow.key_attempts.failures_since(member_id, now - WRONG_KEY_PERIOD)
    if len(failures) < MAX_WRONG_KEYS:
        return
    # The member may try again when enough failures have aged out of the period.
    free_at = failures[-MAX_WRONG_KEYS] + WRONG_KEY_PERIOD
    seconds = max(1, math.ceil((free_at - now).total_seconds()))
    minutes, rest = divmod(seconds, 60)
    wait = f"{minutes} min {rest} s" if minutes else f"{rest} s"
    raise TooManyAttempts(
        f"Too many wrong keys: {MAX_WRONG_KEYS} within {WRONG_KEY_PERIOD.seconds // 60} "
        f"minutes. Try again in {wait}.",
        retry_after_seconds=seconds,
    )


async def _check_email_free(
    uow: UnitOfWork, customer: Organisation, email: str, now: datetime
) -> None:
    existing = await uow.licenses.find_assigned(customer.id, email)
    if existing is not None and not existing.is_expired(now):
        raise LicenseNotAssignable(
            f"{email} already has a license, which expires on "
            f"{local_date(existing.expires_at, customer.timezone)}. "
            "An address holds one license at a time."
        )


async def _pick(uow: UnitOfWork, customer_id: int, now: datetime) -> License:
    license = await uow.licenses.pick_assignable(customer_id, now)
    if license is None:
        raise LicenseNotAssignable(
            "There is no unused license in your inventory. Order more with /order "
            "or activate a license card with /activate."
        )
    return license


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


_ASSIGN = "assign licenses"


@dataclass(frozen=True, slots=True)
class UnassignPreview:
    """The license that unassigning ``email`` would take back."""

    customer: Organisation
    email: str
    license: License


async def preview_unassign(
    uow: UnitOfWork, *, telegram_user_id: int, email: str
) -> UnassignPreview:
    """Check the e-mail address and find its license, without changing anything."""
    email = normalise_email(email)
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ASSIGN)
        license = await uow.licenses.find_assigned(context.organisation.id, email)
    if license is None:
        raise LicenseNotAssignable(f"{email} has no license assigned.")
    return UnassignPreview(customer=context.organisation, email=email, license=license)


@dataclass(frozen=True, slots=True)
class LicenseCounts:
    customer: Organisation
    unused: int
    assigned: int


async def license_counts(
    uow: UnitOfWork, *, telegram_user_id: int, now: datetime
) -> LicenseCounts:
    """Return the numbers of assignable and assigned licenses, without the list.

    Raises NotAllowed, worded for assigning, when the member is not a customer's.
    """
    async with uow:
        context = await load_member_of_tier(uow, telegram_user_id, Tier.CUSTOMER, _ASSIGN)
        unused, assigned = await uow.licenses.count_inventory(context.organisation.id, now)
    return LicenseCounts(customer=context.organisation, unused=unused, assigned=assigned)
