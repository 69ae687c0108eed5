"""The demo's terminal side: parsing typed lines and printing the bot's Bot API calls.

Everything here is pure: it turns strings into demo commands and recorded
``ApiCall`` objects into lines of text, and never touches the bot or the
database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.offline_api import NOT_MODIFIED, ApiCall
from bot.offline_html import HtmlParseError, parse_html

BOT_PREFIX = "bot > "
DEMO_PREFIX = "demo > "
_CONTINUATION = " " * len(BOT_PREFIX)
_MAX_ADVANCE_DAYS = 3650
_MAX_ADVANCE = timedelta(days=_MAX_ADVANCE_DAYS)
# The demo command that moves the clock, typed like a bot command.
CLOCK_COMMAND = "/clock"
# A forward move of the clock such as +13d, +2h, +30m or +1d12h.
_DURATION = re.compile(r"\+?(?:(\d{1,5})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m)?", re.IGNORECASE)

HELP_LINES = (
    "Lines that do not start with ':' are sent to the bot as messages from the",
    "current person, for example /help or /order. Demo commands:",
    "  :help               show this list",
    "  :who                list the people you can be",
    "  :as PERSON          switch person, by number, role (customer, dealer, new, hq,",
    "                      bc) or name; messages that arrived for them are shown",
    "  :press N            press button N of the latest bot message with buttons",
    "  :press LABEL        press the button with that label; quote a label that is a",
    '                      number, as in :press "2"',
    "  :reply TEXT         send TEXT as a reply to the bot's latest message",
    "  :reply N TEXT       send TEXT as a reply to message N",
    "  /clock              show the demo clock",
    "  /clock +DURATION    move the demo clock forward, such as /clock +13d, +2h, +30m",
    "                      or +1d12h, then run the scheduler once: reminders that",
    "                      are due by then arrive in the chats they are for (the",
    "                      demo delivers at once, so quiet hours do not apply here)",
    "  :advance DAYS       the same as /clock +DAYSd",
    "  :quit               end the demo (so does end of input, Ctrl-D)",
    "Start a line with '::' to send a message that starts with ':'.",
)


FIRST_PATH_LINES = (
    "A first path, from an order to its audit trail:",
    "  1. /order, send PO-1, then 2, then ':press Confirm'. The dealer gets a message.",
    "  2. ':as dealer', then ':reply issue' to that message and ':press Yes, issue'.",
    "  3. ':as customer', /inventory, then /assign, send anna@example.com and",
    "     ':press Confirm'. The license comes from PO-1 and now has an expiry date.",
    "  4. /order with PO-2 and 3, then ':as dealer', ':reply issue', ':press Yes, issue'.",
    "  5. ':as hq', /issuances, ':press Cancel issuance of PO-2', send a reason, then",
    "     ':press Yes, cancel the issuance'. PO-1 is not listed: its license is assigned.",
    "  6. ':as customer', /history, ':press Cancel PO-2', ':press Yes, cancel the order'.",
    "  7. ':as hq', then '/audit PO-2' shows each step.",
    "Reminders, by moving the demo clock:",
    "  8. ':as customer', /order with PO-3 and 1, then ':press Confirm'.",
    "  9. '/clock +13d': the cancel window of PO-3 closes in 24 hours, and a reminder",
    "     with a Cancel button arrives.",
    " 10. '/clock +1d': the window has closed, and a second reminder says so.",
)


class DemoInputError(ValueError):
    """A typed demo command that cannot be carried out. The message explains why."""


@dataclass(frozen=True, slots=True)
class SendText:
    text: str


@dataclass(frozen=True, slots=True)
class ShowHelp:
    pass


@dataclass(frozen=True, slots=True)
class ListPeople:
    pass


@dataclass(frozen=True, slots=True)
class SwitchPerson:
    target: str


@dataclass(frozen=True, slots=True)
class PressButton:
    """A button chosen by its 1-based number in reading order or by its label."""

    number: int | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """A reply to message ``message_id``, or to the bot's latest message when None."""

    text: str
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class AdvanceClock:
    """Move the demo clock forward by ``delta``, then run the scheduler once."""

    delta: timedelta


