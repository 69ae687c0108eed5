"""Greeting and help texts."""

from __future__ import annotations

from collections.abc import Sequence

from bot.menus import CommandInfo
from bot.views.formatting import escape
from core.members import MemberContext

NOT_LINKED_TEXT = (
    "This bot is for administrators of organisations that order dictation licenses. "
    "Your Telegram account is not linked to an organisation yet.\n\n"
    "Ask your administrator or dealer for an invite, then open the invite link or send "
    "<code>/start CODE</code> with the code you received."
)


def render_welcome(
    member: MemberContext | None, commands: Sequence[CommandInfo], *, joined: bool
) -> str:
    if member is None:
        return NOT_LINKED_TEXT
    organisation = member.organisation
    first = (
        f"Welcome, {escape(member.member.name)}. You are now an administrator of "
        if joined
        else f"Hello, {escape(member.member.name)}. You are an administrator of "
    )
    return (
        f"{first}<b>{escape(organisation.name)}</b> ({organisation.tier.label}).\n\n"
        + _command_list(commands)
    )


def render_help(member: MemberContext | None, commands: Sequence[CommandInfo]) -> str:
    if member is None:
        return NOT_LINKED_TEXT + "\n\n" + _command_list(commands)
    organisation = member.organisation
    return (
        f"You are an administrator of <b>{escape(organisation.name)}</b> "
        f"({organisation.tier.label}).\n\n" + _command_list(commands)
    )


def unknown_command_text(command: str, commands: Sequence[CommandInfo]) -> str:
    return f"Unknown command {escape(command)}.\n\n" + _command_list(commands)


def _command_list(commands: Sequence[CommandInfo]) -> str:
    lines = ["Commands you can use:"]
    lines.extend(f"/{info.command} — {escape(info.description)}" for info in commands)
    return "\n".join(lines)
