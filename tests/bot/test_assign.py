"""The /assign and /unassign forms: e-mail address, summary, Confirm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ConversationHandler

from bot.offline_api import SentMessage
from bot.offline_updates import OfflineUser
from core.licenses import License, LicenseState
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
    audit_entries,
    edits,
    give_licenses,
    inventory_counts,
    keyboard,
    media_message,
    methods,
    popup_flags,
    sent_texts,
    stored_license,
)

BERLIN = ZoneInfo("Europe/Berlin")
HANA = OfflineUser(7001, "Hana", "Sato")

NOT_UNDERSTOOD = "I did not understand that. Send /help to see what you can do."
ASK_EMAIL = (
    "Send the e-mail address of the user (such as name@example.com). "
    "Send /cancel to stop without assigning."
)
ASSIGN_QUESTION = "Assign a license of <b>Clinic Am See</b> ({unused} unused).\n\n" + ASK_EMAIL
ASSIGN_DISCARDED = "Assignment discarded. No license was assigned."
ASSIGN_FORM_CLOSED = (
    "This assign form is closed, so no license was assigned from it. "
    "Send /assign to start a new one."
)
OUTDATED_FORM = "This summary belongs to an older form. Use the buttons of the latest summary."
NO_UNUSED = (
    "There is no unused license in your inventory. Order more with /order "
    "or activate a license card with /activate KEY."
)
ASK_UNASSIGN_EMAIL = (
    "Send the e-mail address of the user (such as name@example.com) whose license to "
    "take back. Send /cancel to stop without changing anything."
)
UNASSIGN_QUESTION = "Take a license of <b>Clinic Am See</b> back.\n\n" + ASK_UNASSIGN_EMAIL
FORM_BUSY = (
    "You are in the middle of another form. Answer its question, or send /cancel "
    "to leave it, then send {command} again."
)


def fresh_summary(email: str, expiry: str) -> str:
    return (
        "<b>Please check the assignment</b>\n"
        f"User: {email}\n"
        f"License: an unused one. It expires on {expiry}, one year from today.\n\n"
        "Press Confirm to assign it."
    )


def sent_html(harness: Harness) -> str:
    """Return the HTML text of the bot's latest message."""
    return sent_texts(harness.api.calls)[-1]


def berlin_midnight(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=BERLIN).astimezone(UTC)


def button_data(message: SentMessage, label: str) -> str:
    for row in message.inline_keyboard:
        for button in row:
            if button["text"] == label:
                return button["callback_data"]
    raise LookupError(f"no button labelled {label!r} on message {message.message_id}")


async def open_summary(harness: Harness, email: str = "anna@example.com") -> SentMessage:
    """Fill the /assign form for AIKO up to the summary and return the summary message.

    The message's ``text`` is plain text; ``sent_html`` returns it as sent.
    """
    await harness.command(AIKO, "assign")
    await harness.text(AIKO, email)
    summary = harness.last_message(AIKO)
    assert summary.text.startswith("Please check the assignment"), summary.text
    return summary


async def assigned_license(harness: Harness, email: str) -> License | None:
    async with harness.database.unit_of_work() as uow:
        return await uow.licenses.find_assigned(harness.organisation_ids["Clinic Am See"], email)


async def add_headquarters_member(harness: Harness) -> None:
    await add_member(
        harness.database.unit_of_work(),
        organisation_name="Vendor HQ",
        telegram_user_id=HANA.id,
        name=HANA.full_name,
        now=harness.clock.now(),
    )


# The whole /assign form


async def test_assign_asks_email(harness: Harness) -> None:
    await give_licenses(harness, 3)

    calls = await harness.command(AIKO, "assign")

    assert methods(calls) == ["sendMessage"]
    assert calls[0].params["parse_mode"] == "HTML"
    assert calls[0].params["text"] == ASSIGN_QUESTION.format(unused=3)


async def test_assign_shows_summary(harness: Harness) -> None:
    await give_licenses(harness, 3)
    await harness.command(AIKO, "assign")

    calls = await harness.text(AIKO, "anna@example.com")

    assert methods(calls) == ["sendMessage"]
    assert calls[0].params["text"] == fresh_summary("anna@example.com", "2027-12-04")
    [[(confirm_label, confirm_data), (cancel_label, cancel_data)]] = keyboard(calls[0])
    assert confirm_label == "Confirm"
    assert cancel_label == "Cancel"
    assert confirm_data.startswith("asg+:")
    assert cancel_data == "asg-:" + confirm_data.removeprefix("asg+:")