@dataclass(frozen=True, slots=True)
class ShowClock:
    pass


@dataclass(frozen=True, slots=True)
class Quit:
    pass


DemoCommand = (
    SendText
    | ShowHelp
    | ListPeople
    | SwitchPerson
    | PressButton
    | ReplyTo
    | AdvanceClock
    | ShowClock
    | Quit
)


def parse_line(line: str) -> DemoCommand | None:
    """Parse one typed line, or return None for a blank line.

    Raises DemoInputError for an unknown or incomplete demo command.
    """
    text = line.strip()
    if not text:
        return None
    if text.startswith("::"):
        return SendText(text[1:])
    command, _, argument = text.partition(" ")
    if command.lower() == CLOCK_COMMAND:
        return parse_clock(argument.strip())
    if not text.startswith(":"):
        return SendText(text)
    name, _, argument = text[1:].partition(" ")
    argument = argument.strip()
    name = name.lower()
    if name in ("help", "?"):
        return ShowHelp()
    if name == "who":
        return ListPeople()
    if name in ("quit", "exit", "q"):
        return Quit()
    if name == "as":
        return SwitchPerson(_required(argument, ":as PERSON, for example :as dealer"))
    if name == "press":
        return parse_press(_required(argument, ":press N or :press LABEL"))
    if name == "reply":
        return _parse_reply(_required(argument, ":reply TEXT or :reply N TEXT"))
    if name == "advance":
        return _parse_advance(_required(argument, ":advance DAYS, for example :advance 15"))
    raise DemoInputError(f"Unknown demo command :{name}. Type :help for the list.")


def parse_press(argument: str) -> PressButton:
    """Parse the argument of :press. Digits select a button number, and quotes force a label."""
    if len(argument) >= 2 and argument[0] == argument[-1] and argument[0] in "\"'":
        return PressButton(label=argument[1:-1])
    if argument.isdigit():
        return PressButton(number=int(argument))
    return PressButton(label=argument)


def _parse_reply(argument: str) -> ReplyTo:
    first, _, rest = argument.partition(" ")
    rest = rest.strip()
    if first.isdigit() and rest:
        return ReplyTo(text=rest, message_id=int(first))
    return ReplyTo(text=argument)


def _parse_advance(argument: str) -> AdvanceClock:
    if not argument.isdigit() or not 1 <= int(argument) <= _MAX_ADVANCE_DAYS:
        raise DemoInputError(
            f"Invalid number of days {argument!r}. Use a whole number from 1 to "
            f"{_MAX_ADVANCE_DAYS}, as in :advance 15."
        )
    return AdvanceClock(timedelta(days=int(argument)))


def parse_clock(argument: str) -> ShowClock | AdvanceClock:
    """Parse the argument of /clock: none shows the clock, a duration moves it forward."""
    if not argument:
        return ShowClock()
    usage = (
        "Use days (d), hours (h) and minutes (m) in that order, such as /clock +13d, "
        "/clock +2h, /clock +30m or /clock +1d12h."
    )
    if argument.startswith("-"):
        raise DemoInputError(f"The demo clock only moves forward, so {argument!r} is invalid.")
    compact = argument.replace(" ", "")
    match = _DURATION.fullmatch(compact)
    if match is None or not any(match.groups()):
        raise DemoInputError(f"Invalid duration {argument!r}. {usage}")
    days, hours, minutes = (int(group or 0) for group in match.groups())
    delta = timedelta(days=days, hours=hours, minutes=minutes)
    if delta <= timedelta(0):
        raise DemoInputError(f"The duration {argument!r} is zero. {usage}")
    if delta > _MAX_ADVANCE:
        raise DemoInputError(
            f"The duration {argument!r} is longer than {_MAX_ADVANCE_DAYS} days. {usage}"
        )
    return AdvanceClock(delta)


