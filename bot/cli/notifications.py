"""``licensebot notifications``: list the outbox and send a failed notification again."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from bot.cli.database import check_sqlite_directory
from bot.cli.errors import CommandFailed, InvalidArgument
from bot.config import Settings
from core.notifications import Notification, NotificationStatus
from storage.database import display_url

if TYPE_CHECKING:
    from storage.outbox import Outbox

T = TypeVar("T")

DEFAULT_STATUSES = (
    NotificationStatus.PENDING,
    NotificationStatus.SENDING,
    NotificationStatus.FAILED,
    NotificationStatus.UNREACHABLE,
)
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
RETRYABLE = (NotificationStatus.FAILED, NotificationStatus.UNREACHABLE)
_ALL_STATUSES = ", ".join(status.value for status in NotificationStatus)
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_COLUMNS = ("ID", "STATUS", "KIND", "CHAT", "ATTEMPTS", "NEXT ATTEMPT (UTC)", "LAST ERROR")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``notifications`` command and its ``retry`` subcommand to ``commands``."""
    notifications = commands.add_parser(
        "notifications",
        help="list the outbox of notifications, or retry one",
        description=(
            "List the notifications of the outbox, newest first, one line each: id, "
            "status, kind, chat id, attempts, time of the next attempt (UTC) and the "
            "last error. With the retry command, send a failed or unreachable "
            "notification again."
        ),
    )
    notifications.add_argument(
        "--status",
        type=parse_statuses,
        default=DEFAULT_STATUSES,
        metavar="STATUS[,STATUS...]",
        help=(
            f"statuses to list, separated by commas, out of {_ALL_STATUSES} "
            "(default: every status but sent)"
        ),
    )
    notifications.add_argument(
        "--limit",
        type=parse_limit,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"maximum number of notifications to list, from 1 to {MAX_LIMIT} "
        f"(default: {DEFAULT_LIMIT})",
    )
    notifications.set_defaults(handler=list_command)
    subcommands = notifications.add_subparsers(
        title="commands", dest="notifications_command", metavar="COMMAND"
    )
    retry = subcommands.add_parser(
        "retry",
        help="send a failed or unreachable notification again",
        description=(
            "Put a failed or unreachable notification back into the outbox with no "
            "attempts counted, so that the running bot sends it with its next delivery "
            "run. Retrying an unreachable notification does not record its member "
            "reachable again."
        ),
    )
    retry.add_argument("id", type=parse_id, metavar="ID", help="id of the notification")
    retry.set_defaults(handler=retry_command)


def parse_statuses(text: str) -> tuple[NotificationStatus, ...]:
    """Return the statuses named in a comma-separated list, or raise ArgumentTypeError."""
    names = [name.strip().lower() for name in text.split(",")]
    statuses = []
    for name in names:
        try:
            statuses.append(NotificationStatus(name))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid status {name!r}: use one or more of {_ALL_STATUSES}, separated by commas"
            ) from None
    return tuple(dict.fromkeys(statuses))


def parse_limit(text: str) -> int:
    """Return a whole number from 1 to MAX_LIMIT, or raise ArgumentTypeError."""
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(
            f"invalid limit {text!r}: use a whole number from 1 to {MAX_LIMIT}"
        )
    return limit


def parse_id(text: str) -> int:
    """Return a notification id (a whole number from 1), or raise ArgumentTypeError."""
    digits = text.strip()
    # Only the digits 0-9, and no more than a 64-bit id can have.
    notification_id = int(digits) if re.fullmatch(r"[0-9]{1,18}", digits) else 0
    if notification_id < 1:
        raise argparse.ArgumentTypeError(
            f"invalid notification id {text!r}: use the whole number in the ID column "
            "of licensebot notifications"
        )
    return notification_id


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the notifications in ``args.status``, newest first, and return exit status 0."""

    async def read(outbox: Outbox) -> list[Notification]:
        return await outbox.list(args.status, args.limit)

    notifications = run_on_outbox(settings, read)
    if not notifications:
        names = ", ".join(status.value for status in args.status)
        print(f"No notifications with status {names}.")
        return 0
    rows = [_COLUMNS, *(format_row(notification) for notification in notifications)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
    return 0


def format_row(notification: Notification) -> tuple[str, ...]:
    """Return the cells of one notification, in the order of the columns."""
    next_attempt = notification.next_attempt_at
    if next_attempt is not None:
        next_text = next_attempt.astimezone(UTC).strftime(_TIME_FORMAT)
    elif notification.status is NotificationStatus.PENDING:
        next_text = "now"
    else:
        next_text = "-"
    # An error description may span lines, and each notification gets one.
    last_error = " ".join((notification.last_error or "-").split())
    return (
        str(notification.id),
        notification.status.value,
        notification.kind.value,
        str(notification.chat_id),
        str(notification.attempts),
        next_text,
        last_error,
    )


def retry_command(args: argparse.Namespace, settings: Settings) -> int:
    """Requeue notification ``args.id`` and return exit status 0.

    Raises InvalidArgument (exit status 2) when the id is unknown or the
    notification is not failed or unreachable.
    """

    async def requeue(outbox: Outbox) -> Notification:
        notification = await outbox.get(args.id)
        if notification is None:
            raise InvalidArgument(
                f"notification {args.id} not found. List the ids with: licensebot notifications"
            )
        _check_retryable(notification)
        if not await outbox.requeue(notification.id):
            # The bot changed its status between the two queries.
            changed = await outbox.get(notification.id)
            _check_retryable(changed or notification)
        return notification

    notification = run_on_outbox(settings, requeue)
    print(
        f"Notification {notification.id} ({notification.kind.value} to chat "
        f"{notification.chat_id}) is pending again. The running bot sends it with its "
        "next delivery run."
    )
    return 0


def _check_retryable(notification: Notification) -> None:
    if notification.status in RETRYABLE:
        return
    if notification.status is NotificationStatus.SENT:
        sent_at = (
            f" at {notification.sent_at.astimezone(UTC).strftime(_TIME_FORMAT)} UTC"
            if notification.sent_at
            else ""
        )
        raise InvalidArgument(
            f"notification {notification.id} was already sent{sent_at}, so it is not sent again."
        )
    raise InvalidArgument(
        f"notification {notification.id} is {notification.status.value}, so the bot "
        "sends it without a retry. Only failed and unreachable notifications can be retried."
    )


def run_on_outbox(settings: Settings, action: Callable[[Outbox], Awaitable[T]]) -> T:
    """Create the schema if needed, then run ``action`` on the outbox in a fresh event loop.

    Raises CommandFailed when the database cannot be opened or a query fails.
    InvalidArgument from ``action`` passes through unchanged.
    """
    check_sqlite_directory(settings.database.url)
    try:
        return asyncio.run(_run_with_outbox(settings, action))
    except (SQLAlchemyError, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CommandFailed(
            f"Database operation on {display_url(settings.database.url)} failed: {reason}. "
            "Check database.url and that the database is reachable."
        ) from error


async def _run_with_outbox(settings: Settings, action: Callable[[Outbox], Awaitable[T]]) -> T:
    # Imported here, as in bot.cli.database, so that --help loads no models.
    from storage.database import Database
    from storage.outbox import Outbox

    try:
        database = Database(settings.database.url)
    except ImportError as error:
        raise CommandFailed(
            f"The database driver {error.name} is not installed. For PostgreSQL, "
            "install the postgres extra: pip install 'licensebot[postgres]'."
        ) from error
    try:
        await database.create_schema()
        return await action(Outbox(database))
    finally:
        await database.dispose()
