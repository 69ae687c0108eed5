"""When reminders are due: cancel windows, issuance windows and license expiry.

Reminders are derived from the stored orders and licenses at each scan,
never from timers kept in memory, so a restart, a clock jump or a day
offline loses none. Each reminder has a key made of its kind, its object
and its due time; a scan that finds it again adds nothing. A reminder found
late is still sent once, but only the latest tier that is due: after the
7-day expiry reminder, the 30-day one is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.licenses import License
from core.notifications import NotificationKind
from core.orders import Order, OrderStatus

DEFAULT_WINDOW_LEAD = timedelta(hours=24)
DEFAULT_ISSUANCE_LEAD = timedelta(days=1)
DEFAULT_EXPIRY_LEADS = (timedelta(days=30), timedelta(days=7))
DEFAULT_SHORTAGE_HORIZON = timedelta(days=14)
# How far back a scan looks for windows that closed while the bot was not
# running. A window that closed longer ago gets no "closed" message.
DEFAULT_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When reminders go out; read from the configuration."""

    window_lead: timedelta = DEFAULT_WINDOW_LEAD
    issuance_lead: timedelta = DEFAULT_ISSUANCE_LEAD
    expiry_leads: tuple[timedelta, ...] = DEFAULT_EXPIRY_LEADS
    shortage_horizon: timedelta = DEFAULT_SHORTAGE_HORIZON
    lookback: timedelta = DEFAULT_LOOKBACK


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A reminder that is due now: what it is, about what, and its unique key."""

    kind: NotificationKind
    key: str
    due_at: datetime
    deadline: datetime
    lead: timedelta | None = None


def window_reminder(
    order: Order, now: datetime, window: timedelta, lead: timedelta
) -> DueReminder | None:
    """Return the cancel-window reminder due for ``order`` at ``now``, if any.

    "Closing" is due from ``lead`` before the deadline until the deadline;
    from the deadline on, only "closed" is due.
    """
    if order.status is not OrderStatus.ON_ORDER:
        return None
    deadline = order.cancel_deadline(window)
    stamp = _stamp(deadline)
    if now >= deadline:
        return DueReminder(
            NotificationKind.WINDOW_CLOSED, f"window_closed:{order.id}:{stamp}", deadline, deadline
        )
    if now >= deadline - lead:
        return DueReminder(
            NotificationKind.WINDOW_CLOSING,
            f"window_closing:{order.id}:{stamp}",
            deadline - lead,
            deadline,
            lead,
        )
    return None


def issuance_reminder(
    order: Order, now: datetime, window: timedelta, lead: timedelta
) -> DueReminder | None:
    """Return the reminder that an issuance can be cancelled only until its deadline."""
    deadline = order.issuance_cancel_deadline(window)
    if order.status is not OrderStatus.ISSUED or deadline is None:
        return None
    if not deadline - lead <= now < deadline:
        return None
    return DueReminder(
        NotificationKind.ISSUANCE_WINDOW_CLOSING,
        f"issuance_closing:{order.id}:{_stamp(deadline)}",
        deadline - lead,
        deadline,
        lead,
    )


def expiry_reminder(
    license: License, now: datetime, leads: tuple[timedelta, ...]
) -> DueReminder | None:
    """Return the latest expiry reminder due for an assigned license, if any.

    The reminder on the day of expiry is not returned here: expiry is
    processed by auto-assign, which reports it.
    """
    expires_at = license.expires_at
    if expires_at is None or now >= expires_at:
        return None
    due = [lead for lead in leads if now >= expires_at - lead]
    if not due:
        return None
    lead = min(due)
    return DueReminder(
        NotificationKind.LICENSE_EXPIRING,
        f"expiring:{license.id}:{_stamp(expires_at)}:{int(lead.total_seconds())}s",
        expires_at - lead,
        expires_at,
        lead,
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
