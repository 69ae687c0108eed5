"""``licensebot audit``: print the audit trail of an organisation and its orders."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from bot.cli.database import run_use_case
from bot.config import Settings
from core.audit import AuditEntry
from core.ports import UnitOfWork
from core.use_cases.audit_trail import organisation_trail

DATE_FORMAT = "YYYY-MM-DD"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add the ``audit`` command to ``commands``."""
    audit = commands.add_parser(
        "audit",
        help="print the audit trail of an organisation",
        description=(
            "Print every recorded change of an organisation and of its orders, oldest "
            "first, one line per change: time (UTC, ISO 8601), action, entity and id, "
            "actor (a member id, or operator for the command line), and the values "
            "before and after as JSON."
        ),
    )
    audit.add_argument(
        "--org", required=True, metavar="NAME", help="name of the organisation, in any case"
    )
    audit.add_argument(
        "--since",
        type=parse_since,
        metavar=DATE_FORMAT,
        help="print only changes from the start of this date (UTC) on (default: all)",
    )
    audit.set_defaults(handler=audit_command)


def parse_since(text: str) -> datetime:
    """Return the start of the date ``text`` in UTC, or raise ArgumentTypeError."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date {text!r}: use {DATE_FORMAT}, such as 2026-12-04"
        ) from None
    return day.replace(tzinfo=UTC)


def audit_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the trail of ``args.org`` and return exit status 0."""

    async def read(uow: UnitOfWork, now: datetime) -> list[AuditEntry]:
        return await organisation_trail(uow, organisation_name=args.org, since=args.since)

    entries = run_use_case(settings, read)
    if not entries:
        since = f" since {args.since:%Y-%m-%d}" if args.since else ""
        print(f"No changes recorded for {args.org}{since}.")
    for entry in entries:
        print(format_entry(entry))
    return 0


def format_entry(entry: AuditEntry) -> str:
    """Return one entry as one line: time, action, entity and id, actor, before → after."""
    actor = "operator" if entry.actor_member_id is None else f"member {entry.actor_member_id}"
    return (
        f"{entry.at.astimezone(UTC).isoformat()} {entry.action} "
        f"{entry.entity} {entry.entity_id} {actor} "
        f"{_json(entry.before)} → {_json(entry.after)}"
    )


def _json(values: dict[str, Any]) -> str:
    """Return ``values`` as JSON on one line, with every non-printable character escaped.

    json.dumps escapes only the control characters below U+0020 when
    ``ensure_ascii`` is off, so other invisible and terminal control
    characters (such as U+009B, which some terminals read as an escape
    sequence) are escaped here.
    """
    text = json.dumps(values, ensure_ascii=False, sort_keys=True)
    return "".join(
        character if character.isprintable() else _escape(character) for character in text
    )


def _escape(character: str) -> str:
    """Return ``character`` as a JSON escape, with a surrogate pair above U+FFFF."""
    code = ord(character)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
