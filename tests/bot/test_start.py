"""/start with and without an invite code, and the command menu it publishes."""

from __future__ import annotations

from datetime import timedelta

from bot.offline_api import ApiCall
from bot.offline_updates import OfflineUser
from core.members import INVITE_LIFETIME
from core.organisations import Tier
from core.use_cases.membership import create_invite, describe_member
from tests.bot.conftest import AIKO, DANA, STRANGER, Harness, methods, sent_texts

CUSTOMER_MENU = [
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
DEALER_MENU = ["pending", "stock", "start", "help"]
GENERAL_MENU = ["start", "help"]
NEWCOMER = OfflineUser(9002, "Noor", "Haddad")


def menu_calls(calls: list[ApiCall]) -> list[ApiCall]:
    return [call for call in calls if call.method == "setMyCommands"]


def menu_commands(call: ApiCall) -> list[str]:
    return [command["command"] for command in call.params["commands"]]


async def new_invite(harness: Harness, organisation_name: str = "Clinic Am See") -> str:
    invite = await create_invite(
        harness.database.unit_of_work(),
        organisation_name=organisation_name,
        now=harness.clock.now(),
    )
    return invite.code


async def organisation_of(harness: Harness, user: OfflineUser) -> str | None:
    member = await describe_member(harness.database.unit_of_work(), telegram_user_id=user.id)
    return member.organisation.name if member else None


# /start without an argument


async def test_start_greets_member(harness: Harness) -> None:
    calls = await harness.command(AIKO, "start")

    assert methods(calls) == ["setMyCommands", "sendMessage"]
    greeting = calls[1].params
    assert greeting["chat_id"] == AIKO.id
    assert greeting["parse_mode"] == "HTML"
    assert greeting["text"].startswith(
        "Hello, Aiko Tanaka. You are an administrator of <b>Clinic Am See</b> (customer)."
    )
    assert "/order — Order licenses" in greeting["text"]
    assert "reply_markup" not in greeting


async def test_start_menu_for_customer(harness: Harness) -> None:
    calls = await harness.command(AIKO, "start")

    [menu] = menu_calls(calls)
    assert menu.params["scope"] == {"type": "chat", "chat_id": AIKO.id}
    assert menu_commands(menu) == CUSTOMER_MENU
    assert all(command["description"] for command in menu.params["commands"])


async def test_start_menu_for_dealer(harness: Harness) -> None:
    calls = await harness.command(DANA, "start")

    [menu] = menu_calls(calls)
    assert menu.params["scope"] == {"type": "chat", "chat_id": DANA.id}
    assert menu_commands(menu) == DEALER_MENU
    assert "Dealer Berlin</b> (dealer)" in sent_texts(calls)[0]


async def test_start_stranger_gets_invite_hint(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "start")

    assert methods(calls) == ["setMyCommands", "sendMessage"]
    assert menu_commands(calls[0]) == GENERAL_MENU
    assert calls[0].params["scope"] == {"type": "chat", "chat_id": STRANGER.id}
    [text] = sent_texts(calls)
    assert "not linked to an organisation yet" in text
    assert "<code>/start CODE</code>" in text


# /start CODE


async def test_invite_links_stranger(harness: Harness) -> None:
    code = await new_invite(harness)

    calls = await harness.command(STRANGER, "start", code)

    assert await organisation_of(harness, STRANGER) == "Clinic Am See"
    assert methods(calls) == ["setMyCommands", "sendMessage"]
    assert menu_commands(calls[0]) == CUSTOMER_MENU
    assert calls[0].params["scope"] == {"type": "chat", "chat_id": STRANGER.id}
    [text] = sent_texts(calls)
    assert text.startswith("Welcome, Sam. You are now an administrator of <b>Clinic Am See</b>")


async def test_invite_for_dealer_menu(harness: Harness) -> None:
    code = await new_invite(harness, "Dealer Munich")

    calls = await harness.command(STRANGER, "start", code)

    member = await describe_member(harness.database.unit_of_work(), telegram_user_id=STRANGER.id)
    assert member is not None
    assert member.organisation.tier is Tier.DEALER
    assert menu_commands(menu_calls(calls)[0]) == DEALER_MENU


async def test_invite_deep_link_update(harness: Harness) -> None:
    """Opening t.me/<bot>?start=CODE makes the client send "/start CODE" as a message."""
    code = await new_invite(harness)
    update = harness.updates.message(STRANGER, f"/start {code}")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

    calls = await harness.send(update)

    assert await organisation_of(harness, STRANGER) == "Clinic Am See"
    assert sent_texts(calls)[0].startswith("Welcome, Sam.")


async def test_invite_used_twice(harness: Harness) -> None:
    code = await new_invite(harness)
    await harness.command(STRANGER, "start", code)

    calls = await harness.command(NEWCOMER, "start", code)

    assert sent_texts(calls) == [
        "This invite code was already used. Ask your administrator for a new one."
    ]
    assert await organisation_of(harness, NEWCOMER) is None
    assert menu_commands(menu_calls(calls)[0]) == GENERAL_MENU


async def test_invite_expired(harness: Harness) -> None:
    code = await new_invite(harness)
    harness.clock.advance(INVITE_LIFETIME + timedelta(seconds=1))

    calls = await harness.command(STRANGER, "start", code)

    assert sent_texts(calls) == [
        "This invite code has expired. Ask your administrator for a new one."
    ]
    assert await organisation_of(harness, STRANGER) is None


async def test_invite_expires_after_seven_days(harness: Harness) -> None:
    code = await new_invite(harness)
    harness.clock.advance(timedelta(days=7))

    calls = await harness.command(STRANGER, "start", code)

    assert "has expired" in sent_texts(calls)[0]
    assert await organisation_of(harness, STRANGER) is None


async def test_invite_valid_before_expiry(harness: Harness) -> None:
    code = await new_invite(harness)
    harness.clock.advance(timedelta(days=7) - timedelta(seconds=1))

    await harness.command(STRANGER, "start", code)

    assert await organisation_of(harness, STRANGER) == "Clinic Am See"


async def test_invite_unknown_code(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "start", "Zm9vYmFyYmF6cXV4")

    assert sent_texts(calls) == [
        "This invite code is not known. Check it, or ask your administrator for a new one."
    ]
    assert await organisation_of(harness, STRANGER) is None


async def test_invite_malformed_markup(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "start", "<b>")

    [text] = sent_texts(calls)
    assert text.startswith("That is not an invite code.")
    assert "<b>" not in text
    assert await organisation_of(harness, STRANGER) is None


async def test_invite_malformed_too_long(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "start", "A" * 100)

    [text] = sent_texts(calls)
    assert text.startswith("That is not an invite code.")
    assert "A" * 100 not in text
    assert await organisation_of(harness, STRANGER) is None


async def test_invite_with_two_words(harness: Harness) -> None:
    code = await new_invite(harness)

    calls = await harness.command(STRANGER, "start", f"{code} extra")

    assert sent_texts(calls)[0].startswith("That is not an invite code.")
    assert await organisation_of(harness, STRANGER) is None


async def test_invite_already_linked(harness: Harness) -> None:
    code = await new_invite(harness, "Praxis Ost")

    calls = await harness.command(AIKO, "start", code)

    assert sent_texts(calls) == [
        "You are already a member of Clinic Am See. "
        "One Telegram account can belong to one organisation."
    ]
    assert await organisation_of(harness, AIKO) == "Clinic Am See"
    assert menu_commands(menu_calls(calls)[0]) == CUSTOMER_MENU


async def test_invite_kept_after_refusal(harness: Harness) -> None:
    """A code refused to a member who is already linked stays usable for someone else."""
    code = await new_invite(harness, "Praxis Ost")
    await harness.command(AIKO, "start", code)

    await harness.command(STRANGER, "start", code)

    assert await organisation_of(harness, STRANGER) == "Praxis Ost"
