"""/help, unknown commands, commands sent in a group, and stray messages."""

from __future__ import annotations

import re

import pytest

from bot.offline_updates import OfflineUser
from tests.bot.conftest import (
    AIKO,
    BEN,
    DANA,
    GROUP_CHAT_ID,
    STRANGER,
    Harness,
    group_command,
    media_message,
    methods,
    place_orders,
    sent_texts,
)

CUSTOMER_COMMANDS = [
    "order",
    "history",
    "inventory",
    "assign",
    "unassign",
    "activate",
    "autoassign",
    "dealer",
    "cancel",
    "start",
    "help",
]
DEALER_COMMANDS = ["pending", "stock", "start", "help"]
GENERAL_COMMANDS = ["start", "help"]
PRIVATE_ONLY = (
    "I only work in a private chat, because orders and licenses are not for a group. "
    "Open a private chat with me and send /help."
)


def listed_commands(text: str) -> list[str]:
    """Return the commands of the "Commands you can use" list in a help text."""
    return re.findall(r"^/([a-z_]+) — ", text, flags=re.MULTILINE)


async def published_menu(harness: Harness, user: OfflineUser) -> list[str]:
    """Send /start and return the commands it put in the user's chat menu."""
    calls = await harness.command(user, "start")
    [menu] = [call for call in calls if call.method == "setMyCommands"]
    return [command["command"] for command in menu.params["commands"]]


# /help


@pytest.mark.parametrize(
    ("user", "expected"),
    [(AIKO, CUSTOMER_COMMANDS), (DANA, DEALER_COMMANDS), (STRANGER, GENERAL_COMMANDS)],
    ids=["customer", "dealer", "stranger"],
)
async def test_help_lists_tier_commands(
    harness: Harness, user: OfflineUser, expected: list[str]
) -> None:
    calls = await harness.command(user, "help")

    assert methods(calls) == ["sendMessage"]
    assert calls[0].params["parse_mode"] == "HTML"
    assert listed_commands(calls[0].params["text"]) == expected


@pytest.mark.parametrize("user", [AIKO, DANA, STRANGER], ids=["customer", "dealer", "stranger"])
async def test_help_matches_menu(harness: Harness, user: OfflineUser) -> None:
    help_text = sent_texts(await harness.command(user, "help"))[0]

    assert listed_commands(help_text) == await published_menu(harness, user)


async def test_help_names_organisation(harness: Harness) -> None:
    calls = await harness.command(BEN, "help")

    assert sent_texts(calls)[0].startswith(
        "You are an administrator of <b>Praxis Ost</b> (customer)."
    )


async def test_help_stranger_invite_hint(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "help")

    assert "not linked to an organisation yet" in sent_texts(calls)[0]


# Unknown commands


async def test_unknown_command_customer(harness: Harness) -> None:
    calls = await harness.command(AIKO, "frobnicate")

    assert methods(calls) == ["sendMessage"]
    text = calls[0].params["text"]
    assert text.startswith("Unknown command /frobnicate.")
    assert listed_commands(text) == CUSTOMER_COMMANDS


async def test_unknown_command_stranger(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "frobnicate")

    text = sent_texts(calls)[0]
    assert text.startswith("Unknown command /frobnicate.")
    assert listed_commands(text) == GENERAL_COMMANDS


async def test_unknown_command_with_botname(harness: Harness) -> None:
    calls = await harness.send(harness.updates.command(AIKO, "frobnicate", mention_bot=True))

    assert sent_texts(calls)[0].startswith("Unknown command /frobnicate.")


async def test_cancel_without_form(harness: Harness) -> None:
    calls = await harness.command(AIKO, "cancel")

    assert sent_texts(calls) == [
        "No form is open, so there is nothing to leave. To cancel a placed order, open /history."
    ]


# Commands in a group


@pytest.mark.parametrize("command", ["history", "order", "dealer", "start", "help", "cancel"])
async def test_group_command_gets_private_hint(harness: Harness, command: str) -> None:
    await place_orders(harness, AIKO, 1, prefix="Secret PO")

    calls = await harness.send(group_command(harness, AIKO, command))

    assert methods(calls) == ["sendMessage"]
    assert calls[0].params["chat_id"] == GROUP_CHAT_ID
    assert calls[0].params["text"] == PRIVATE_ONLY


async def test_group_history_reveals_nothing(harness: Harness) -> None:
    await place_orders(harness, AIKO, 1, prefix="Secret PO")

    calls = await harness.send(group_command(harness, AIKO, "history"))

    assert all(call.params.get("chat_id") == GROUP_CHAT_ID for call in calls)
    assert not any("Secret PO" in text for text in sent_texts(calls))
    assert not any("Clinic Am See" in text for text in sent_texts(calls))
    assert "reply_markup" not in calls[0].params


async def test_group_command_opens_no_form(harness: Harness) -> None:
    await harness.send(group_command(harness, AIKO, "order"))

    calls = await harness.text(AIKO, "PO 1")

    assert sent_texts(calls) == ["I did not understand that. Send /help to see what you can do."]


async def test_group_plain_text_ignored(harness: Harness) -> None:
    update = group_command(harness, AIKO, "history")
    message = update["message"]
    message["text"] = "hello everyone"
    del message["entities"]

    calls = await harness.send(update)

    assert calls == []


# Messages outside any command


async def test_stray_text_from_stranger(harness: Harness) -> None:
    calls = await harness.text(STRANGER, "hello?")

    assert methods(calls) == ["sendMessage"]
    text = calls[0].params["text"]
    assert "not linked to an organisation yet" in text
    assert "<code>/start CODE</code>" in text


async def test_stray_text_from_member(harness: Harness) -> None:
    calls = await harness.text(AIKO, "hello?")

    assert sent_texts(calls) == ["I did not understand that. Send /help to see what you can do."]


async def test_stray_sticker_from_stranger(harness: Harness) -> None:
    calls = await harness.send(media_message(harness, STRANGER, "sticker"))

    assert "not linked to an organisation yet" in sent_texts(calls)[0]