async def test_assign_with_argument(harness: Harness) -> None:
    await give_licenses(harness, 1)

    calls = await harness.command(AIKO, "assign", "anna@example.com")

    assert sent_texts(calls) == [fresh_summary("anna@example.com", "2027-12-04")]


async def test_address_normalised(harness: Harness) -> None:
    await give_licenses(harness, 1)

    summary = await open_summary(harness, "  Anna.Berg@Example.COM ")

    assert "User: anna.berg@example.com\n" in summary.text


async def test_confirm_assigns(harness: Harness) -> None:
    await give_licenses(harness, 3)
    summary = await open_summary(harness)

    calls = await harness.press_label(AIKO, "Confirm")

    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert alerts(calls) == ["License assigned"]
    edit = calls[1].params
    assert edit["message_id"] == summary.message_id
    assert edit["parse_mode"] == "HTML"
    assert edit["text"] == (
        "Assigned a license to <b>anna@example.com</b>. It expires on 2027-12-04."
    )
    assert "reply_markup" not in edit


async def test_confirm_stores_assignment(harness: Harness) -> None:
    await give_licenses(harness, 3)
    await open_summary(harness)

    await harness.press_label(AIKO, "Confirm")

    license = await assigned_license(harness, "anna@example.com")
    assert license is not None
    assert license.state is LicenseState.ASSIGNED
    assert license.assigned_at == harness.clock.now()
    assert license.expires_at == berlin_midnight(2027, 12, 4)
    assert await inventory_counts(harness) == (2, 1)
    [entry] = await audit_entries(harness, "license", license.id)
    assert entry.action == "license.assigned"
    assert entry.after["email"] == "anna@example.com"


@pytest.mark.parametrize(
    ("now", "expiry"),
    [
        (datetime(2028, 2, 29, 9, 0, tzinfo=UTC), "2029-02-28"),
        # 00:30 on 1 March in Berlin is still 29 February in UTC.
        (datetime(2028, 2, 29, 23, 30, tzinfo=UTC), "2029-03-01"),
        # 00:30 on 1 March 2027 in Berlin is still 28 February in UTC.
        (datetime(2027, 2, 28, 23, 30, tzinfo=UTC), "2028-03-01"),
        (datetime(2027, 2, 28, 22, 59, 59, tzinfo=UTC), "2028-02-28"),
        # 23:30 on 31 March 2027 in Berlin (summer time) is 21:30 UTC.
        (datetime(2027, 3, 31, 21, 30, tzinfo=UTC), "2028-03-31"),
    ],
    ids=["29-february", "berlin-1-march-leap", "berlin-1-march", "berlin-28-february", "cest"],
)
async def test_expiry_from_berlin_date(harness: Harness, now: datetime, expiry: str) -> None:
    await give_licenses(harness, 1)
    harness.clock.current = now
    await open_summary(harness)

    calls = await harness.press_label(AIKO, "Confirm")

    assert sent_texts(calls) == [
        f"Assigned a license to <b>anna@example.com</b>. It expires on {expiry}."
    ]
    license = await assigned_license(harness, "anna@example.com")
    assert license is not None
    year, month, day = (int(part) for part in expiry.split("-"))
    assert license.expires_at == berlin_midnight(year, month, day)


async def test_summary_cancel_button(harness: Harness) -> None:
    await give_licenses(harness, 1)
    summary = await open_summary(harness)

    calls = await harness.press_label(AIKO, "Cancel")

    assert alerts(calls) == [""]
    assert [call.params["message_id"] for call in edits(calls)] == [summary.message_id]
    assert sent_texts(calls) == [ASSIGN_DISCARDED]
    assert await inventory_counts(harness) == (1, 0)


# Rejected addresses


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("not-an-email", "That is not a valid e-mail address: "),
        ("<b>@x", "That is not a valid e-mail address: "),
        ("a" * 290 + "@example.com", "An e-mail address has at most 254 characters; "),
        (" ", "An e-mail address is required, such as name@example.com."),
        ("anna@example", "That is not a valid e-mail address: "),
        ("anna@@example.com", "That is not a valid e-mail address: "),
    ],
    ids=["no-at", "markup", "302-characters", "blank", "no-dot", "two-at"],
)
async def test_bad_address_repeats_question(harness: Harness, answer: str, reason: str) -> None:
    await give_licenses(harness, 1)
    await harness.command(AIKO, "assign")

    calls = await harness.text(AIKO, answer)
    after = await harness.text(AIKO, "anna@example.com")

    [text] = sent_texts(calls)
    assert text.startswith(reason)
    assert text.endswith("\n\n" + ASK_EMAIL)
    assert sent_texts(after) == [fresh_summary("anna@example.com", "2027-12-04")]


