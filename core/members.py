"""Members (people who chat with the bot) and the invite codes they join with."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import InvalidInvite
from core.organisations import Organisation

# An invite is a one-time code. Telegram deep links accept at most 64
# characters from A-Z, a-z, 0-9, "_" and "-" as the start parameter.
INVITE_LIFETIME = timedelta(days=7)
INVITE_CODE_BYTES = 12
INVITE_CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class Member:
    """A Telegram user linked to one organisation as its administrator."""

    id: int
    telegram_user_id: int
    organisation_id: int
    name: str
    # False after Telegram reported that the member blocked the bot or the
    # chat is gone; notifications skip the member until it writes again.
    reachable: bool = True


@dataclass(frozen=True, slots=True)
class MemberContext:
    """A member together with its organisation, as most use cases need both."""

    member: Member
    organisation: Organisation


@dataclass(frozen=True, slots=True)
class Invite:
    """A one-time code that links whoever redeems it to ``organisation_id``."""

    code: str
    organisation_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by_telegram_user_id: int | None = None

    def ensure_redeemable(self, now: datetime) -> None:
        if self.used_at is not None:
            raise InvalidInvite(
                "This invite code was already used. Ask your administrator for a new one."
            )
        if now >= self.expires_at:
            raise InvalidInvite(
                "This invite code has expired. Ask your administrator for a new one."
            )


def new_invite_code() -> str:
    """Return a fresh random invite code that fits in a Telegram deep link."""
    return secrets.token_urlsafe(INVITE_CODE_BYTES)


def is_invite_code_shaped(text: str) -> bool:
    return INVITE_CODE_PATTERN.fullmatch(text) is not None
