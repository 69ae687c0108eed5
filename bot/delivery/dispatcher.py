"""Sending the outbox through the bot, one claimed notification at a time.

Each run claims the due notifications, so that a second dispatcher (another
process, or a run that overlaps this one) never sends the same one. It then
sends each through the Bot API and records the outcome: the message id when
Telegram accepted it, a retry time, or a final state. One failing message is
logged and recorded, and the run goes on with the next one.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.views.notifications import InvalidPayload, render_notification
from core.notifications import Notification

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 20
# A claim older than this is taken to belong to a dispatcher that crashed, and
# another dispatcher claims the notification again. It must be longer than one
# run can take. With python-telegram-bot 22's default HTTPXRequest timeouts
# (connect, write and read 5 s each, pool 1 s), one send takes at most 16 s, so
# DEFAULT_BATCH_SIZE sends take 320 s at worst, plus the rate limiter's wait of
# about 1 s between two messages to one chat.
DEFAULT_CLAIM_TIMEOUT = timedelta(minutes=10)
# A send that fails for a transient reason (network, Telegram server error) is
# tried this many times in all, then recorded as failed.
MAX_ATTEMPTS = 5
FIRST_RETRY_DELAY = timedelta(seconds=10)
MAX_RETRY_DELAY = timedelta(minutes=10)
# Telegram's error description for a chat id that it does not know.
_CHAT_NOT_FOUND = "chat not found"


class NotificationOutbox(Protocol):
    """The outbox as the dispatcher uses it; ``storage.outbox.Outbox`` implements it.

    Each ``mark_*`` method returns False when the claim no longer belongs to
    ``claimer``, because another dispatcher took the notification over.
    """

    async def claim_due(
        self, *, now: datetime, limit: int, claimer: str, stale_after: timedelta
    ) -> list[Notification]: ...

    async def mark_sent(
        self, notification_id: int, *, claimer: str, message_id: int, now: datetime
    ) -> bool: ...

    async def mark_retry(
        self, notification_id: int, *, claimer: str, error: str, retry_at: datetime
    ) -> bool: ...

    async def mark_failed(self, notification_id: int, *, claimer: str, error: str) -> bool: ...

    async def mark_unreachable(
        self, notification_id: int, *, claimer: str, error: str
    ) -> bool: ...


class Outcome(enum.Enum):
    SENT = "sent"
    RETRIED = "retried"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    # The claim was lost, or storing the outcome failed. The notification is
    # claimed again once its claim is older than the claim timeout.
    UNRECORDED = "unrecorded"


@dataclass(slots=True)
class DeliveryReport:
    """How many of the claimed notifications ended in each outcome during one run."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: int = 0
    unrecorded: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retried + self.failed + self.unreachable + self.unrecorded

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


async def deliver_due(
    bot: Bot,
    outbox: NotificationOutbox,
    *,
    now: datetime,
    claimer: str,
    limit: int = DEFAULT_BATCH_SIZE,
    stale_after: timedelta = DEFAULT_CLAIM_TIMEOUT,
) -> DeliveryReport:
    """Claim up to ``limit`` due notifications, send each, and record the outcomes.

    ``claimer`` identifies this dispatcher, so that only the dispatcher that
    made a claim records the outcome.
    """
    report = DeliveryReport()
    claimed = await outbox.claim_due(
        now=now, limit=limit, claimer=claimer, stale_after=stale_after
    )
    for notification in claimed:
        try:
            outcome = await _deliver(bot, outbox, notification, now=now, claimer=claimer)
        except Exception:
            # The outcome could not be stored, for example because the database
            # is unreachable. The claim then expires and another run sends the
            # notification again, possibly a second time.
            logger.exception(
                "delivery of notification %s to chat %s failed unexpectedly",
                notification.id,
                notification.chat_id,
            )
            outcome = Outcome.UNRECORDED
        report.add(outcome)
    if claimed:
        logger.info(
            "delivery run by %s: %s sent, %s to retry, %s failed, %s unreachable, %s unrecorded",
            claimer,
            report.sent,
            report.retried,
            report.failed,
            report.unreachable,
            report.unrecorded,
        )
    return report


def retry_delay(attempt: int) -> timedelta:
    """Return the wait after failed attempt number ``attempt`` (1-based), doubling each time."""
    return min(FIRST_RETRY_DELAY * 2 ** (attempt - 1), MAX_RETRY_DELAY)


