"""Licenses: in a dealer's stock, or in a customer's inventory as unused or assigned."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

from core.errors import InvalidInput, LicenseNotAssignable

MAX_EMAIL_LENGTH = 254


class LicenseState(enum.StrEnum):
    """State of a license: in stock, unused, assigned or expired; the value is stored."""

    IN_STOCK = "in_stock"
    UNUSED = "unused"
    ASSIGNED = "assigned"
    # An assigned license after its expiry was processed; it is never used again.
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class License:
    """One license.

    In stock it belongs to ``dealer_id``. Once issued or activated it
    belongs to ``customer_id``; ``order_id`` is the issuance that brought it
    there and is None for a license from a license card. ``expires_at`` is
    set at the first assignment and never changes after that, so a license
    that was unassigned keeps it (a *reusable* license). ``version`` grows
    with every change and guards against lost updates.
    """

    id: int
    state: LicenseState
    dealer_id: int | None
    customer_id: int | None
    order_id: int | None = None
    email: str | None = None
    assigned_at: datetime | None = None
    expires_at: datetime | None = None
    version: int = 1

    @property
    def reusable(self) -> bool:
        return self.state is LicenseState.UNUSED and self.expires_at is not None

    @property
    def ever_assigned(self) -> bool:
        return self.expires_at is not None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def assigned(self, email: str, now: datetime, timezone: str) -> License:
        """Return this license assigned to ``email`` at ``now``.

        A fresh license expires one year after the assignment day in the
        customer's time zone; a reusable one keeps its expiry.
        """
        if self.state is not LicenseState.UNUSED:
            raise LicenseNotAssignable(f"License {self.id} is not unused.")
        if self.is_expired(now):
            raise LicenseNotAssignable(f"License {self.id} has expired.")
        expires_at = self.expires_at or expiry_after(now, timezone)
        return replace(
            self,
            state=LicenseState.ASSIGNED,
            email=email,
            assigned_at=now,
            expires_at=expires_at,
            version=self.version + 1,
        )

    def unassigned(self) -> License:
        """Return this license back in the inventory, keeping its expiry."""
        if self.state is not LicenseState.ASSIGNED:
            raise LicenseNotAssignable(f"License {self.id} is not assigned.")
        return replace(
            self,
            state=LicenseState.UNUSED,
            email=None,
            assigned_at=None,
            version=self.version + 1,
        )


def expiry_date(assigned_on: date) -> date:
    """Return the same calendar date one year later; 29 February gives 28 February."""
    if assigned_on.month == 2 and assigned_on.day == 29:
        return date(assigned_on.year + 1, 2, 28)
    return assigned_on.replace(year=assigned_on.year + 1)


def expiry_after(now: datetime, timezone: str) -> datetime:
    """Return when a license assigned at ``now`` expires: the start of its expiry date.

    The assignment day and the expiry date are calendar dates in the
    customer's time zone, so a license assigned at 00:30 in Berlin counts
    from that Berlin day even though it is still the previous day in UTC.
    """
    zone = ZoneInfo(timezone)
    assigned_on = now.astimezone(zone).date()
    return datetime.combine(expiry_date(assigned_on), time(0), tzinfo=zone).astimezone(now.tzinfo)


def normalise_email(text: str) -> str:
    """Return the e-mail address in ``text`` in normal form, or raise InvalidInput.

    The domain is lower-cased by the validator; the whole address is
    compared in lower case, since mail systems treat it so in practice.
    """
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("An e-mail address is required, such as name@example.com.")
    if len(cleaned) > MAX_EMAIL_LENGTH:
        raise InvalidInput(
            f"An e-mail address has at most {MAX_EMAIL_LENGTH} characters; "
            f"this one has {len(cleaned)}."
        )
    try:
        result = validate_email(cleaned, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(
            f"That is not a valid e-mail address: {str(error).rstrip('.')}. "
            "Send one such as name@example.com."
        ) from None
    return result.normalized.lower()
