"""/autoassign EMAIL on|off: the per-user setting that renews an expired license."""

from __future__ import annotations

import pytest

from bot.views.auto_assign import USAGE
from tests.bot.conftest import (
    AIKO,
    BEN,
    DANA,
    STRANGER,
    Harness,
    assert_valid_html,
    audit_entries,
    sent_texts,
)

TURNED_ON = (
    "Auto-assign is on for anna@example.com. When its license expires, an unused "
    "license from your inventory is assigned to it."
)
TURNED_OFF = (
    "Auto-assign is off for anna@example.com. When its license expires, no license is "
    "assigned in its place; you can assign one with /assign anna@example.com."
)


async def auto_assign(harness: Harness, customer: str, email: str) -> bool:
    """Return the stored setting of ``email`` at ``customer``, read straight from the database."""
    async with harness.database.unit_of_work() as uow:
        return await uow.license_users.auto_assign(harness.organisation_ids[customer], email)


async def test_usage_without_arguments(harness: Harness) -> None:
    calls = await harness.command(AIKO, "autoassign")

    assert sent_texts(calls) == [USAGE]
    assert_valid_html(calls)


async def test_turn_off(harness: Harness) -> None:
    calls = await harness.command(AIKO, "autoassign", "anna@example.com off")

    assert sent_texts(calls) == [TURNED_OFF]
    assert await auto_assign(harness, "Clinic Am See", "anna@example.com") is False


async def test_turn_on_again(harness: Harness) -> None:
    await harness.command(AIKO, "autoassign", "anna@example.com off")

    calls = await harness.command(AIKO, "autoassign", "anna@example.com on")

    assert sent_texts(calls) == [TURNED_ON]
    assert await auto_assign(harness, "Clinic Am See", "anna@example.com") is True


@pytest.mark.parametrize("switch", ["OFF", "Off", "oFf"])
async def test_switch_any_case(harness: Harness, switch: str) -> None:
    calls = await harness.command(AIKO, "autoassign", f"anna@example.com {switch}")

    assert sent_texts(calls) == [TURNED_OFF]


async def test_address_normalised(harness: Harness) -> None:
    calls = await harness.command(AIKO, "autoassign", "Anna@Example.COM off")

    assert sent_texts(calls) == [TURNED_OFF]
    assert await auto_assign(harness, "Clinic Am See", "anna@example.com") is False


async def test_change_audited(harness: Harness) -> None:
    await harness.command(AIKO, "autoassign", "anna@example.com off")

    customer_id = harness.organisation_ids["Clinic Am See"]
    [entry] = [
        entry
        for entry in await audit_entries(harness, "organisation", customer_id)
        if entry.action == "license_user.auto_assign_changed"
    ]
    assert entry.actor_member_id is not None
    assert entry.before == {"email": "anna@example.com", "auto_assign": True}
    assert entry.after == {"email": "anna@example.com", "auto_assign": False}


async def test_missing_switch(harness: Harness) -> None:
    calls = await harness.command(AIKO, "autoassign", "anna@example.com")

    [text] = sent_texts(calls)
    assert text.startswith("Say whether to turn auto-assign on or off for anna@example.com.\n\n")
    assert text.endswith(USAGE)


async def test_invalid_switch(harness: Harness) -> None:
    calls = await harness.command(AIKO, "autoassign", "anna@example.com <maybe>")

    [text] = sent_texts(calls)
    assert text.startswith("Expected on or off after the e-mail address, not &lt;maybe&gt;.")
    assert await auto_assign(harness, "Clinic Am See", "anna@example.com") is True
    assert_valid_html(calls)


async def test_switch_before_address(harness: Harness) -> None:
    calls = await harness.command(AIKO, "autoassign", "off anna@example.com")

    [text] = sent_texts(calls)
    assert text.startswith("Expected on or off after the e-mail address, not anna@example.com.")


async def test_too_many_words(harness: Harness) -> None:
    calls = await harness.command(AIKO, "autoassign", "anna@example.com off now")

    [text] = sent_texts(calls)
    assert text.startswith("Expected an e-mail address and on or off, but got 3 words.")
    assert await auto_assign(harness, "Clinic Am See", "anna@example.com") is True


async def test_invalid_address(harness: Harness) -> None:
    calls = await harness.command(AIKO, "autoassign", "anna<at>example off")

    [text] = sent_texts(calls)
    assert text.startswith("That is not a valid e-mail address")
    assert_valid_html(calls)


async def test_dealer_rejected(harness: Harness) -> None:
    calls = await harness.command(DANA, "autoassign", "anna@example.com off")

    [text] = sent_texts(calls)
    assert "change auto-assign" in text
    assert await auto_assign(harness, "Clinic Am See", "anna@example.com") is True


async def test_stranger_rejected(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "autoassign", "anna@example.com off")

    [text] = sent_texts(calls)
    assert "/start" in text


async def test_other_customer_unaffected(harness: Harness) -> None:
    await harness.command(BEN, "autoassign", "anna@example.com off")

    assert await auto_assign(harness, "Clinic Am See", "anna@example.com") is True
    assert await auto_assign(harness, "Praxis Ost", "anna@example.com") is False