async def test_bad_address_is_escaped(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await harness.command(AIKO, "assign")

    calls = await harness.text(AIKO, "r&d@exa<mple.com")

    [text] = sent_texts(calls)
    assert text.startswith("That is not a valid e-mail address: ")
    assert "invalid characters: '&lt;'" in text
    assert calls[0].error is None


async def test_bad_argument_asks_again(harness: Harness) -> None:
    await give_licenses(harness, 1)

    calls = await harness.command(AIKO, "assign", "not-an-email")
    after = await harness.text(AIKO, "anna@example.com")

    assert sent_texts(calls)[0].endswith("\n\n" + ASK_EMAIL)
    assert sent_texts(after) == [fresh_summary("anna@example.com", "2027-12-04")]


async def test_address_with_license_rejected(harness: Harness) -> None:
    await give_licenses(harness, 2)
    await assign_to(harness, "anna@example.com")
    await harness.command(AIKO, "assign")

    calls = await harness.text(AIKO, "Anna@Example.com")

    assert sent_texts(calls) == [
        "anna@example.com already has a license, which expires on 2027-12-04. "
        "An address holds one license at a time.\n\n" + ASK_EMAIL
    ]
    assert await inventory_counts(harness) == (1, 1)


async def test_address_free_after_expiry(harness: Harness) -> None:
    await give_licenses(harness, 2)
    await assign_to(harness, "anna@example.com")
    harness.clock.current = berlin_midnight(2027, 12, 4)

    await open_summary(harness)

    assert sent_html(harness) == fresh_summary("anna@example.com", "2028-12-04")


# No license to assign


async def test_no_licenses_at_all(harness: Harness) -> None:
    calls = await harness.command(AIKO, "assign")
    after = await harness.text(AIKO, "anna@example.com")

    assert sent_texts(calls) == [NO_UNUSED]
    assert sent_texts(after) == [NOT_UNDERSTOOD]


async def test_all_licenses_assigned(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")

    calls = await harness.command(AIKO, "assign", "ben@example.com")

    assert sent_texts(calls) == [NO_UNUSED]


async def test_last_license_taken_meanwhile(harness: Harness) -> None:
    """The summary's license went to another address before Confirm."""
    await give_licenses(harness, 1)
    summary = await open_summary(harness)
    await assign_to(harness, "ben@example.com")

    calls = await harness.press_label(AIKO, "Confirm")
    again = await harness.press(AIKO, button_data(summary, "Confirm"), summary.message_id)

    assert alerts(calls) == [
        "That license was assigned or has expired meanwhile. Send /assign to start again."
    ]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []
    assert alerts(again) == [ASSIGN_FORM_CLOSED]
    assert await assigned_license(harness, "anna@example.com") is None


async def test_address_assigned_meanwhile(harness: Harness) -> None:
    await give_licenses(harness, 2)
    await open_summary(harness)
    await assign_to(harness, "anna@example.com")

    calls = await harness.press_label(AIKO, "Confirm")

    assert alerts(calls) == [
        "anna@example.com already has a license, which expires on 2027-12-04. "
        "An address holds one license at a time."
    ]
    assert await inventory_counts(harness) == (1, 1)


# Presses that must not assign twice


async def test_double_confirm_assigns_once(harness: Harness) -> None:
    await give_licenses(harness, 3)
    summary = await open_summary(harness)
    confirm = button_data(summary, "Confirm")
    await harness.press(AIKO, confirm, summary.message_id)

    calls = await harness.press(AIKO, confirm, summary.message_id)

    assert alerts(calls) == [
        "This license was already assigned to anna@example.com. See /inventory."
    ]
    assert edits(calls) == []
    assert await inventory_counts(harness) == (2, 1)


async def test_confirm_after_cancel_command(harness: Harness) -> None:
    await give_licenses(harness, 1)
    summary = await open_summary(harness)
    await harness.command(AIKO, "cancel")

    calls = await harness.press(AIKO, button_data(summary, "Confirm"), summary.message_id)

    assert alerts(calls) == [ASSIGN_FORM_CLOSED]
    assert popup_flags(calls) == [True]
    assert edits(calls) == []
    assert await inventory_counts(harness) == (1, 0)


async def test_older_summary_beside_newer(harness: Harness) -> None:
    await give_licenses(harness, 2)
    old = await open_summary(harness, "anna@example.com")
    new = await open_summary(harness, "ben@example.com")

    calls = await harness.press(AIKO, button_data(old, "Confirm"), old.message_id)
    confirmed = await harness.press(AIKO, button_data(new, "Confirm"), new.message_id)

    assert alerts(calls) == [OUTDATED_FORM]
    assert popup_flags(calls) == [True]
    assert alerts(confirmed) == ["License assigned"]
    assert await assigned_license(harness, "anna@example.com") is None
    assert await assigned_license(harness, "ben@example.com") is not None


async def test_forged_draft_rejected(harness: Harness) -> None:
    await give_licenses(harness, 1)
    summary = await open_summary(harness)
    draft = int(button_data(summary, "Confirm").removeprefix("asg+:"))

    calls = await harness.press(AIKO, f"asg+:{draft + 1}", summary.message_id)

    assert alerts(calls) == [OUTDATED_FORM]
    assert await inventory_counts(harness) == (1, 0)


# Leaving the form


async def test_cancel_at_question(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await harness.command(AIKO, "assign")

    calls = await harness.command(AIKO, "cancel")
    after = await harness.text(AIKO, "anna@example.com")

    assert sent_texts(calls) == [ASSIGN_DISCARDED]
    assert sent_texts(after) == [NOT_UNDERSTOOD]


async def test_cancel_at_summary(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await open_summary(harness)

    calls = await harness.command(AIKO, "cancel")

    assert sent_texts(calls) == [ASSIGN_DISCARDED]
    assert await inventory_counts(harness) == (1, 0)


async def test_text_at_summary_reminds(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await open_summary(harness)

    calls = await harness.text(AIKO, "ben@example.com")

    assert sent_texts(calls) == [
        "Press Confirm or Cancel under the summary above, or send /cancel."
    ]


async def test_media_at_question(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await harness.command(AIKO, "assign")

    calls = await harness.send(media_message(harness, AIKO, "photo"))

    assert sent_texts(calls) == [
        "Please answer with text. Send /cancel to stop without assigning."
    ]


async def test_form_closes_after_timeout(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await harness.command(AIKO, "assign")
    conversation = next(
        handler
        for handler in harness.application.handlers[0]
        if isinstance(handler, ConversationHandler) and handler.name == "assign"
    )
    job = conversation.timeout_jobs[(AIKO.id, AIKO.id)]
    # The JobQueue runs on real time, so the test runs the timeout job itself.
    seconds_left = (job.next_t - datetime.now(UTC)).total_seconds()
    await job.run(harness.application)
    job.schedule_removal()

    after = await harness.text(AIKO, "anna@example.com")

    assert 29 * 60 < seconds_left <= 30 * 60
    assert sent_texts(harness.api.calls)[-2] == (
        "The assign form was closed after 30 minutes without an answer. "
        "No license was assigned; send /assign to start again."
    )
    assert sent_texts(after) == [NOT_UNDERSTOOD]


# One form at a time


async def test_unassign_inside_assign(harness: Harness) -> None:
    await give_licenses(harness, 2)
    await assign_to(harness, "ben@example.com")
    await harness.command(AIKO, "assign")

    calls = await harness.command(AIKO, "unassign")
    after = await harness.text(AIKO, "anna@example.com")

    assert sent_texts(calls) == [FORM_BUSY.format(command="/unassign")]
    assert sent_texts(after) == [fresh_summary("anna@example.com", "2027-12-04")]


async def test_assign_inside_unassign(harness: Harness) -> None:
    await give_licenses(harness, 2)
    await assign_to(harness, "ben@example.com")
    await harness.command(AIKO, "unassign")

    calls = await harness.command(AIKO, "assign")
    after = await harness.text(AIKO, "ben@example.com")

    assert sent_texts(calls) == [FORM_BUSY.format(command="/assign")]
    assert sent_texts(after)[0].startswith("<b>Take this license back?</b>")


async def test_assign_inside_order(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await harness.command(AIKO, "order")

    calls = await harness.command(AIKO, "assign")

    assert sent_texts(calls) == [FORM_BUSY.format(command="/assign")]


async def test_order_inside_assign(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await harness.command(AIKO, "assign")

    calls = await harness.command(AIKO, "order")
    after = await harness.text(AIKO, "anna@example.com")

    assert sent_texts(calls) == [FORM_BUSY.format(command="/order")]
    assert sent_texts(after) == [fresh_summary("anna@example.com", "2027-12-04")]


# /unassign


async def test_unassign_asks_email(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")

    calls = await harness.command(AIKO, "unassign")

    assert sent_texts(calls) == [UNASSIGN_QUESTION]


async def test_unassign_shows_summary(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")
    await harness.command(AIKO, "unassign")

    calls = await harness.text(AIKO, "ANNA@example.com")

    assert sent_texts(calls) == [
        "<b>Take this license back?</b>\n"
        "User: anna@example.com\n"
        "It expires on 2027-12-04. It returns to the inventory as a reusable license "
        "that keeps this expiry date.\n\n"
        "Press Confirm to take it back."
    ]
    [[(_, confirm_data), (_, cancel_data)]] = keyboard(calls[0])
    assert confirm_data.startswith("uas+:")
    assert cancel_data == "uas-:" + confirm_data.removeprefix("uas+:")


async def test_unassign_keeps_expiry(harness: Harness) -> None:
    await give_licenses(harness, 1)
    license = await assign_to(harness, "anna@example.com")
    harness.clock.advance(timedelta(days=40))
    await harness.command(AIKO, "unassign", "anna@example.com")

    calls = await harness.press_label(AIKO, "Confirm")

    assert alerts(calls) == ["License taken back"]
    assert sent_texts(calls) == [
        "Took the license back from <b>anna@example.com</b>. It is back in the inventory "
        "as a reusable license until it expires on 2027-12-04; /assign uses reusable "
        "licenses first."
    ]
    stored = await stored_license(harness, license.id)
    assert stored.state is LicenseState.UNUSED
    assert stored.email is None
    assert stored.expires_at == berlin_midnight(2027, 12, 4)
    assert await inventory_counts(harness) == (1, 0)


async def test_reassign_keeps_expiry(harness: Harness) -> None:
    """A reusable license goes first, with its expiry, before a fresh one."""
    await give_licenses(harness, 2)
    license = await assign_to(harness, "anna@example.com")
    harness.clock.advance(timedelta(days=40))
    await harness.command(AIKO, "unassign", "anna@example.com")
    await harness.press_label(AIKO, "Confirm")
    harness.clock.advance(timedelta(days=20))

    await open_summary(harness, "ben@example.com")
    summary = sent_html(harness)
    calls = await harness.press_label(AIKO, "Confirm")

    assert summary == (
        "<b>Please check the assignment</b>\n"
        "User: ben@example.com\n"
        "License: a reusable one, which keeps its expiry date. It expires on 2027-12-04.\n\n"
        "Press Confirm to assign it."
    )
    assert sent_texts(calls) == [
        "Assigned a license to <b>ben@example.com</b>. It expires on 2027-12-04."
    ]
    stored = await stored_license(harness, license.id)
    assert stored.email == "ben@example.com"
    assert stored.expires_at == berlin_midnight(2027, 12, 4)
    assert await inventory_counts(harness) == (1, 1)


async def test_reusable_latest_expiry_first(harness: Harness) -> None:
    await give_licenses(harness, 3)
    await assign_to(harness, "anna@example.com")
    harness.clock.advance(timedelta(days=1))
    later = await assign_to(harness, "ben@example.com")
    for email in ("anna@example.com", "ben@example.com"):
        await unassign_license(
            harness.database.unit_of_work(),
            telegram_user_id=AIKO.id,
            email=email,
            now=harness.clock.now(),
        )

    await open_summary(harness, "cleo@example.com")
    await harness.press_label(AIKO, "Confirm")

    stored = await stored_license(harness, later.id)
    assert stored.email == "cleo@example.com"
    assert stored.expires_at == berlin_midnight(2027, 12, 5)


async def test_unassign_unknown_address(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")
    await harness.command(AIKO, "unassign")

    calls = await harness.text(AIKO, "ben@example.com")

    assert sent_texts(calls) == [
        "ben@example.com has no license assigned.\n\n" + ASK_UNASSIGN_EMAIL
    ]


async def test_unassign_bad_address(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")

    calls = await harness.command(AIKO, "unassign", "<i>not-an-email</i>")

    [text] = sent_texts(calls)
    assert text.startswith("That is not a valid e-mail address: ")
    assert "<i>" not in text
    assert text.endswith("\n\n" + ASK_UNASSIGN_EMAIL)


async def test_unassign_nothing_assigned(harness: Harness) -> None:
    await give_licenses(harness, 1)

    calls = await harness.command(AIKO, "unassign")
    after = await harness.text(AIKO, "anna@example.com")

    assert sent_texts(calls) == [
        "No license of your inventory is assigned, so there is nothing to take back."
    ]
    assert sent_texts(after) == [NOT_UNDERSTOOD]


async def test_unassign_cancel_button(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")
    await harness.command(AIKO, "unassign", "anna@example.com")

    calls = await harness.press_label(AIKO, "Cancel")

    assert sent_texts(calls) == ["Nothing was changed; the license stays assigned."]
    assert await inventory_counts(harness) == (0, 1)


async def test_unassign_double_confirm(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")
    await harness.command(AIKO, "unassign", "anna@example.com")
    summary = harness.last_message(AIKO)
    confirm = button_data(summary, "Confirm")
    await harness.press(AIKO, confirm, summary.message_id)

    calls = await harness.press(AIKO, confirm, summary.message_id)

    assert alerts(calls) == [
        "The license of anna@example.com was already taken back. See /inventory."
    ]
    assert await inventory_counts(harness) == (1, 0)


async def test_unassign_after_cancel_command(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")
    await harness.command(AIKO, "unassign", "anna@example.com")
    summary = harness.last_message(AIKO)
    await harness.command(AIKO, "cancel")

    calls = await harness.press(AIKO, button_data(summary, "Confirm"), summary.message_id)

    assert alerts(calls) == [
        "This unassign form is closed, so nothing was changed from it. "
        "Send /unassign to start a new one."
    ]
    assert await inventory_counts(harness) == (0, 1)


async def test_unassign_expired_license(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await assign_to(harness, "anna@example.com")
    harness.clock.current = berlin_midnight(2027, 12, 4)

    summary_calls = await harness.command(AIKO, "unassign", "anna@example.com")
    calls = await harness.press_label(AIKO, "Confirm")

    assert (
        "It expired on 2027-12-04, so it will not be usable again"
        in (sent_texts(summary_calls)[0])
    )
    assert sent_texts(calls) == [
        "Took the license back from <b>anna@example.com</b>. "
        "It expired on 2027-12-04, so it is not usable again."
    ]
    assert await inventory_counts(harness) == (0, 0)


# Who may assign


@pytest.mark.parametrize("command", ["assign", "unassign"])
async def test_refused_for_dealer(harness: Harness, command: str) -> None:
    calls = await harness.command(DANA, command)
    after = await harness.text(DANA, "anna@example.com")

    assert sent_texts(calls) == [
        "Only customer administrators can assign licenses; "
        "you are a member of Dealer Berlin, a dealer."
    ]
    assert sent_texts(after) == [NOT_UNDERSTOOD]


@pytest.mark.parametrize("command", ["assign", "unassign"])
async def test_refused_for_headquarters(harness: Harness, command: str) -> None:
    await add_headquarters_member(harness)

    calls = await harness.command(HANA, command, "anna@example.com")

    assert sent_texts(calls) == [
        "Only customer administrators can assign licenses; "
        "you are a member of Vendor HQ, a headquarters."
    ]


async def test_refused_for_stranger(harness: Harness) -> None:
    calls = await harness.command(STRANGER, "assign")

    assert sent_texts(calls)[0].startswith("You are not linked to an organisation yet.")


async def test_other_customer_address_free(harness: Harness) -> None:
    """An address is checked within one customer's inventory."""
    await give_licenses(harness, 1, BEN)
    await assign_to(harness, "anna@example.com", BEN)
    await give_licenses(harness, 1)

    await open_summary(harness)

    assert sent_html(harness) == fresh_summary("anna@example.com", "2027-12-04")


async def test_address_markup_escaped(harness: Harness) -> None:
    await give_licenses(harness, 1)
    await open_summary(harness, "r&d@example.com")

    calls = await harness.press_label(AIKO, "Confirm")

    assert sent_texts(calls) == [
        "Assigned a license to <b>r&amp;d@example.com</b>. It expires on 2027-12-04."
    ]
