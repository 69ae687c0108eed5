"""``licensebot org add``: build the tree of organisations."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime

from bot.cli.database import run_use_case
from bot.config import Settings
from core.organisations import MAX_NAME_LENGTH, Organisation, Tier
from core.ports import UnitOfWork
from core.use_cases.organisations import add_organisation

# The codes that Tier.from_code accepts, in tier order.
TIER_CODES = ("hq", "bc", "distributor", "dealer", "customer")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``org`` command and its ``add`` subcommand to ``commands``."""
    org = commands.add_parser(
        "org",
        help="manage organisations",
        description="Manage the organisations of the five-tier tree.",
    )
    org_commands = org.add_subparsers(
        title="commands", dest="org_command", metavar="COMMAND", required=True
    )

    add = org_commands.add_parser(
        "add",
        help="add an organisation",
        description=(
            "Add an organisation under its parent. A business centre (bc) goes under "
            "the headquarters (hq), a distributor under a bc, a dealer under a "
            "distributor or directly under a bc, and a customer under a dealer."
        ),
    )
    add.add_argument(
        "--tier",
        required=True,
        choices=TIER_CODES,
        help=(
            "tier of the new organisation: hq (headquarters), bc (business centre), "
            "distributor, dealer or customer"
        ),
    )
    add.add_argument(
        "--name",
        required=True,
        metavar="NAME",
        help=(
            "name of the new organisation, at most "
            f"{MAX_NAME_LENGTH} characters and unique regardless of letter case"
        ),
    )
    add.add_argument(
        "--parent",
        metavar="NAME",
        help="name of the parent organisation, required for every tier except hq",
    )
    add.add_argument(
        "--dealer",
        metavar="NAME",
        help=(
            "customers only: name of the dealer the customer orders from, which must "
            "belong to the customer's business centre (default: the parent dealer)"
        ),
    )
    add.add_argument(
        "--timezone",
        metavar="ZONE",
        help=(
            "IANA time zone of the organisation, such as Europe/Berlin "
            "(default: bot.default_timezone from the configuration)"
        ),
    )
    add.set_defaults(handler=add_organisation_command)


def add_organisation_command(args: argparse.Namespace, settings: Settings) -> int:
    """Add the organisation described by ``args`` and print what was stored."""
    tier = Tier.from_code(args.tier)
    timezone = args.timezone if args.timezone is not None else settings.bot.default_timezone

    async def add(uow: UnitOfWork, now: datetime) -> _AddedOrganisation:
        organisation = await add_organisation(
            uow,
            name=args.name,
            tier=tier,
            parent_name=args.parent,
            dealer_name=args.dealer,
            timezone=timezone,
            now=now,
        )
        # Read back the stored names, which may differ from the typed ones in
        # letter case and spacing.
        async with uow:
            parent = await _get(uow, organisation.parent_id)
            dealer = await _get(uow, organisation.dealer_id)
        return _AddedOrganisation(organisation, parent, dealer)

    added = run_use_case(settings, add)

    organisation = added.organisation
    print(f"Added {tier.label} {organisation.name} (id {organisation.id})")
    if added.parent is not None:
        print(f"  parent: {added.parent.tier.label} {added.parent.name}")
    if added.dealer is not None:
        print(f"  orders from dealer: {added.dealer.name}")
    print(f"  time zone: {organisation.timezone}")
    return 0


@dataclass(frozen=True, slots=True)
class _AddedOrganisation:
    organisation: Organisation
    parent: Organisation | None
    dealer: Organisation | None


async def _get(uow: UnitOfWork, organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    return await uow.organisations.get(organisation_id)
