"""/activate KEY: adding a license to the inventory from a license card."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.offline_updates import OfflineUser
from core.cards import ALPHABET, new_license_key
from core.use_cases.membership import add_member
from core.use_cases.supply import generate_cards
from tests.bot.conftest import (
    AIKO,
    BEN,
    DANA,
    STRANGER,
    Harness,
    audit_entries,
    inventory_counts,
    methods,
    sent_texts,
)

HANA = OfflineUser(7001, "Hana", "Sato")
USAGE = (
    "Send the key printed on the license card after the command, for example "
    "<code>/activate 7K2Q-M4XP-9T3B-R8WQ</code>. Spaces, hyphens and lower case "
    "letters are accepted."
)
ALREADY_ACTIVATED = "This key was already activated."
NOT_KNOWN = "This key is not known."
MISTYPED = "That is not a valid key: one character seems mistyped. Check it against the card."


async def new_keys(harness: Harness, count: int = 1) -> list[str]:
    """Store ``count`` new keys as the operator would, and return them as printed."""
    return await generate_cards(
        harness.database.unit_of_work(), count=count, now=harness.clock.now()
    )


def mistype(key: str, position: int = 0) -> str:
    """Return ``key`` with the character at ``position`` (of the 16) replaced by another."""
    compact = key.replace("-", "")
    wrong = ALPHABET[(ALPHABET.index(compact[position]) + 1) % len(ALPHABET)]
    return compact[:position] + wrong + compact[position + 1 :]


def activated(key: str, unused: int) -> str:
    licenses = "1 unused license" if unused == 1 else f"{unused} unused licenses"
    return (
        f"Added one unused license from card <code>{key}</code>. "
        f"<b>Clinic Am See</b> now has {licenses}. Assign one with /assign."
    )


# Accepted keys


async def test_valid_key_adds_license(harness: Harness) -> None:
    [key] = await new_keys(harness)

    calls = await harness.command(AIKO, "activate", key)

    assert methods(calls) == ["sendMessage"]
    assert calls[0].params["parse_mode"] == "HTML"
    assert sent_texts(calls) == [activated(key, 1)]
    assert await inventory_counts(harness) == (1, 0)


async def test_count_includes_earlier(harness: Harness) -> None:
    keys = await new_keys(harness, 3)
    for key in keys[:2]:
        await harness.command(AIKO, "activate", key)

    calls = await harness.command(AIKO, "activate", keys[2])

    assert sent_texts(calls) == [activated(keys[2], 3)]


@pytest.mark.parametrize(
    "typed",
    [
        lambda key: key.lower(),
        lambda key: key.replace("-", " "),
        lambda key: key.replace("-", ""),
        lambda key: " ".join(key.replace("-", "")),
        lambda key: key.replace("0", "o").replace("1", "l"),
    ],
    ids=["lower-case", "spaces", "no-separators", "space-between-all", "look-alikes"],
)
async def test_key_typed_loosely(harness: Harness, typed) -> None:
    [key] = await new_keys(harness)

    calls = await harness.command(AIKO, "activate", typed(key))

    assert sent_texts(calls) == [activated(key, 1)]


async def test_activation_audited(harness: Harness) -> None:
    [key] = await new_keys(harness)
    await harness.command(AIKO, "activate", key)

    async with harness.database.unit_of_work() as uow:
        license = await uow.licenses.pick_assignable(
            harness.organisation_ids["Clinic Am See"], harness.clock.now()
        )
    assert license is not None
    [entry] = await audit_entries(harness, "license", license.id)
    assert entry.action == "license.activated"
    assert entry.after["key_suffix"] == key[-4:]


# Rejected keys


async def test_same_key_twice(harness: Harness) -> None:
    [key] = await new_keys(harness)
    await harness.command(AIKO, "activate", key)

    calls = await harness.command(AIKO, "activate", key)

    assert sent_texts(calls) == [ALREADY_ACTIVATED]
    assert await inventory_counts(harness) == (1, 0)


async def test_key_of_other_customer(harness: Harness) -> None:
    [key] = await new_keys(harness)
    await harness.command(BEN, "activate", key)

    calls = await harness.command(AIKO, "activate", key)

    assert sent_texts(calls) == [ALREADY_ACTIVATED]
    assert await inventory_counts(harness) == (0, 0)
    assert await inventory_counts(harness, "Praxis Ost") == (1, 0)


@pytest.mark.parametrize("position", [0, 7, 15])
async def test_mistyped_key(harness: Harness, position: int) -> None:
    [key] = await new_keys(harness)

    calls = await harness.command(AIKO, "activate", mistype(key, position))

    assert sent_texts(calls) == [MISTYPED]
    assert await inventory_counts(harness) == (0, 0)


async def test_unknown_key(harness: Harness) -> None:
    await new_keys(harness)

    calls = await harness.command(AIKO, "activate", new_license_key())

    assert sent_texts(calls) == [NOT_KNOWN]


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("7K2Q-M4XP-9T3B", "That is not a valid key: a key has 16 letters and digits, not 12."),
        (
            "7K2Q-M4XP-9T3B-R8WQ-1",
            "That is not a valid key: a key has 16 letters and digits, not 17.",
        ),
        ("7K2Q-M4XP-9T3B-R8W!", "That is not a valid key: it contains a character that keys"),
        ("7K2Q-M4XP-9T3B-R8WU", "That is not a valid key: it contains a character that keys"),
    ],
    ids=["short", "long", "punctuation", "letter-u"],
)
async def test_malformed_key(harness: Harness, typed: str, reason: str) -> None:
    calls = await harness.command(AIKO, "activate", typed)

    [text] = sent_texts(calls)
    assert text.startswith(reason)


async def test_key_markup_escaped(harness: Harness) -> None:
    calls = await harness.command(AIKO, "activate", "<b>&amp;</b>")

    [text] = sent_texts(calls)
    assert text.startswith("That is not a valid key: ")
    assert "<b>" not in text
    assert calls[0].error is None


async def test_activate_without_key(harness: Harness) -> None:
    calls = await harness.command(AIKO, "activate")

    assert sent_texts(calls) == [USAGE]


async def test_usage_is_not_an_attempt(harness: Harness) -> None:
    [key] = await new_keys(harness)
    for _ in range(6):
        await harness.command(AIKO, "activate")

    calls = await harness.command(AIKO, "activate", key)

    assert sent_texts(calls) == [activated(key, 1)]


# Too many wrong keys


async def send_wrong_keys(harness: Harness, count: int, step: timedelta) -> None:
    """Send ``count`` wrong keys as AIKO: mistyped, unknown and used ones in turn."""
    [used] = await new_keys(harness)
    await harness.command(AIKO, "activate", used)
    wrong = [mistype(used), new_license_key(), used]
    for n in range(count):
        calls = await harness.command(AIKO, "activate", wrong[n % len(wrong)])
        assert not sent_texts(calls)[0].startswith("Too many"), n
        harness.clock.advance(step)


async def test_sixth_key_must_wait(harness: Harness) -> None:
    [key] = await new_keys(harness)
    await send_wrong_keys(harness, 5, timedelta(minutes=1))

    calls = await harness.command(AIKO, "activate", key)

    # Wrong keys went at minutes 0 to 4 and this one at minute 5; the first
    # ages out at minute 10.
    assert sent_texts(calls) == [
        "Too many wrong keys: 5 within 10 minutes. Try again in 5 min 0 s."
    ]
    assert await inventory_counts(harness) == (1, 0)


async def test_wait_counts_seconds(harness: Harness) -> None:
    await send_wrong_keys(harness, 5, timedelta(seconds=0))
    harness.clock.advance(timedelta(minutes=9, seconds=15))

    calls = await harness.command(AIKO, "activate", new_license_key())

    assert sent_texts(calls) == ["Too many wrong keys: 5 within 10 minutes. Try again in 45 s."]


async def test_key_works_after_wait(harness: Harness) -> None:
    [key] = await new_keys(harness)
    await send_wrong_keys(harness, 5, timedelta(seconds=0))
    await harness.command(AIKO, "activate", key)
    harness.clock.advance(timedelta(minutes=10))

    calls = await harness.command(AIKO, "activate", key)

    assert sent_texts(calls) == [activated(key, 2)]


async def test_wait_last_second(harness: Harness) -> None:
    [key] = await new_keys(harness)
    await send_wrong_keys(harness, 5, timedelta(seconds=0))
    harness.clock.advance(timedelta(minutes=9, seconds=59))

    calls = await harness.command(AIKO, "activate", key)

    assert sent_texts(calls) == ["Too many wrong keys: 5 within 10 minutes. Try again in 1 s."]


async def test_four_wrong_keys_allowed(harness: Harness) -> None:
    [key] = await new_keys(harness)
    await send_wrong_keys(harness, 4, timedelta(seconds=0))

    calls = await harness.command(AIKO, "activate", key)

    assert sent_texts(calls) == [activated(key, 2)]


async def test_wait_is_per_member(harness: Harness) -> None:
    [key] = await new_keys(harness)
    await send_wrong_keys(harness, 5, timedelta(seconds=0))

    calls = await harness.command(BEN, "activate", key)

    assert sent_texts(calls)[0].startswith("Added one unused license from card")


# Who may activate


async def test_activate_refused_for_dealer(harness: Harness) -> None:
    [key] = await new_keys(harness)

    calls = await harness.command(DANA, "activate", key)
    after = await harness.command(AIKO, "activate", key)

    assert sent_texts(calls) == [
        "Only customer administrators can activate license keys; "
        "you are a member of Dealer Berlin, a dealer."
    ]
    assert sent_texts(after) == [activated(key, 1)]


async def test_activate_refused_for_headquarters(harness: Harness) -> None:
    await add_member(
        harness.database.unit_of_work(),
        organisation_name="Vendor HQ",
        telegram_user_id=HANA.id,
        name=HANA.full_name,
        now=harness.clock.now(),
    )
    [key] = await new_keys(harness)

    calls = await harness.command(HANA, "activate", key)

    assert sent_texts(calls) == [
        "Only customer administrators can activate license keys; "
        "you are a member of Vendor HQ, a headquarters."
    ]


async def test_activate_refused_for_stranger(harness: Harness) -> None:
    [key] = await new_keys(harness)

    calls = await harness.command(STRANGER, "activate", key)

    assert sent_texts(calls)[0].startswith("You are not linked to an organisation yet.")
