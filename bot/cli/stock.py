"""``licensebot stock add``: add licenses to a dealer's stock."""

from __future__ import annotations

import argparse
from datetime import datetime

from bot.cli.database import run_use_case
from bot.config import Settings
from bot.views.formatting import plural
from core.ports import UnitOfWork
from core.use_cases.supply import MAX_STOCK_ADDITION, add_stock


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``stock`` command and its ``add`` subcommand to ``commands``."""
    stock = commands.add_parser(
        "stock",
        help="manage dealer stock",
        description="Manage the stock of licenses from which dealers issue orders.",
    )
    stock_commands = stock.add_subparsers(
        title="commands", dest="stock_command", metavar="COMMAND", required=True
    )
    add = stock_commands.add_parser(
        "add",
        help="add licenses to a dealer's stock",
        description=(
            "Add new licenses to a dealer's stock and print the new stock level. "
            "Only dealers hold stock."
        ),
    )
    add.add_argument(
        "--dealer", required=True, metavar="NAME", help="name of the dealer, in any letter case"
    )
    add.add_argument(
        "--count",
        required=True,
        type=parse_count,
        metavar="N",
        help=f"number of licenses to add, a whole number from 1 to {MAX_STOCK_ADDITION}",
    )
    add.set_defaults(handler=add_stock_command)


def parse_count(text: str) -> int:
    """Return a number of licenses from 1 to MAX_STOCK_ADDITION, or raise ArgumentTypeError."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid number of licenses {text!r}: use a whole number from 1 to "
            f"{MAX_STOCK_ADDITION}"
        ) from None
    if not 1 <= count <= MAX_STOCK_ADDITION:
        raise argparse.ArgumentTypeError(
            f"invalid number of licenses {count}: use a whole number from 1 to "
            f"{MAX_STOCK_ADDITION}"
        )
    return count


def add_stock_command(args: argparse.Namespace, settings: Settings) -> int:
    """Add ``args.count`` licenses to the stock of ``args.dealer`` and print the new level."""

    async def add(uow: UnitOfWork, now: datetime) -> tuple[str, int]:
        stock = await add_stock(uow, dealer_name=args.dealer, count=args.count, now=now)
        # Read back the stored name, which may differ from the typed one in letter case.
        async with uow:
            dealer = await uow.organisations.get_by_name(args.dealer)
        return (dealer.name if dealer else args.dealer), stock

    dealer_name, stock = run_use_case(settings, add)

    print(f"Added {plural(args.count, 'license')} to the stock of {dealer_name}.")
    print(f"Stock now: {plural(stock, 'license')}.")
    return 0
