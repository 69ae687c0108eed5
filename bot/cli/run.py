"""``licensebot run``: serve Telegram updates with long polling."""

from __future__ import annotations

import argparse
import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import InvalidToken, NetworkError

from bot.cli.database import check_sqlite_directory
from bot.cli.errors import CommandFailed
from bot.cli.logs import TOKEN_MASK, configure_logging
from bot.clock import SystemClock
from bot.config import TOKEN_VARIABLE, ConfigError, Settings, require_token
from storage.database import display_url

logger = logging.getLogger(__name__)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``run`` command to ``commands``."""
    run = commands.add_parser(
        "run",
        help="start the bot with long polling",
        description=(
            "Start the bot and fetch updates from the Telegram Bot API with long "
            "polling until interrupted with Ctrl+C or SIGTERM. Needs telegram.token "
            f"in the configuration or the {TOKEN_VARIABLE} environment variable."
        ),
    )
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until it is stopped, then return exit status 0."""
    token = require_token(settings)
    check_sqlite_directory(settings.database.url)
    configure_logging(token)

    # Imported here because they load every handler and the database models.
    from bot.application import build_application
    from storage.database import Database

    database = Database(settings.database.url)
    try:
        application = build_application(settings, database=database, clock=SystemClock())
    except Exception:
        asyncio.run(database.dispose())
        raise

    logger.info(
        "starting long polling with configuration file %s and Bot API server %s",
        settings.source_path or "none (defaults)",
        settings.telegram.base_url or "https://api.telegram.org",
    )
    try:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        # The library's own message contains the rejected token, so replace it.
        raise ConfigError(
            "The Bot API server rejected the bot token. Check telegram.token or "
            f"{TOKEN_VARIABLE} against the token that @BotFather issued."
        ) from None
    except (SQLAlchemyError, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CommandFailed(
            f"Cannot open the database {display_url(settings.database.url)}: {reason}. "
            "Check database.url and that the database server is running."
        ) from None
    except NetworkError as error:
        reason = str(error).replace(token, TOKEN_MASK)
        raise CommandFailed(
            f"Cannot reach the Bot API server: {reason}. Check the network "
            "connection and telegram.base_url."
        ) from None
    return 0
