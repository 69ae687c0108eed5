"""Linking Telegram users to organisations: invites and operator-added members."""

from __future__ import annotations

from datetime import datetime

from core.audit import AuditEntry
from core.errors import AlreadyLinked, InvalidInvite
from core.members import (
    INVITE_LIFETIME,
    Invite,
    Member,
    MemberContext,
    is_invite_code_shaped,
    new_invite_code,
)
from core.ports import UnitOfWork
from core.text import BIDI_CONTROLS, has_line_break_or_control
from core.use_cases.access import load_member, load_organisation

MAX_MEMBER_NAME_LENGTH = 100


async def create_invite(uow: UnitOfWork, *, organisation_name: str, now: datetime) -> Invite:
    """Create a one-time invite code for an organisation."""
    async with uow:
        organisation = await load_organisation(uow, organisation_name)
        invite = Invite(
            code=new_invite_code(),
            organisation_id=organisation.id,
            created_at=now,
            expires_at=now + INVITE_LIFETIME,
        )
        await uow.invites.add(invite)
        await uow.audit.add(
            AuditEntry(
                action="invite.created",
                entity="organisation",
                entity_id=organisation.id,
                at=now,
                actor_member_id=None,
                organisation_id=organisation.id,
                after={"expires_at": invite.expires_at.isoformat()},
            )
        )
        await uow.commit()
    return invite


async def redeem_invite(
    uow: UnitOfWork, *, code: str, telegram_user_id: int, name: str, now: datetime
) -> MemberContext:
    """Link a Telegram user to the invite's organisation and use up the invite."""
    if not is_invite_code_shaped(code):
        raise InvalidInvite(
            "That is not an invite code. A code has letters, digits, '-' and '_' "
            "only; copy it exactly as you received it."
        )
    async with uow:
        existing = await uow.members.get_by_telegram_user(telegram_user_id)
        if existing is not None:
            current = await load_member(uow, telegram_user_id)
            raise AlreadyLinked(
                f"You are already a member of {current.organisation.name}. "
                "One Telegram account can belong to one organisation."
            )
        invite = await uow.invites.get(code)
        if invite is None:
            raise InvalidInvite(
                "This invite code is not known. Check it, or ask your administrator for a new one."
            )
        invite.ensure_redeemable(now)
        if not await uow.invites.mark_used(code, telegram_user_id=telegram_user_id, now=now):
            raise InvalidInvite(
                "This invite code was already used. Ask your administrator for a new one."
            )
        member = await uow.members.add(
            telegram_user_id=telegram_user_id,
            organisation_id=invite.organisation_id,
            name=_clean_member_name(name, telegram_user_id),
            now=now,
        )
        await _audit_member_added(uow, member, now, via="invite")
        await uow.commit()
    return await _reload(uow, telegram_user_id)


async def add_member(
    uow: UnitOfWork,
    *,
    organisation_name: str,
    telegram_user_id: int,
    name: str | None,
    now: datetime,
) -> MemberContext:
    """Link a Telegram user to an organisation from the command line."""
    async with uow:
        organisation = await load_organisation(uow, organisation_name)
        if await uow.members.get_by_telegram_user(telegram_user_id) is not None:
            raise AlreadyLinked(
                f"Telegram user {telegram_user_id} is already a member of an organisation."
            )
        member = await uow.members.add(
            telegram_user_id=telegram_user_id,
            organisation_id=organisation.id,
            name=_clean_member_name(name or "", telegram_user_id),
            now=now,
        )
        await _audit_member_added(uow, member, now, via="operator")
        await uow.commit()
    return await _reload(uow, telegram_user_id)


async def describe_member(uow: UnitOfWork, *, telegram_user_id: int) -> MemberContext | None:
    """Return the member linked to ``telegram_user_id``, or None if there is none."""
    async with uow:
        if await uow.members.get_by_telegram_user(telegram_user_id) is None:
            return None
        return await load_member(uow, telegram_user_id)


async def _reload(uow: UnitOfWork, telegram_user_id: int) -> MemberContext:
    async with uow:
        return await load_member(uow, telegram_user_id)


async def _audit_member_added(uow: UnitOfWork, member: Member, now: datetime, via: str) -> None:
    await uow.audit.add(
        AuditEntry(
            action="member.added",
            entity="member",
            entity_id=member.id,
            at=now,
            actor_member_id=None,
            organisation_id=member.organisation_id,
            after={"telegram_user_id": member.telegram_user_id, "via": via},
        )
    )


def _clean_member_name(name: str, telegram_user_id: int) -> str:
    """Return a one-line display name; control and text-direction characters are dropped."""
    visible = "".join(
        " " if has_line_break_or_control(ch) else ch for ch in name if ch not in BIDI_CONTROLS
    )
    cleaned = " ".join(visible.split())[:MAX_MEMBER_NAME_LENGTH]
    return cleaned or f"Telegram user {telegram_user_id}"
