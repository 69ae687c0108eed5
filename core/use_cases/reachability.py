"""Whether a member can receive messages, as Telegram reports it."""

from __future__ import annotations

from datetime import datetime

from core.audit import AuditEntry
from core.ports import UnitOfWork


async def record_reachability(
    uow: UnitOfWork, *, telegram_user_id: int, reachable: bool, now: datetime
) -> bool:
    """Record that the member blocked the bot (or the chat is gone), or is back.

    Returns whether the Telegram user is a member whose state changed.
    Notifications skip an unreachable member until it is reachable again.
    """
    async with uow:
        member = await uow.members.get_by_telegram_user(telegram_user_id)
        if member is None or member.reachable == reachable:
            return False
        await uow.members.set_reachable(telegram_user_id, reachable)
        await uow.audit.add(
            AuditEntry(
                action="member.reachable" if reachable else "member.unreachable",
                entity="member",
                entity_id=member.id,
                at=now,
                actor_member_id=None,
                organisation_id=member.organisation_id,
                before={"reachable": member.reachable},
                after={"reachable": reachable},
            )
        )
        await uow.commit()
    return True
