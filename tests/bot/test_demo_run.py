"""The offline demo end to end: scripted terminal input through run_demo and the real bot."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.demo import DemoDatabaseExists, run_demo
from bot.demo.terminal import unread_notice

INVITE_LINE = re.compile(r"An unused invite code for Clinic Am See: (\S+)")


class ScriptedInput:
    """Terminal input whose lines may use the invite code that the demo printed.

    ``{invite}`` in a line is replaced with the code found in the output so far.
    """

    def __init__(self, lines: list[str], output: io.StringIO) -> None:
        self._lines = list(lines)
        self._output = output

    def readline(self) -> str:
        if not self._lines:
            return ""
        line = self._lines.pop(0)
        if "{invite}" in line:
            match = INVITE_LINE.search(self._output.getvalue())
            assert match is not None, "the demo printed no invite code"
            line = line.replace("{invite}", match.group(1))
        return line + "\n"

    def isatty(self) -> bool:
        return False


async def run_script(lines: list[str], tmp_path: Path, start: datetime | None = None) -> str:
    output = io.StringIO()
    await run_demo(
        Settings(),
        database_path=tmp_path / "demo.sqlite3",
        input_stream=ScriptedInput(lines, output),
        output_stream=output,
        start=start,
    )
    return output.getvalue()


def after(transcript: str, typed: str, *, last: bool = False) -> str:
    """Return the transcript after the first (or last) prompt line that echoes ``typed``."""
    marker = f"> {typed}\n"
    assert marker in transcript, f"{typed!r} was not echoed"
    position = transcript.rindex(marker) if last else transcript.index(marker)
    return transcript[position + len(marker) :]


async def test_order_and_cancel_path(tmp_path: Path) -> None:
    transcript = await run_script(
        [
            "/help",
            "/order",
            "PO-4711",
            "5",
            ":press Confirm",
            "/history",
            ":press 1",
            ":press 1",
            ":quit",
        ],
        tmp_path,
    )

    assert "demo > (default menu now: /start /help)\nyou (Aiko, Clinic Am See) > " in transcript
    assert "you (Aiko, Clinic Am See) > /help\nbot > " in transcript
    assert "/order" in after(transcript, "/help")
    assert "[1 Confirm] [2 Cancel]" in after(transcript, "5")
    confirmed = after(transcript, ":press Confirm")
    assert confirmed.startswith("  (notice) Order placed\nbot > (edited message ")
    history = after(transcript, "/history")
    assert "PO-4711" in history
    assert "[1 Cancel PO-4711]" in history
    assert "Yes, cancel the order" in after(transcript, ":press 1")
    assert "Order Canceled" in after(transcript, ":press 1", last=True)
    assert "Traceback" not in transcript
    assert "Telegram rejected" not in transcript


def step(transcript: str, typed: str, occurrence: int = 1) -> str:
    """Return what the demo printed after the ``occurrence``-th echo of ``typed``.

    The output ends before the next prompt.
    """
    marker = f"> {typed}\n"
    position = -1
    for _ in range(occurrence):
        position = transcript.find(marker, position + 1)
        assert position >= 0, f"{typed!r} was not echoed {occurrence} times"
    start = position + len(marker)
    end = transcript.find("\nyou (", start)
    return transcript[start:] if end < 0 else transcript[start : end + 1]


ACCEPTANCE_PATH = [
    # The customer orders, and the dealer issues by replying to the notification.
    "/order",
    "PO-1",
    "2",
    ":press Confirm",
    ":as dealer",
    ":reply issue",
    ":press Yes, issue",
    # The customer assigns a license of PO-1 and sees its expiry.
    ":as customer",
    "/inventory",
    "/assign",
    "anna@example.com",
    ":press Confirm",
    "/inventory",
    # A second order, issued as well, whose licenses stay unused.
    "/order",
    "PO-2",
    "3",
    ":press Confirm",
    ":as dealer",
    ":reply issue",
    ":press Yes, issue",
    # Headquarters cancels the unused issuance, then the customer cancels the order.
    ":as hq",
    "/issuances",
    ":press Cancel issuance of PO-2",
    "Sent <twice> & by mistake",
    ":press Yes, cancel the issuance",
    ":as customer",
    "/history",
    ":press Cancel PO-2",
    ":press Yes, cancel the order",
    ":as dealer",
    # The audit trail shows each step.
    ":as hq",
    "/audit PO-2",
    ":quit",
]


async def test_acceptance_path(tmp_path: Path) -> None:
    transcript = await run_script(ACCEPTANCE_PATH, tmp_path)

    assert "Dealer Berlin has 50 licenses in stock." in transcript
    assert re.search(r"\n  [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\n", transcript)
    placed = step(transcript, ":press Confirm")
    assert "demo > (new message for Dana Weber — :as dealer to read it)" in placed
    assert "New order from Clinic Am See" not in placed
    notification = step(transcript, ":as dealer")
    assert "bot > New order from Clinic Am See\n      PO number: PO-1\n" in notification
    assert "Issue order PO-1?" in step(transcript, ":reply issue")
    issued = step(transcript, ":press Yes, issue")
    assert "  (notice) Licenses issued" in issued
    assert "demo > (new message for Aiko Tanaka — :as customer to read it)" in issued
    assert "bot > Licenses issued by Dealer Berlin" in step(transcript, ":as customer")
    assert "2 unused, 0 assigned" in step(transcript, "/inventory")
    assigned = step(transcript, ":press Confirm", 2)
    assert re.search(r"Assigned a license to anna@example\.com\. It expires on \d{4}-", assigned)
    inventory = step(transcript, "/inventory", 2)
    assert "1 unused, 1 assigned" in inventory
    assert "anna@example.com · expires on " in inventory
    assert "Issue order PO-2?" in step(transcript, ":reply issue", 2)

    issuances = step(transcript, "/issuances")
    assert "Page 1 of 1, 1 issuance" in issuances
    assert "[1 Cancel issuance of PO-2]" in issuances
    summary = step(transcript, "Sent <twice> & by mistake")
    assert "Reason: Sent <twice> & by mistake" in summary
    assert "[1 Yes, cancel the issuance] [2 No]" in summary
    cancelled = step(transcript, ":press Yes, cancel the issuance")
    assert (
        "Issuance of order PO-2 cancelled; 3 licenses returned to Dealer Berlin's stock."
        in cancelled
    )
    assert "demo > (new message for Aiko Tanaka — :as customer to read it)" in cancelled
    assert "demo > (new message for Dana Weber — :as dealer to read it)" in cancelled
    customer = step(transcript, ":as customer", 2)
    assert "bot > Issuance cancelled by Vendor HQ" in customer
    assert "Reason: Sent <twice> & by mistake" in customer
    assert "You may now cancel the order until " in customer
    history = step(transcript, "/history")
    assert "[1 Cancel PO-2]" in history
    assert "[2 " not in history
    assert "Order Canceled" in step(transcript, ":press Yes, cancel the order")
    dealer = step(transcript, ":as dealer", 3)
    assert "bot > Issuance cancelled by Vendor HQ" in dealer
    assert "bot > Order cancelled by Clinic Am See" in dealer

    audit = step(transcript, "/audit PO-2")
    actions = re.findall(r"· (Aiko Tanaka|Dana Weber|Hana Sato) · ([a-z ]+)\n", audit)
    assert actions == [
        ("Aiko Tanaka", "placed"),
        ("Dana Weber", "issued"),
        ("Hana Sato", "issuance cancelled"),
        ("Aiko Tanaka", "cancelled"),
    ]
    assert "reason: – → Sent <twice> & by mistake" in audit
    assert "status: Licenses on Order → Order Canceled" in audit
    assert "Traceback" not in transcript
    assert "Telegram rejected" not in transcript


# The demo clock starts on a Monday morning in Berlin, so that the jumps below
# land on the same days whatever the date of the run, and no leap day falls
# inside the license year (2026-03-02 to 2027-03-02).
REMINDER_START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))

REMINDER_PATH = [
    # PO-1: three licenses, issued and assigned; carl's auto-assign is off.
    "/order",
    "PO-1",
    "3",
    ":press Confirm",
    ":as dealer",
    ":reply issue",
    ":press Yes, issue",
    ":as customer",
    "/assign",
    "anna@example.com",
    ":press Confirm",
    "/assign",
    "ben@example.com",
    ":press Confirm",
    "/assign",
    "carl@example.com",
    ":press Confirm",
    "/autoassign carl@example.com off",
    # PO-2 stays on order; PO-3 is issued and stays unused.
    "/order",
    "PO-2",
    "1",
    ":press Confirm",
    "/order",
    "PO-3",
    "1",
    ":press Confirm",
    ":as dealer",
    ":reply issue",
    ":press Yes, issue",
    ":as customer",
    # Day 13: PO-2's cancel window closes in 24 hours, PO-3's issuance window too.
    "/clock +13d",
    ":as hq",
    ":as bc",
    ":as customer",
    # Day 14: PO-2's cancel window has closed. An hour later nothing repeats.
    "/clock +1d",
    "/clock +1h",
    # 2027-01-31: the licenses expire in 30 days.
    "/clock +321d",
    # 2027-02-16: two users with auto-assign on, one unused license.
    "/clock +16d",
    ":press Order 1 license",
    "PO-4",
    ":press Confirm",
    # 2027-02-23: the licenses expire in 7 days.
    "/clock +7d",
    # 2027-03-02 11:00: the licenses expired, and PO-4's window closed an hour ago.
    "/clock +7d1h",
    "/clock +1h",
    ":quit",
]


async def test_reminders_arrive_once(tmp_path: Path) -> None:
    transcript = await run_script(REMINDER_PATH, tmp_path, start=REMINDER_START)

    closing = step(transcript, "/clock +13d")
    assert "bot > Cancel window closes soon\n" in closing
    assert "The cancel window of order PO-2 closes on 2026-03-16 09:00 CET." in closing
    assert "[1 Cancel PO-2]" in closing
    assert "demo > (new message for Hana Sato — :as hq to read it)" in closing
    assert "demo > (new message for Bruno Keller — :as bc to read it)" in closing
    headquarters = step(transcript, ":as hq")
    assert "bot > Issuance can be cancelled until 2026-03-16 08:00 UTC\n" in headquarters
    assert "PO number: PO-3\n" in headquarters
    assert "PO-1" not in headquarters
    centre = step(transcript, ":as bc")
    assert "bot > Issuance can be cancelled until 2026-03-16 09:00 CET\n" in centre
    assert "PO number: PO-3\n" in centre
    closed = step(transcript, "/clock +1d")
    assert "The cancel window of order PO-2 closed on 2026-03-16 09:00 CET." in closed
    assert "found nothing due" in step(transcript, "/clock +1h")

    thirty_days = step(transcript, "/clock +321d")
    for email in ("anna", "ben", "carl"):
        expiring = f"The license of {email}@example.com expires on 2027-03-02, in 30 days."
        assert expiring in thirty_days
    shortage = step(transcript, "/clock +16d")
    assert (
        "2 users' licenses expire within 14 days, but only 1 unused license is left; "
        "1 is missing." in shortage
    )
    assert "[1 Order 1 license]" in shortage
    ordering = step(transcript, ":press Order 1 license")
    assert "New order of 1 license for Clinic Am See" in ordering
    assert "PO number: PO-4\n      Licenses: 1\n" in step(transcript, "PO-4")
    assert "Order placed: PO-4, 1 license" in step(transcript, ":press Confirm", 7)
    seven_days = step(transcript, "/clock +7d")
    for email in ("anna", "ben", "carl"):
        expiring = f"The license of {email}@example.com expires on 2027-03-02, in 7 days."
        assert expiring in seven_days

    expired = step(transcript, "/clock +7d1h")
    assert "found 1 reminder message, 3 expired licenses." in expired
    assert "bot > License renewed by auto-assign\n" in expired
    assert "bot > No license left for " in expired
    assert "bot > License expired\n      The license of carl@example.com expired" in expired
    assert "The cancel window of order PO-4 closed on 2027-03-02 10:" in expired
    assert "found nothing due" in step(transcript, "/clock +1h", 2)

    # Each reminder arrived exactly once, and the one skipped by the late scan never.
    for reminder, count in [
        ("The cancel window of order PO-2 closes on", 1),
        ("The cancel window of order PO-2 closed on", 1),
        ("Issuance can be cancelled until", 2),
        ("in 30 days.", 3),
        ("in 7 days.", 3),
        ("Licenses will run short", 1),
        ("License renewed by auto-assign", 1),
        ("No license left for ", 1),
        ("bot > License expired\n", 1),
        ("The cancel window of order PO-4 closed on", 1),
        ("The cancel window of order PO-4 closes on", 0),
        ("The cancel window of order PO-1", 0),
        ("The cancel window of order PO-3", 0),
    ]:
        assert transcript.count(reminder) == count, reminder
    assert "Traceback" not in transcript
    assert "Telegram rejected" not in transcript


def test_unread_notice_counts() -> None:
    assert unread_notice("Dana Weber", "dealer", 1) == (
        "(new message for Dana Weber — :as dealer to read it)"
    )
    assert unread_notice("Dana Weber", "dealer", 2) == (
        "(2 new messages for Dana Weber — :as dealer to read them)"
    )


async def test_invite_for_new_user(tmp_path: Path) -> None:
    transcript = await run_script(
        [":as new", "/order", "/start {invite}", ":who", "/start {invite}"],
        tmp_path,
    )

    assert "you (New user) > /order\nbot > " in transcript
    joined = after(transcript, ":who")
    assert "3. New user (new), Telegram user 7001, member of Clinic Am See" in joined
    assert "you (New user, Clinic Am See) > " in transcript
    assert "demo > (menu now: /order /history /inventory /assign" in transcript
    assert "already a member of Clinic Am See" in after(transcript, ":who")


async def test_advance_closes_cancel_window(tmp_path: Path) -> None:
    transcript = await run_script(
        ["/order", "PO-9", "1", ":press Confirm", ":advance 15", "/history"], tmp_path
    )

    assert "demo > The demo clock moved 15 days forward and now reads " in transcript
    history = after(transcript, "/history")
    assert "PO-9" in history
    assert "Cancel PO-9" not in history


async def test_switching_people(tmp_path: Path) -> None:
    transcript = await run_script([":as 2", "/help", ":as Aiko", ":as nobody"], tmp_path)

    assert "demo > You are now Dana Weber.\nyou (Dana, Dealer Berlin) > /help" in transcript
    assert "you (Aiko, Clinic Am See) > :as nobody" in transcript
    assert (
        "demo > No person matches 'nobody'. "
        "Use 1 or customer, 2 or dealer, 3 or new, 4 or hq, 5 or bc."
    ) in transcript


async def test_demo_errors_keep_running(tmp_path: Path) -> None:
    transcript = await run_script(
        [":press 1", ":reply hello", ":reply 99 hello", ":bogus", "/help"], tmp_path
    )

    assert "demo > No message to Aiko Tanaka has buttons to press." in transcript
    assert "demo > Message 99 does not exist in chat 5001." in transcript
    assert "demo > Unknown demo command :bogus. Type :help for the list." in transcript
    assert "bot > You are an administrator of Clinic Am See" in after(transcript, "/help")


async def test_reply_to_latest_bot_message(tmp_path: Path) -> None:
    transcript = await run_script(["/order", ":reply PO-77", ":reply 3"], tmp_path)

    assert "PO number: PO-77" in after(transcript, ":reply PO-77")
    assert "Please check your order" in after(transcript, ":reply 3")


async def test_end_of_input_ends_demo(tmp_path: Path) -> None:
    output = io.StringIO()

    await run_demo(
        Settings(),
        database_path=tmp_path / "demo.sqlite3",
        input_stream=io.StringIO("/help\n"),
        output_stream=output,
    )

    transcript = output.getvalue()
    assert "you (Aiko, Clinic Am See) > /help\n" in transcript
    assert transcript.endswith("you (Aiko, Clinic Am See) > \n")
    assert (tmp_path / "demo.sqlite3").stat().st_size > 0


async def test_existing_database_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite3"
    path.write_bytes(b"other data")
    output = io.StringIO()

    with pytest.raises(DemoDatabaseExists, match="already exists"):
        await run_demo(
            Settings(), database_path=path, input_stream=io.StringIO(""), output_stream=output
        )

    assert path.read_bytes() == b"other data"
    assert output.getvalue() == ""


async def test_temporary_database_is_removed(tmp_path: Path) -> None:
    output = io.StringIO()

    await run_demo(Settings(), input_stream=io.StringIO(":quit\n"), output_stream=output)

    match = re.search(r"Demo data is stored in (\S+) and deleted", output.getvalue())
    assert match is not None
    assert not Path(match.group(1)).parent.is_dir()