def describe_duration(delta: timedelta) -> str:
    """Return a forward move of the clock in words, such as "1 day 12 hours"."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{count} {unit}{'' if count == 1 else 's'}"
        for count, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if count
    ]
    return " ".join(parts) or "0 minutes"


def _required(argument: str, usage: str) -> str:
    if not argument:
        raise DemoInputError(f"Missing argument. Use {usage}.")
    return argument


# Buttons


def inline_buttons(reply_markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Return the inline buttons of a markup in reading order, row by row."""
    if not reply_markup:
        return []
    return [button for row in reply_markup.get("inline_keyboard", []) for button in row]


def find_button(reply_markup: dict[str, Any] | None, press: PressButton) -> dict[str, Any]:
    """Return the button that ``press`` names, or raise DemoInputError.

    A label matches exactly first, then ignoring case, then as the only
    label that contains it, ignoring case.
    """
    buttons = inline_buttons(reply_markup)
    if not buttons:
        raise DemoInputError("The bot's latest message has no buttons.")
    if press.number is not None:
        if not 1 <= press.number <= len(buttons):
            raise DemoInputError(
                f"Button {press.number} does not exist. "
                f"The message has buttons 1 to {len(buttons)}."
            )
        return buttons[press.number - 1]
    label = press.label or ""
    for matches in (
        lambda text: text == label,
        lambda text: text.casefold() == label.casefold(),
        lambda text: label.casefold() in text.casefold(),
    ):
        found = [button for button in buttons if matches(button.get("text", ""))]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(repr(button.get("text", "")) for button in found)
            raise DemoInputError(f"Several buttons match {label!r}: {names}. Use its number.")
    raise DemoInputError(f"No button is labelled {label!r}. Use :press N with its number.")


def render_keyboard(reply_markup: dict[str, Any] | None) -> list[str]:
    """Return one line per keyboard row, with buttons numbered as in ``[1 ‹] [2 ›]``."""
    if not reply_markup:
        return []
    lines = []
    number = 0
    for row in reply_markup.get("inline_keyboard", []):
        labels = []
        for button in row:
            number += 1
            link = " ↗" if "url" in button else ""
            labels.append(f"[{number} {button.get('text', '')}{link}]")
        lines.append(" ".join(labels))
    return lines


# Message text


def render_text(text: str, parse_mode: str | None) -> str:
    """Return message text as a person reads it in Telegram, without markup.

    HTML that Telegram would reject is returned unchanged.
    """
    if parse_mode is None or parse_mode.upper() != "HTML":
        return text
    try:
        return parse_html(text).text
    except HtmlParseError:
        return text


# Bot API calls


ChatDescriber = Callable[[int], str | None]


def render_call(call: ApiCall, describe_chat: ChatDescriber) -> list[str]:
    """Return the lines that show one Bot API call of the bot, or none for silent calls.

    ``describe_chat`` names the person of a chat id, or returns None for the
    chat of the person at the keyboard, whose messages need no label.
    """
    params = call.params
    if call.error is not None:
        # The bot catches "not modified" on purpose (a second press that changes
        # nothing), so it is not shown as a failure.
        if call.error == NOT_MODIFIED:
            return []
        return [f"{DEMO_PREFIX}(Telegram rejected {call.method}: {call.error})"]
    if call.method == "sendMessage":
        return _message_lines(params, describe_chat, label="")
    if call.method == "editMessageText":
        edit_label = f"(edited message {params.get('message_id')}) "
        return _message_lines(params, describe_chat, label=edit_label)
    if call.method == "editMessageReplyMarkup":
        recipient = _recipient(params.get("chat_id"), describe_chat)
        keyboard = render_keyboard(params.get("reply_markup")) or ["(no buttons)"]
        first = (
            f"{BOT_PREFIX}{recipient}(edited the buttons of message {params.get('message_id')})"
        )
        return [first, *(_CONTINUATION + line for line in keyboard)]
    if call.method == "answerCallbackQuery" and params.get("text"):
        kind = "alert" if params.get("show_alert") else "notice"
        return [f"  ({kind}) {params['text']}"]
    if call.method == "setMyCommands":
        return [_menu_line(params, describe_chat)]
    if call.method == "deleteMessage":
        recipient = _recipient(params.get("chat_id"), describe_chat)
        return [f"{BOT_PREFIX}{recipient}(deleted message {params.get('message_id')})"]
    return []