async def _deliver(
    bot: Bot,
    outbox: NotificationOutbox,
    notification: Notification,
    *,
    now: datetime,
    claimer: str,
) -> Outcome:
    """Send one notification and record the outcome."""
    try:
        text, markup = render_notification(notification)
    except InvalidPayload as error:
        logger.error(
            "notification %s to chat %s not sent: %s", notification.id, notification.chat_id, error
        )
        recorded = await outbox.mark_failed(notification.id, claimer=claimer, error=str(error))
        return _kept(Outcome.FAILED, recorded)

    try:
        message = await bot.send_message(
            notification.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    except TelegramError as error:
        return await _record_send_error(outbox, notification, error, now=now, claimer=claimer)

    recorded = await outbox.mark_sent(
        notification.id, claimer=claimer, message_id=message.message_id, now=now
    )
    if not recorded:
        logger.warning(
            "notification %s was sent to chat %s as message %s, but its claim was lost",
            notification.id,
            notification.chat_id,
            message.message_id,
        )
    return _kept(Outcome.SENT, recorded)


async def _record_send_error(
    outbox: NotificationOutbox,
    notification: Notification,
    error: TelegramError,
    *,
    now: datetime,
    claimer: str,
) -> Outcome:
    """Log why Telegram did not take the message, and record a retry or a final state."""
    notification_id, chat_id = notification.id, notification.chat_id
    if isinstance(error, RetryAfter):
        retry_at = now + _as_timedelta(error.retry_after)
        logger.warning(
            "notification %s to chat %s hit flood control, retrying at %s",
            notification_id,
            chat_id,
            retry_at,
        )
        recorded = await outbox.mark_retry(
            notification_id, claimer=claimer, error=error.message, retry_at=retry_at
        )
        return _kept(Outcome.RETRIED, recorded)
    if isinstance(error, Forbidden) or (
        isinstance(error, BadRequest) and _CHAT_NOT_FOUND in error.message.lower()
    ):
        # The member blocked the bot, deleted the account, or the chat never existed.
        logger.warning(
            "notification %s to chat %s: member unreachable: %s",
            notification_id,
            chat_id,
            error.message,
        )
        recorded = await outbox.mark_unreachable(
            notification_id, claimer=claimer, error=error.message
        )
        return _kept(Outcome.UNREACHABLE, recorded)
    if isinstance(error, BadRequest):
        # Telegram rejected the request itself, so sending it again would fail alike.
        logger.error(
            "notification %s to chat %s rejected: %s", notification_id, chat_id, error.message
        )
        recorded = await outbox.mark_failed(notification_id, claimer=claimer, error=error.message)
        return _kept(Outcome.FAILED, recorded)
    return await _retry_or_fail(outbox, notification, error, now=now, claimer=claimer)


async def _retry_or_fail(
    outbox: NotificationOutbox,
    notification: Notification,
    error: TelegramError,
    *,
    now: datetime,
    claimer: str,
) -> Outcome:
    attempt = _attempt_number(notification)
    if attempt >= MAX_ATTEMPTS:
        logger.error(
            "notification %s to chat %s failed after %s attempts: %s",
            notification.id,
            notification.chat_id,
            attempt,
            error.message,
        )
        recorded = await outbox.mark_failed(notification.id, claimer=claimer, error=error.message)
        return _kept(Outcome.FAILED, recorded)
    retry_at = now + retry_delay(attempt)
    logger.warning(
        "notification %s to chat %s failed (attempt %s of %s), retrying at %s: %s",
        notification.id,
        notification.chat_id,
        attempt,
        MAX_ATTEMPTS,
        retry_at,
        error.message,
    )
    recorded = await outbox.mark_retry(
        notification.id, claimer=claimer, error=error.message, retry_at=retry_at
    )
    return _kept(Outcome.RETRIED, recorded)


def _attempt_number(notification: Notification) -> int:
    # The outbox counts each recorded outcome as an attempt, flood-control
    # retries included, so the attempt under way is the next one.
    return notification.attempts + 1


def _as_timedelta(retry_after: int | timedelta) -> timedelta:
    """Return RetryAfter.retry_after as a timedelta.

    python-telegram-bot 22 returns a timedelta with PTB_TIMEDELTA set and
    whole seconds otherwise.
    """
    if isinstance(retry_after, timedelta):
        return retry_after
    return timedelta(seconds=retry_after)


def _kept(outcome: Outcome, recorded: bool) -> Outcome:
    """Return ``outcome``, or UNRECORDED when the claim was lost before it was stored."""
    return outcome if recorded else Outcome.UNRECORDED
