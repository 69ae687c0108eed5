"""``licensebot cards generate``: create the keys printed on license cards."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.cli.database import run_use_case
from bot.cli.errors import CommandFailed, InvalidArgument
from bot.config import Settings
from core.ports import UnitOfWork
from core.use_cases.supply import MAX_CARDS_PER_RUN, generate_cards

# Keys are as good as licenses until activated, so only the owner may read the file.
KEY_FILE_MODE = 0o600


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``cards`` command and its ``generate`` subcommand to ``commands``."""
    cards = commands.add_parser(
        "cards",
        help="manage license cards",
        description="Manage the license cards whose keys customers activate with /activate.",
    )
    card_commands = cards.add_subparsers(
        title="commands", dest="cards_command", metavar="COMMAND", required=True
    )
    generate = card_commands.add_parser(
        "generate",
        help="create new license keys",
        description=(
            "Create new license keys and store them as unused. Each key adds one "
            "license to the inventory of the customer that activates it first."
        ),
    )
    generate.add_argument(
        "--count",
        required=True,
        type=int,
        metavar="N",
        help=f"number of keys to create, from 1 to {MAX_CARDS_PER_RUN}",
    )
    generate.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help=(
            "write the keys to this new file, one per line, readable by its owner only. "
            "An existing file is never overwritten (default: print the keys)"
        ),
    )
    generate.set_defaults(handler=generate_cards_command)


def generate_cards_command(args: argparse.Namespace, settings: Settings) -> int:
    """Create ``args.count`` keys and print them, or write them to ``args.out``."""
    if not 1 <= args.count <= MAX_CARDS_PER_RUN:
        raise InvalidArgument(f"--count must be from 1 to {MAX_CARDS_PER_RUN}, not {args.count}.")
    # The file is created before the keys, so a path that cannot be written
    # fails before any key is stored.
    out = _create_key_file(args.out) if args.out is not None else None

    async def generate(uow: UnitOfWork, now: datetime) -> list[str]:
        return await generate_cards(uow, count=args.count, now=now)

    try:
        keys = run_use_case(settings, generate)
    except BaseException:
        if out is not None:
            out.close()
            args.out.unlink(missing_ok=True)
        raise

    if out is None:
        _write_keys(sys.stdout, keys)
        return 0
    try:
        with out:
            _write_keys(out, keys)
    except OSError as error:
        # The keys are stored already; print them so that none is lost.
        _write_keys(sys.stdout, keys)
        raise CommandFailed(
            f"Could not write {args.out}: {error.strerror or error}. The {len(keys)} keys "
            "were stored and are printed above instead."
        ) from error
    print(f"Wrote {len(keys)} keys to {args.out}")
    return 0


def _create_key_file(path: Path) -> TextIO:
    """Create ``path`` for writing, or raise InvalidArgument if it exists or cannot be made."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise InvalidArgument(
            f"{path} exists already. Keys are never written over an existing file, "
            "so name a new one."
        ) from None
    except OSError as error:
        raise InvalidArgument(f"Cannot create {path}: {error.strerror or error}.") from None
    return os.fdopen(descriptor, "w", encoding="utf-8")


def _write_keys(stream: TextIO, keys: list[str]) -> None:
    stream.write("".join(f"{key}\n" for key in keys))
    stream.flush()
