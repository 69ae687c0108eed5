"""``licensebot demo``: try the bot in the terminal without Telegram."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.cli.errors import InvalidArgument
from bot.config import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command to ``commands``."""
    demo = commands.add_parser(
        "demo",
        help="try the bot offline in the terminal, without a token",
        description=(
            "Start an offline demo of the bot in the terminal. No request reaches "
            "Telegram, so no bot token is needed."
        ),
    )
    demo.add_argument(
        "--database",
        type=Path,
        metavar="FILE",
        help=(
            "new SQLite file for the demo data, which stays after the demo ends and "
            "must not exist yet (default: a temporary file deleted when the demo ends)"
        ),
    )
    demo.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the offline demo until its input ends, then return exit status 0."""
    # Imported here because the demo loads the whole bot.
    from bot.demo import DemoDatabaseExists, run_demo

    if args.database is not None and not args.database.parent.is_dir():
        raise InvalidArgument(
            f"The directory {args.database.parent} does not exist. Create it, or choose "
            "another --database path."
        )

    try:
        asyncio.run(run_demo(settings, database_path=args.database))
    except DemoDatabaseExists as error:
        raise InvalidArgument(str(error)) from None
    except KeyboardInterrupt:
        return 130
    return 0