def _message_lines(
    params: dict[str, Any], describe_chat: ChatDescriber, *, label: str
) -> list[str]:
    recipient = _recipient(params.get("chat_id"), describe_chat)
    text = render_text(str(params.get("text", "")), params.get("parse_mode"))
    lines = text.split("\n") + render_keyboard(params.get("reply_markup"))
    first = f"{BOT_PREFIX}{recipient}{label}{lines[0]}"
    return [first.rstrip(), *(f"{_CONTINUATION}{line}".rstrip() for line in lines[1:])]


def _recipient(chat_id: Any, describe_chat: ChatDescriber) -> str:
    if not isinstance(chat_id, int):
        return ""
    name = describe_chat(chat_id)
    return f"[to {name}] " if name else ""


def _menu_line(params: dict[str, Any], describe_chat: ChatDescriber) -> str:
    commands = " ".join(f"/{command.get('command')}" for command in params.get("commands", []))
    scope = params.get("scope") or {}
    chat_id = scope.get("chat_id")
    name = describe_chat(chat_id) if isinstance(chat_id, int) else None
    if name:
        return f"{DEMO_PREFIX}(menu for {name} now: {commands})"
    if scope.get("type", "default") == "default":
        return f"{DEMO_PREFIX}(default menu now: {commands})"
    return f"{DEMO_PREFIX}(menu now: {commands})"


def unread_notice(full_name: str, role: str, count: int) -> str:
    """Return the notice that messages arrived for a person other than the current one."""
    if count == 1:
        return f"(new message for {full_name} — :as {role} to read it)"
    return f"({count} new messages for {full_name} — :as {role} to read them)"


def prompt(first_name: str, organisation_name: str | None) -> str:
    """Return the input prompt that names the current person and organisation."""
    if organisation_name:
        return f"you ({first_name}, {organisation_name}) > "
    return f"you ({first_name}) > "


def welcome_lines(
    *,
    people: list[str],
    invite_code: str,
    invite_organisation_name: str,
    database_note: str,
    stock_note: str | None = None,
    license_keys: Sequence[str] = (),
) -> list[str]:
    """Return the text printed when the demo starts.

    ``people`` describes each person in :who order. ``database_note`` names
    the file that stores the demo data. ``stock_note`` states the dealer's
    stock, and ``license_keys`` are unused keys for /activate.
    """
    lines = [
        "licensebot offline demo",
        "",
        "This terminal is the Telegram chat. The bot runs as it would in production,",
        "but a stand-in for the Telegram Bot API answers it, so nothing leaves this machine.",
        database_note,
        "",
        "You can be one of these people:",
        *(f"  {number}. {person}" for number, person in enumerate(people, start=1)),
        "",
        f"An unused invite code for {invite_organisation_name}: {invite_code}",
        f"To join with it, switch with ':as new' and send '/start {invite_code}'.",
    ]
    if stock_note:
        lines.append(stock_note)
    if license_keys:
        lines.append("Unused license cards (as the customer, send '/activate KEY' to use one):")
        lines.extend(f"  {key}" for key in license_keys)
    lines += [
        "",
        *HELP_LINES,
        "",
        *FIRST_PATH_LINES,
        "",
    ]
    return lines
