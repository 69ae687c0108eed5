"""/inventory: the license counts and the paged list of assigned licenses."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.offline_api import ApiCall
from bot.offline_updates import OfflineUser
from core.use_cases.inventory import unassign_license
from core.use_cases.membership import add_member
from tests.bot.conftest import (
    AIKO,
    BEN,
    DANA,
    STRANGER,
    Harness,
    alerts,
    assign_to,
    edits,
    give_licenses,
    keyboard,
    methods,
    popup_flags,
    sent_texts,
)

HANA = OfflineUser(7001, "Hana", "Sato")
INVENTORY_BUTTON_INVALID = (
    "This button is no longer valid. Send /inventory to see your licenses again."
)
NAVIGATION_LABELS = ["«", "‹", "›", "»"]


async def open_inventory(harness: Harness, user: OfflineUser = AIKO) -> ApiCall:
    calls = await harness.command(user, "inventory")
    assert methods(calls) == ["sendMessage"]
    return calls[0]


async def assign_daily(harness: Harness, emails: list[str]) -> None:
    """Assign one license to each address, one day apart, so each expires a day later."""
    for email in emails:
        await assign_to(harness, email)
        harness.clock.advance(timedelta(days=1))


def counts_line(text: str) -> str:
    match = re.search(r"^\d+ unused, \d+ assigned$", text, flags=re.MULTILINE)
    assert match is not None, text
    return match.group(0)


def shown_rows(text: str) -> list[str]:
    """Return the "EMAIL · expires on DATE" rows of an inventory message."""
    return re.findall(r"^.+ · expire[sd] on \d{4}-\d{2}-\d{2}$", text, flags=re.MULTILINE)


def navigation(call: ApiCall) -> list[tuple[str, str]]:
    rows = [row for row in keyboard(call) if [label for label, _ in row] == NAVIGATION_LABELS]
    return rows[0] if rows else []


def users(count: int) -> list[str]:
    return [f"user{n:02d}@example.com" for n in range(1, count + 1)]


# Counts and pages


async def test_inventory_empty(harness: Harness) -> None:
    inventory = await open_inventory(harness)

    assert inventory.params["parse_mode"] == "HTML"
    assert inventory.params["text"] == (
        "<b>License inventory</b> of Clinic Am See\n"
        "0 unused, 0 assigned\n\n"
        "There are no licenses yet. Order licenses with /order, or add one from a "
        "license card with /activate KEY."
    )
    assert "reply_markup" not in inventory.params


async def test_inventory_unused_only(harness: Harness) -> None:
    await give_licenses(harness, 3)

    inventory = await open_inventory(harness)

    assert inventory.params["text"] == (
        "<b>License inventory</b> of Clinic Am See\n"
        "3 unused, 0 assigned\n\n"
        "No license is assigned yet. Assign one with /assign."
    )
    assert "reply_markup" not in inventory.params


async def test_inventory_one_assigned(harness: Harness) -> None:
    await give_licenses(harness, 3)
    await assign_to(harness, "anna.berg@example.com")

    inventory = await open_inventory(harness)

    assert inventory.params["text"] == (
        "<b>License inventory</b> of Clinic Am See\n"
        "2 unused, 1 assigned\n\n"
        "anna.berg@example.com · expires on 2027-12-04"
    )
    assert "reply_markup" not in inventory.params


async def test_inventory_ten_assigned(harness: Harness) -> None:
    await give_licenses(harness, 10)
    await assign_daily(harness, users(10))

    inventory = await open_inventory(harness)

    text = inventory.params["text"]
    assert counts_line(text) == "0 unused, 10 assigned"
    assert "Page " not in text
    assert shown_rows(text) == [
        f"{email} · expires on 2027-12-{day:02d}"
        for day, email in zip(range(4, 14), users(10), strict=True)
    ]
    assert navigation(inventory) == []


async def test_inventory_eleven_assigned(harness: Harness) -> None:
    await give_licenses(harness, 12)
    await assign_daily(harness, users(11))

    inventory = await open_inventory(harness)

    text = inventory.params["text"]
    assert counts_line(text) == "1 unused, 11 assigned"
    assert "\nPage 1 of 2\n" in text
    assert shown_rows(text) == [
        f"{email} · expires on 2027-12-{day:02d}"
        for day, email in zip(range(4, 14), users(10), strict=True)
    ]
    assert navigation(inventory) == [
        ("«", "inv:1:1"),
        ("‹", "inv:1:1"),
        ("›", "inv:2:1"),
        ("»", "inv:2:1"),
    ]


async def test_soonest_expiry_first(harness: Harness) -> None:
    """The order is by expiry, not by address or by the time of assignment."""
    await give_licenses(harness, 3)
    await assign_daily(harness, ["zoe@example.com", "adam@example.com"])
    # A reusable license keeps the earliest expiry although it is assigned last.
    await unassign_license(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        email="zoe@example.com",
        now=harness.clock.now(),
    )
    await assign_to(harness, "mia@example.com")

    inventory = await open_inventory(harness)

    assert shown_rows(inventory.params["text"]) == [
        "mia@example.com · expires on 2027-12-04",
        "adam@example.com · expires on 2027-12-05",
    ]


async def test_reusable_counts_as_unused(harness: Harness) -> None:
    await give_licenses(harness, 2)
    await assign_to(harness, "anna@example.com")
    await unassign_license(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        email="anna@example.com",
        now=harness.clock.now(),
    )

    inventory = await open_inventory(harness)

    assert counts_line(inventory.params["text"]) == "2 unused, 0 assigned"


async def test_expired_reusable_not_counted(harness: Harness) -> None:
    await give_licenses(harness, 2)
    await assign_to(harness, "anna@example.com")
    await unassign_license(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        email="anna@example.com",
        now=harness.clock.now(),
    )
    # 4 December 2027 00:00 in Berlin is 3 December 23:00 UTC.
    harness.clock.current = datetime(2027, 12, 3, 22, 59, 59, tzinfo=UTC)
    before = await open_inventory(harness)
    harness.clock.advance(timedelta(seconds=1))

    after = await open_inventory(harness)

    assert counts_line(before.params["text"]) == "2 unused, 0 assigned"
    assert counts_line(after.params["text"]) == "1 unused, 0 assigned"


async def test_expired_assignment_marked(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")
    harness.clock.current = datetime(2027, 12, 3, 23, 0, tzinfo=UTC)

    inventory = await open_inventory(harness)

    assert counts_line(inventory.params["text"]) == "0 unused, 1 assigned"
    assert shown_rows(inventory.params["text"]) == ["anna@example.com · expired on 2027-12-04"]


async def test_expiry_in_customer_zone(harness: Harness) -> None:
    """Assigned at 23:30 UTC on 4 December, which is 5 December in Berlin."""
    await give_licenses(harness, 1)
    harness.clock.current = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    await assign_to(harness, "anna@example.com")

    inventory = await open_inventory(harness)

    assert shown_rows(inventory.params["text"]) == ["anna@example.com · expires on 2027-12-05"]


async def test_other_customer_not_shown(harness: Harness) -> None:
    await give_licenses(harness, 2, BEN)
    await assign_to(harness, "ben@example.com", BEN)

    inventory = await open_inventory(harness)

    assert counts_line(inventory.params["text"]) == "0 unused, 0 assigned"


async def test_address_is_escaped(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "r&d@example.com")

    inventory = await open_inventory(harness)

    assert shown_rows(inventory.params["text"]) == ["r&amp;d@example.com · expires on 2027-12-04"]


# Moving between pages


async def test_next_page_edits_message(harness: Harness) -> None:
    await give_licenses(harness, 11)
    await assign_daily(harness, users(11))
    inventory = await open_inventory(harness)
    message_id = harness.last_message(AIKO).message_id

    calls = await harness.press_label(AIKO, "›")

    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert alerts(calls) == [""]
    [edit] = edits(calls)
    assert edit.params["message_id"] == message_id
    assert edit.params["chat_id"] == inventory.params["chat_id"]
    assert edit.params["parse_mode"] == "HTML"
    assert "\nPage 2 of 2\n" in edit.params["text"]
    assert shown_rows(edit.params["text"]) == ["user11@example.com · expires on 2027-12-14"]
    assert [data for _, data in navigation(edit)] == ["inv:1:2", "inv:1:2", "inv:2:2", "inv:2:2"]


async def test_first_page_again(harness: Harness) -> None:
    await give_licenses(harness, 11)
    await assign_daily(harness, users(11))
    await open_inventory(harness)
    await harness.press_label(AIKO, "»")

    calls = await harness.press_label(AIKO, "«")

    assert "\nPage 1 of 2\n" in edits(calls)[0].params["text"]


@pytest.mark.parametrize("label", ["«", "‹"])
async def test_same_page_changes_nothing(harness: Harness, label: str) -> None:
    await give_licenses(harness, 11)
    await assign_daily(harness, users(11))
    await open_inventory(harness)

    calls = await harness.press_label(AIKO, label)

    assert alerts(calls) == ["You are already on page 1."]
    assert popup_flags(calls) == [False]
    assert edits(calls) == []


async def test_next_on_last_page(harness: Harness) -> None:
    await give_licenses(harness, 11)
    await assign_daily(harness, users(11))
    await open_inventory(harness)
    await harness.press_label(AIKO, "›")

    calls = await harness.press_label(AIKO, "›")

    assert alerts(calls) == ["You are already on page 2."]
    assert edits(calls) == []


async def test_stale_page_rejected(harness: Harness) -> None:
    """Page 2 is gone once a license is taken back, so its button changes nothing."""
    await give_licenses(harness, 11)
    await assign_daily(harness, users(11))
    await open_inventory(harness)
    await unassign_license(
        harness.database.unit_of_work(),
        telegram_user_id=AIKO.id,
        email="user01@example.com",
        now=harness.clock.now(),
    )

    calls = await harness.press_label(AIKO, "»")

    assert alerts(calls) == ["Page 2 does not exist; there is 1 page."]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []


async def test_page_shows_current_data(harness: Harness) -> None:
    await give_licenses(harness, 12)
    await assign_daily(harness, users(11))
    await open_inventory(harness)
    await assign_to(harness, "late@example.com")

    calls = await harness.press_label(AIKO, "»")

    text = edits(calls)[0].params["text"]
    assert counts_line(text) == "0 unused, 12 assigned"
    assert shown_rows(text) == [
        "user11@example.com · expires on 2027-12-14",
        "late@example.com · expires on 2027-12-15",
    ]


@pytest.mark.parametrize(
    ("data", "alert"),
    [
        ("inv:0:1", "Page 0 does not exist; there are 2 pages."),
        ("inv:3:1", "Page 3 does not exist; there are 2 pages."),
        ("inv:999:999", "Page 999 does not exist; there are 2 pages."),
        ("inv:2", INVENTORY_BUTTON_INVALID),
        ("inv:abc:1", INVENTORY_BUTTON_INVALID),
        ("inv:-1:1", INVENTORY_BUTTON_INVALID),
        ("inv:01:1", INVENTORY_BUTTON_INVALID),
        ("inv:2:1:1", INVENTORY_BUTTON_INVALID),
        ("inv:99999999999999999999:1", INVENTORY_BUTTON_INVALID),
        ("inv:" + "1" * 61, INVENTORY_BUTTON_INVALID),
    ],
    ids=[
        "page-zero",
        "page-after-last",
        "current-page-forged",
        "one-number",
        "letters",
        "negative",
        "leading-zero",
        "three-numbers",
        "above-int64",
        "65-bytes",
    ],
)
async def test_forged_page_rejected(harness: Harness, data: str, alert: str) -> None:
    await give_licenses(harness, 11)
    await assign_daily(harness, users(11))
    await open_inventory(harness)

    calls = await harness.press(AIKO, data)

    assert alerts(calls) == [alert]
    assert popup_flags(calls) == [True]
    assert methods(calls) == ["answerCallbackQuery"]


async def test_page_button_of_dealer(harness: Harness) -> None:
    await give_licenses(harness, 11)
    await assign_daily(harness, users(11))
    await harness.command(DANA, "help")

    calls = await harness.press(DANA, "inv:2:1")

    assert alerts(calls) == [
        "Only customer administrators can see the license inventory; "
        "you are a member of Dealer Berlin, a dealer."
    ]
    assert edits(calls) == []


# Who may see an inventory


async def test_inventory_refused_for_dealer(harness: Harness) -> None:
    calls = await harness.command(DANA, "inventory")

    assert sent_texts(calls) == [
        "Only customer administrators can see the license inventory; "
        "you are a member of Dealer Berlin, a dealer."
    ]


async def test_inventory_refused_for_headquarters(harness: Harness) -> None:
    await add_member(
        harness.database.unit_of_work(),
        organisation_name="Vendor HQ",
        telegram_user_id=HANA.id,
        name=HANA.full_name,
        now=harness.clock.now(),
    )

    calls = await harness.command(HANA, "inventory")

    assert sent_texts(calls) == [
        "Only customer administrators can see the license inventory; "
        "you are a member of Vendor HQ, a headquarters."
    ]


async def test_inventory_refused_for_stranger(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "inventory")

    assert sent_texts(calls)[0].startswith("You are not linked to an organisation yet.")
