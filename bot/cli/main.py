"""Parse the ``licensebot`` command line and dispatch to the command modules.

Exit status: 0 on success, 2 for invalid arguments or configuration and for
a request that the licensing rules reject (a DomainError), and 1 when a
command fails for another reason, such as an unreachable database.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import audit, cards, demo, members, notifications, organisations, run, stock
from bot.cli.errors import CommandFailed, InvalidArgument
from bot.config import CONFIG_PATH_VARIABLE, DEFAULT_CONFIG_FILENAME, ConfigError, load_settings
from core.errors import DomainError

PROGRAM_NAME = "licensebot"
EXIT_SUCCESS = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every command and option."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM_NAME,
        description="Run the licensebot Telegram bot and manage its organisations and members.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=(
            "TOML configuration file to read (default: the file named by "
            f"{CONFIG_PATH_VARIABLE}, else ./{DEFAULT_CONFIG_FILENAME} if it exists, "
            "else built-in defaults)"
        ),
    )
    commands = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )
    run.add_parser(commands)
    demo.add_parser(commands)
    organisations.add_parser(commands)
    members.add_parsers(commands)
    audit.add_parser(commands)
    cards.add_parser(commands)
    stock.add_parser(commands)
    notifications.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv`` (default: ``sys.argv[1:]``) and return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:
        # argparse exits after --help (status 0) and after printing a usage error (status 2).
        return _exit_status(exit_request.code)

    try:
        settings = load_settings(args.config)
        return args.handler(args, settings)
    except (ConfigError, DomainError, InvalidArgument) as error:
        _print_error(str(error))
        return EXIT_USAGE
    except CommandFailed as error:
        _print_error(str(error))
        return EXIT_FAILURE


def _print_error(reason: str) -> None:
    print(f"{PROGRAM_NAME}: error: {reason}", file=sys.stderr)


def _exit_status(code: int | str | None) -> int:
    if code is None:
        return EXIT_SUCCESS
    if isinstance(code, int):
        return code
    return EXIT_FAILURE
