"""Sending the outbox through the bot, one claimed notification at a time.

Each run claims the due notifications, so that a second dispatcher (another
process, or a run that overlaps this one) never sends the same one. It then
sends each through the Bot API and records the outcome: the message id when
Telegram accepted it, a retry time, a later time (quiet hours, flood
control), or a final state. One failing message is logged and recorded, and
the run goes on with the next one.

Messages to different chats are sent concurrently; messages to one chat go
one after the other, no faster than the per-chat rate. The overall rate is
python-telegram-bot's AIORateLimiter, which the Application's bot uses.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from aiolimiter import AsyncLimiter
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.delivery.quiet_hours import QuietHours
from bot.views.notifications import InvalidPayload, render_notification
from core.notifications import Notification
from core.ports import UnitOfWork
from core.use_cases.reachability import record_reachability

if TYPE_CHECKING:
    from bot.config import DeliverySettings

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 20
# A claim older than this is taken to belong to a dispatcher that crashed, and
# another dispatcher claims the notification again. A run starts no send
# after a third of it (see Dispatcher), so a claim ends well before it.
DEFAULT_CLAIM_TIMEOUT = timedelta(minutes=10)
# A send that fails for a transient reason (network, Telegram server error) is
# tried this many times in all, then recorded as failed.
MAX_ATTEMPTS = 5
FIRST_RETRY_DELAY = timedelta(seconds=10)
MAX_RETRY_DELAY = timedelta(minutes=10)
# Maximum number of per-chat rate limiters kept. Idle ones are dropped first.
MAX_CHAT_LIMITERS = 1024
# Telegram's error description for a chat id that it does not know.
_CHAT_NOT_FOUND = "chat not found"


class NotificationOutbox(Protocol):
    """The outbox as the dispatcher uses it; ``storage.outbox.Outbox`` implements it.

    Each ``mark_*`` method and ``postpone`` return False when the claim no
    longer belongs to ``claimer``, because another dispatcher took the
    notification over.
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

    async def postpone(self, notification_id: int, *, claimer: str, until: datetime) -> bool:
        """Put the notification back unsent, due at ``until``, without counting an attempt."""
        ...


