"""Per-user settings of a customer's license users."""

from __future__ import annotations

from datetime import datetime

from core.audit import AuditEntry
from core.licenses import normalise_email
from core.organisations import Tier
from core.ports import UnitOfWork
from core.use_cases.access import load_member_of_tier


async def set_auto_assign(
    uow: UnitOfWork, *, telegram_user_id: int, email: str, enabled: bool, now: datetime
) -> str:
    """Turn auto-assign on or off for one user of the member's customer; return the address."""
    email = normalise_email(email)
    async with uow:
        context = await load_member_of_tier(
            uow, telegram_user_id, Tier.CUSTOMER, "change auto-assign"
        )
        customer = context.organisation
        before = await uow.license_users.auto_assign(customer.id, email)
        if before != enabled:
            await uow.license_users.set_auto_assign(customer.id, email, enabled)
            await uow.audit.add(
                AuditEntry(
                    action="license_user.auto_assign_changed",
                    entity="organisation",
                    entity_id=customer.id,
                    at=now,
                    actor_member_id=context.member.id,
                    organisation_id=customer.id,
                    before={"email": email, "auto_assign": before},
                    after={"email": email, "auto_assign": enabled},
                )
            )
        await uow.commit()
    return email
