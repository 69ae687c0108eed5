"""The offline demo: the real bot in a terminal, with a stand-in for the Telegram Bot API.

``run_demo`` seeds a fresh SQLite database with a small tier tree, its
members, a dealer's stock and license cards. It then builds the same
Application as production, with an ``OfflineBotApi`` in place of the
network, and lets the person at the terminal chat with it as one of the
seeded people. Notifications are sent after each step, and each person
reads theirs after switching to them with :as. ``/clock +13d`` moves the
demo clock and runs the scheduler once, so reminders arrive as they would
after that time.
"""

from __future__ import annotations

import functools
import sys
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from telegram.ext import Application

from bot.application import build_application
from bot.clock import ShiftedClock
from bot.config import Settings
from bot.demo.seed import DemoData, seed_demo_data
from bot.demo.session import DemoSession
from bot.demo.terminal import welcome_lines
from bot.offline_api import OfflineBotApi
from storage.database import Database, sqlite_url
from storage.outbox import Outbox

__all__ = ["DemoDatabaseExists", "run_demo"]

DEMO_DATABASE_FILENAME = "licensebot-demo.sqlite3"


class DemoDatabaseExists(FileExistsError):
    """The database file given to the demo exists; the demo only seeds a new file."""


async def run_demo(
    settings: Settings,
    *,
    database_path: Path | None = None,
    input_stream: TextIO | None = None,
    output_stream: TextIO | None = None,
    start: datetime | None = None,
) -> None:
    """Run the demo until :quit or the end of ``input_stream``.

    The demo data goes to ``database_path``, which must not exist yet, or to
    a temporary file that is deleted at the end. ``input_stream`` and
    ``output_stream`` default to the standard input and output. The demo
    clock reads ``start`` when the demo begins (default: the machine's
    time) and runs on from there. Raises DemoDatabaseExists when
    ``database_path`` exists.
    """
    input_stream = input_stream or sys.stdin
    output_stream = output_stream or sys.stdout
    with ExitStack() as stack:
        if database_path is None:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="licensebot-demo-"))
            path = Path(directory) / DEMO_DATABASE_FILENAME
            database_note = f"Demo data is stored in {path} and deleted when the demo ends."
        else:
            path = database_path
            if path.exists():
                raise DemoDatabaseExists(
                    f"Demo database {path} already exists. The demo seeds a new file only, "
                    "so that its data is never mixed with other data. Delete the file or "
                    "name another one with --database."
                )
            database_note = f"Demo data is stored in {path}, which stays after the demo."
        clock = ShiftedClock()
        if start is not None:
            clock.advance(start - datetime.now(UTC))
        await _run_on_new_database(
            settings,
            path,
            database_note,
            clock,
            input_stream=input_stream,
            output_stream=output_stream,
        )


async def _run_on_new_database(
    settings: Settings,
    path: Path,
    database_note: str,
    clock: ShiftedClock,
    *,
    input_stream: TextIO,
    output_stream: TextIO,
) -> None:
    database = Database(sqlite_url(path))
    try:
        await database.create_schema()
        data = await seed_demo_data(
            database, now=clock.now(), hq_timezone=settings.bot.default_timezone
        )
        api = OfflineBotApi(clock=clock)
        application = build_application(settings, database=database, clock=clock, request=api)
        session = DemoSession(
            application=application,
            api=api,
            database=database,
            outbox=Outbox(database),
            clock=clock,
            data=data,
            output=output_stream,
        )
        _print_welcome(output_stream, data, database_note)
        echo_input = not input_stream.isatty()
        await _run_application(
            application, functools.partial(session.run, input_stream, echo_input=echo_input)
        )
    finally:
        # post_shutdown may have disposed of it already; disposing twice is harmless.
        await database.dispose()


async def _run_application(application: Application, main: Callable[[], Awaitable[None]]) -> None:
    """Run ``main`` inside the application's life cycle, as run_polling would, without polling.

    ``async with application`` and start()/stop() do not call the post_init,
    post_stop and post_shutdown hooks (python-telegram-bot 22.8 calls them
    only from run_polling and run_webhook), so they are called here in the
    same order.
    """
    try:
        async with application:
            if application.post_init is not None:
                await application.post_init(application)
            await application.start()
            try:
                await main()
            finally:
                await application.stop()
                if application.post_stop is not None:
                    await application.post_stop(application)
    finally:
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def _print_welcome(output: TextIO, data: DemoData, database_note: str) -> None:
    people = []
    for person in data.people:
        where = f"member of {person.organisation_name}" if person.organisation_name else None
        people.append(f"{person.user.full_name} ({person.role}), {where or 'not linked yet'}")
    lines = welcome_lines(
        people=people,
        invite_code=data.invite_code,
        invite_organisation_name=data.invite_organisation_name,
        database_note=database_note,
        stock_note=f"{data.dealer_name} has {data.stock} licenses in stock.",
        license_keys=data.license_keys,
    )
    output.write("\n".join(lines) + "\n")
    output.flush()
