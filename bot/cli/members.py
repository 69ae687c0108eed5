"""``licensebot member add`` and ``licensebot invite``: link Telegram users to organisations."""

from __future__ import annotations

import argparse
import re
from datetime import datetime

from bot.cli.database import run_use_case
from bot.config import Settings
from core.members import Invite, MemberContext
from core.ports import UnitOfWork
from core.use_cases.membership import MAX_MEMBER_NAME_LENGTH, add_member, create_invite

BOT_USERNAME_PLACEHOLDER = "<bot-username>"

# BotFather accepts bot usernames of 5 to 32 letters, digits and underscores
# that end in "bot".
_BOT_USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_]{2,29}bot", re.IGNORECASE)


MAX_TELEGRAM_USER_ID = 2**52


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Add the ``member`` and ``invite`` commands to ``commands``."""
    member = commands.add_parser(
        "member",
        help="manage members",
        description="Manage the Telegram users who act for an organisation.",
    )
    member_commands = member.add_subparsers(
        title="commands", dest="member_command", metavar="COMMAND", required=True
    )
    add = member_commands.add_parser(
        "add",
        help="link a Telegram user to an organisation",
        description=(
            "Link a Telegram user to an organisation without an invite. "
            "A Telegram user can be a member of one organisation only."
        ),
    )
    add.add_argument(
        "--org", required=True, metavar="NAME", help="name of the organisation to link the user to"
    )
    add.add_argument(
        "--telegram-id",
        required=True,
        type=parse_telegram_user_id,
        metavar="ID",
        help="numeric Telegram user id of the new member (not the @username)",
    )
    add.add_argument(
        "--name",
        metavar="NAME",
        help=(
            f"display name of the member, at most {MAX_MEMBER_NAME_LENGTH} characters "
            '(default: "Telegram user" and the id)'
        ),
    )
    add.set_defaults(handler=add_member_command)

    invite = commands.add_parser(
        "invite",
        help="create a one-time invite code for an organisation",
        description=(
            "Create a one-time invite code. The first Telegram user who sends it to "
            "the bot, or opens the printed link, becomes a member of the organisation."
        ),
    )
    invite.add_argument(
        "--org", required=True, metavar="NAME", help="name of the organisation the code joins"
    )
    invite.add_argument(
        "--bot-username",
        type=parse_bot_username,
        metavar="NAME",
        help=(
            "username of the bot, with or without the leading @, used to print a "
            f"complete link (default: the placeholder {BOT_USERNAME_PLACEHOLDER})"
        ),
    )
    invite.set_defaults(handler=create_invite_command)


def parse_telegram_user_id(text: str) -> int:
    """Return a positive Telegram user id, or raise argparse.ArgumentTypeError.

    Only the digits 0-9 are accepted. Telegram documents user ids as having
    at most 52 significant bits.
    """
    if not re.fullmatch(r"[0-9]{1,16}", text.strip()):
        raise argparse.ArgumentTypeError(
            f"invalid Telegram user id {text!r}: use the numeric id, not the @username"
        )
    user_id = int(text.strip())
    if not 0 < user_id < MAX_TELEGRAM_USER_ID:
        raise argparse.ArgumentTypeError(
            f"invalid Telegram user id {text!r}: user ids are whole numbers from 1 to "
            f"{MAX_TELEGRAM_USER_ID - 1}"
        )
    return user_id


def parse_bot_username(text: str) -> str:
    """Return a bot username without its leading @, or raise argparse.ArgumentTypeError."""
    username = text.removeprefix("@")
    if _BOT_USERNAME_PATTERN.fullmatch(username) is None:
        raise argparse.ArgumentTypeError(
            f"invalid bot username {text!r}: use 5 to 32 letters, digits or underscores "
            "ending in 'bot', as shown in the bot's Telegram profile"
        )
    return username


def add_member_command(args: argparse.Namespace, settings: Settings) -> int:
    """Link the Telegram user in ``args`` to an organisation and print the result."""

    async def add(uow: UnitOfWork, now: datetime) -> MemberContext:
        return await add_member(
            uow,
            organisation_name=args.org,
            telegram_user_id=args.telegram_id,
            name=args.name,
            now=now,
        )

    context = run_use_case(settings, add)

    organisation = context.organisation
    print(
        f"Added member {context.member.name} (Telegram user id "
        f"{context.member.telegram_user_id}) to {organisation.tier.label} {organisation.name}."
    )
    return 0


def create_invite_command(args: argparse.Namespace, settings: Settings) -> int:
    """Create an invite code for the organisation in ``args`` and print code and link."""

    async def create(uow: UnitOfWork, now: datetime) -> Invite:
        return await create_invite(uow, organisation_name=args.org, now=now)

    invite = run_use_case(settings, create)

    username = args.bot_username or BOT_USERNAME_PLACEHOLDER
    expires = invite.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    print(f"Invite code: {invite.code}")
    print(f"Expires: {expires}. The code works once.")
    print(f"Link: https://t.me/{username}?start={invite.code}")
    if args.bot_username is None:
        print(
            f"Replace {BOT_USERNAME_PLACEHOLDER} with the bot's username, "
            "or pass --bot-username to print the complete link."
        )
    return 0