class Outcome(enum.Enum):
    SENT = "sent"
    RETRIED = "retried"
    # Handed back unsent without counting an attempt: quiet hours, flood
    # control, or the run's time was up.
    POSTPONED = "postponed"
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
    postponed: int = 0
    failed: int = 0
    unreachable: int = 0
    unrecorded: int = 0

    @property
    def claimed(self) -> int:
        return (
            self.sent
            + self.retried
            + self.postponed
            + self.failed
            + self.unreachable
            + self.unrecorded
        )

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Settings of the dispatcher: batch size, claim timeout, attempts, rates and quiet hours."""

    batch_size: int = DEFAULT_BATCH_SIZE
    claim_timeout: timedelta = DEFAULT_CLAIM_TIMEOUT
    max_attempts: int = MAX_ATTEMPTS
    # None leaves each chat to the overall rate alone.
    max_messages_per_chat_per_second: float | None = None
    # None sends at any hour.
    quiet_hours: QuietHours | None = None

    @classmethod
    def from_settings(cls, settings: DeliverySettings) -> DeliveryPolicy:
        start, end = settings.quiet_hours
        return cls(
            claim_timeout=timedelta(seconds=settings.claim_timeout_seconds),
            max_attempts=settings.max_attempts,
            max_messages_per_chat_per_second=settings.max_messages_per_chat_per_second,
            quiet_hours=QuietHours(start, end),
        )


class Dispatcher:
    """Sends due notifications for one claimer, and keeps the per-chat rate limiters.

    One Dispatcher serves every run of one Application, so runs that overlap
    share the per-chat limiters and together keep each chat's rate.

    A run starts no new send once a third of the claim timeout has passed
    since its claim, and hands the rest back. The last send then waits at
    most 20 s for the slowest per-chat rate (0.05 per second). It takes at
    most 16 s with python-telegram-bot 22's default HTTPXRequest timeouts.
    So even the shortest claim timeout (60 s) outlasts the run, and no other
    dispatcher takes a notification over while it is being sent.
    NOTE: flood-control retries inside AIORateLimiter wait as long as
    Telegram asks, which that bound does not include.

    With ``unit_of_work`` set, a member who blocked the bot, or whose chat
    is gone, is recorded unreachable, so later notifications skip them.
    """

    def __init__(
        self,
        bot: Bot,
        outbox: NotificationOutbox,
        *,
        claimer: str,
        policy: DeliveryPolicy | None = None,
        unit_of_work: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        self.bot = bot
        self.outbox = outbox
        self.claimer = claimer
        self.policy = policy or DeliveryPolicy()
        self._unit_of_work = unit_of_work
        self._chat_limiters: OrderedDict[int, AsyncLimiter] = OrderedDict()
        # Until when Telegram's flood control asked the bot to wait, if it did.
        self._flood_until: datetime | None = None

    @property
    def rate_limited_chats(self) -> int:
        """Number of chats whose per-chat rate limiter is kept."""
        return len(self._chat_limiters)

    async def deliver_due(self, now: datetime) -> DeliveryReport:
        """Claim up to a batch of notifications due at ``now``, send each, record the outcomes."""
        policy = self.policy
        claimed = await self.outbox.claim_due(
            now=now,
            limit=policy.batch_size,
            claimer=self.claimer,
            stale_after=policy.claim_timeout,
        )
        report = DeliveryReport()
        if not claimed:
            return report

        loop = asyncio.get_running_loop()
        last_start = loop.time() + policy.claim_timeout.total_seconds() / 3
        chats = _group_by_chat(claimed)
        outcomes = await asyncio.gather(
            *(self._deliver_to_chat(items, now, last_start) for items in chats.values())
        )
        for chat_outcomes in outcomes:
            for outcome in chat_outcomes:
                report.add(outcome)

        logger.info(
            "delivery run by %s: %s sent, %s to retry, %s postponed, %s failed, "
            "%s unreachable, %s unrecorded",
            self.claimer,
            report.sent,
            report.retried,
            report.postponed,
            report.failed,
            report.unreachable,
            report.unrecorded,
        )
        return report

    async def _deliver_to_chat(
        self, notifications: list[Notification], now: datetime, last_start: float
    ) -> list[Outcome]:
        """Send one chat's notifications in order, and hand back those left when time is up."""
        loop = asyncio.get_running_loop()
        outcomes = []
        for notification in notifications:
            try:
                if loop.time() > last_start:
                    outcome = await self._hand_back(notification, now)
                elif self._flood_until is not None and self._flood_until > now:
                    outcome = await self._hold_for_flood_control(notification)
                else:
                    outcome = await self._deliver(notification, now)
            except Exception:
                # The outcome could not be stored, for example because the
                # database is unreachable. The claim then expires and another
                # run sends the notification again, possibly a second time.
                logger.exception(
                    "delivery of notification %s to chat %s failed unexpectedly",
                    notification.id,
                    notification.chat_id,
                )
                outcome = Outcome.UNRECORDED
            outcomes.append(outcome)
        return outcomes

    async def _hold_for_flood_control(self, notification: Notification) -> Outcome:
        """Postpone a notification of this run after Telegram asked the bot to wait.

        Telegram's flood control limits the bot as a whole, so the rest of
        the run waits as long as it was told; each chat's messages keep their
        order because they are claimed again oldest first.
        """
        assert self._flood_until is not None
        recorded = await self.outbox.postpone(
            notification.id, claimer=self.claimer, until=self._flood_until
        )
        return _kept(Outcome.POSTPONED, recorded)

    async def _hand_back(self, notification: Notification, now: datetime) -> Outcome:
        logger.info(
            "notification %s to chat %s handed back unsent: the run's time is up",
            notification.id,
            notification.chat_id,
        )
        recorded = await self.outbox.postpone(notification.id, claimer=self.claimer, until=now)
        return _kept(Outcome.POSTPONED, recorded)

    async def _deliver(self, notification: Notification, now: datetime) -> Outcome:
        """Send one notification, or postpone it in quiet hours, and record the outcome."""
        quiet_until = self._quiet_until(notification, now)
        if quiet_until is not None:
            logger.info(
                "notification %s to chat %s postponed to %s, the end of quiet hours in %s",
                notification.id,
                notification.chat_id,
                quiet_until.isoformat(),
                notification.timezone,
            )
            recorded = await self.outbox.postpone(
                notification.id, claimer=self.claimer, until=quiet_until
            )
            return _kept(Outcome.POSTPONED, recorded)

        try:
            text, markup = render_notification(notification)
        except InvalidPayload as error:
            logger.error(
                "notification %s to chat %s not sent: %s",
                notification.id,
                notification.chat_id,
                error,
            )
            recorded = await self.outbox.mark_failed(
                notification.id, claimer=self.claimer, error=str(error)
            )
            return _kept(Outcome.FAILED, recorded)

        await self._wait_for_chat(notification.chat_id)
        try:
            message = await self.bot.send_message(
                notification.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except TelegramError as error:
            return await self._record_send_error(notification, error, now)

        recorded = await self.outbox.mark_sent(
            notification.id, claimer=self.claimer, message_id=message.message_id, now=now
        )
        if not recorded:
            logger.warning(
                "notification %s was sent to chat %s as message %s, but its claim was lost",
                notification.id,
                notification.chat_id,
                message.message_id,
            )
        return _kept(Outcome.SENT, recorded)

    def _quiet_until(self, notification: Notification, now: datetime) -> datetime | None:
        """Return the end of the quiet hours the notification must wait for, or None."""
        quiet_hours = self.policy.quiet_hours
        if quiet_hours is None or notification.urgent:
            return None
        # The zone stored with the notification, even if the organisation
        # changed its zone since, so a notification waits for the night it
        # was written for.
        return quiet_hours.end_after(now, notification.timezone)

    async def _wait_for_chat(self, chat_id: int) -> None:
        rate = self.policy.max_messages_per_chat_per_second
        if rate is None:
            return
        limiter = self._chat_limiters.get(chat_id)
        if limiter is None:
            self._drop_idle_limiters()
            # A bucket of one message that drains in 1 / rate seconds: no
            # burst, and at least 1 / rate seconds between two messages.
            limiter = AsyncLimiter(max_rate=1, time_period=1 / rate)
            self._chat_limiters[chat_id] = limiter
        else:
            self._chat_limiters.move_to_end(chat_id)
        await limiter.acquire()

    def _drop_idle_limiters(self) -> None:
        """Keep fewer than MAX_CHAT_LIMITERS limiters: drop idle ones, oldest first."""
        if len(self._chat_limiters) < MAX_CHAT_LIMITERS:
            return
        for chat_id, limiter in list(self._chat_limiters.items()):
            if limiter.has_capacity(limiter.max_rate):
                del self._chat_limiters[chat_id]
        while len(self._chat_limiters) >= MAX_CHAT_LIMITERS:
            # Every limiter is busy, so dropping the oldest lets that chat
            # get one message early, which Telegram tolerates as a short burst.
            self._chat_limiters.popitem(last=False)

    async def _record_send_error(
        self, notification: Notification, error: TelegramError, now: datetime
    ) -> Outcome:
        """Log why Telegram did not take the message, and record a retry or a final state."""
        notification_id, chat_id = notification.id, notification.chat_id
        if isinstance(error, RetryAfter):
            # Flood control is about the bot's rate, not this message, so
            # the wait counts no attempt.
            retry_at = now + _as_timedelta(error.retry_after)
            self._flood_until = max(retry_at, self._flood_until or retry_at)
            logger.warning(
                "notification %s to chat %s hit flood control, retrying at %s",
                notification_id,
                chat_id,
                retry_at.isoformat(),
            )
            recorded = await self.outbox.postpone(
                notification_id, claimer=self.claimer, until=retry_at
            )
            return _kept(Outcome.RETRIED, recorded)
        if isinstance(error, Forbidden) or (
            isinstance(error, BadRequest) and _CHAT_NOT_FOUND in error.message.lower()
        ):
            return await self._record_unreachable(notification, error, now)
        if isinstance(error, BadRequest):
            # Telegram rejected the request itself, so sending it again would fail alike.
            logger.error(
                "notification %s to chat %s rejected: %s", notification_id, chat_id, error.message
            )
            recorded = await self.outbox.mark_failed(
                notification_id, claimer=self.claimer, error=error.message
            )
            return _kept(Outcome.FAILED, recorded)
        return await self._retry_or_fail(notification, error, now)

    async def _record_unreachable(
        self, notification: Notification, error: TelegramError, now: datetime
    ) -> Outcome:
        """Give up on the notification and record its member unreachable."""
        # The member blocked the bot, deleted the account, or the chat never existed.
        logger.warning(
            "notification %s to chat %s: member unreachable: %s",
            notification.id,
            notification.chat_id,
            error.message,
        )
        recorded = await self.outbox.mark_unreachable(
            notification.id, claimer=self.claimer, error=error.message
        )
        if self._unit_of_work is not None:
            try:
                # Notifications go to private chats, whose id is the member's
                # Telegram user id.
                await record_reachability(
                    self._unit_of_work(),
                    telegram_user_id=notification.chat_id,
                    reachable=False,
                    now=now,
                )
            except Exception:
                # The next notification to the member fails alike and tries again.
                logger.exception(
                    "recording member of chat %s unreachable failed (notification %s)",
                    notification.chat_id,
                    notification.id,
                )
        return _kept(Outcome.UNREACHABLE, recorded)

    async def _retry_or_fail(
        self, notification: Notification, error: TelegramError, now: datetime
    ) -> Outcome:
        attempt = _attempt_number(notification)
        max_attempts = self.policy.max_attempts
        if attempt >= max_attempts:
            logger.error(
                "notification %s to chat %s failed after %s attempts: %s",
                notification.id,
                notification.chat_id,
                attempt,
                error.message,
            )
            recorded = await self.outbox.mark_failed(
                notification.id, claimer=self.claimer, error=error.message
            )
            return _kept(Outcome.FAILED, recorded)
        retry_at = now + retry_delay(attempt)
        logger.warning(
            "notification %s to chat %s failed (attempt %s of %s), retrying at %s: %s",
            notification.id,
            notification.chat_id,
            attempt,
            max_attempts,
            retry_at.isoformat(),
            error.message,
        )
        recorded = await self.outbox.mark_retry(
            notification.id, claimer=self.claimer, error=error.message, retry_at=retry_at
        )
        return _kept(Outcome.RETRIED, recorded)


async def deliver_due(
    bot: Bot,
    outbox: NotificationOutbox,
    *,
    now: datetime,
    claimer: str,
    limit: int = DEFAULT_BATCH_SIZE,
    stale_after: timedelta = DEFAULT_CLAIM_TIMEOUT,
) -> DeliveryReport:
    """Run one delivery with a new Dispatcher that has no quiet hours and no per-chat rate.

    It records no member unreachable either. It serves callers that deliver
    by hand, such as the tests' harness and the offline demo. The
    Application's delivery job uses a Dispatcher built from the settings.
    """
    policy = DeliveryPolicy(batch_size=limit, claim_timeout=stale_after)
    dispatcher = Dispatcher(bot, outbox, claimer=claimer, policy=policy)
    return await dispatcher.deliver_due(now)


def retry_delay(attempt: int) -> timedelta:
    """Return the wait after failed attempt number ``attempt`` (1-based), doubling each time."""
    return min(FIRST_RETRY_DELAY * 2 ** (attempt - 1), MAX_RETRY_DELAY)


def _group_by_chat(notifications: Iterable[Notification]) -> dict[int, list[Notification]]:
    """Group notifications by chat, keeping the claim order (urgent first, then oldest)."""
    chats: dict[int, list[Notification]] = {}
    for notification in notifications:
        chats.setdefault(notification.chat_id, []).append(notification)
    return chats


def _attempt_number(notification: Notification) -> int:
    # The outbox counts each recorded send error as an attempt, and a
    # postponement as none. So the attempt under way is the next one.
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
