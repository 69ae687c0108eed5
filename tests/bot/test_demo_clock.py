"""The demo clock: /clock shows it, /clock +DURATION and :advance DAYS move it and run the scan."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.demo import run_demo
from bot.demo.terminal import (
    AdvanceClock,
    DemoInputError,
    SendText,
    ShowClock,
    describe_duration,
    parse_line,
    welcome_lines,
)

# A Monday morning in Berlin, so that no test depends on the day it runs.
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ORDER_PO_9 = ["/order", "PO-9", "1", ":press Confirm"]


async def run_lines(lines: list[str], tmp_path: Path) -> str:
    output = io.StringIO()
    await run_demo(
        Settings(),
        database_path=tmp_path / "demo.sqlite3",
        input_stream=io.StringIO("".join(line + "\n" for line in lines)),
        output_stream=output,
        start=START,
    )
    return output.getvalue()


def after(transcript: str, typed: str) -> str:
    """Return what the demo printed after the echo of ``typed``, up to the next prompt."""
    marker = f"> {typed}\n"
    assert marker in transcript, f"{typed!r} was not echoed"
    start = transcript.index(marker) + len(marker)
    end = transcript.find("\nyou (", start)
    return transcript[start:] if end < 0 else transcript[start : end + 1]


# Parsing


@pytest.mark.parametrize(
    ("line", "delta"),
    [
        ("/clock +13d", timedelta(days=13)),
        ("/clock +2h", timedelta(hours=2)),
        ("/clock +30m", timedelta(minutes=30)),
        ("/clock +1d12h", timedelta(days=1, hours=12)),
        ("/clock +1d12h30m", timedelta(days=1, hours=12, minutes=30)),
        ("/clock 13d", timedelta(days=13)),
        ("/clock +1D", timedelta(days=1)),
        ("/clock +1d 12h", timedelta(days=1, hours=12)),
        ("/CLOCK +1m", timedelta(minutes=1)),
        ("/clock +3650d", timedelta(days=3650)),
        ("/clock +90m", timedelta(minutes=90)),
        (":advance 13", timedelta(days=13)),
    ],
)
def test_clock_moves_parsed(line: str, delta: timedelta) -> None:
    assert parse_line(line) == AdvanceClock(delta)


def test_clock_alone_shows_time() -> None:
    assert parse_line("/clock") == ShowClock()
    assert parse_line("  /clock  ") == ShowClock()


def test_other_command_sent() -> None:
    assert parse_line("/clockwork") == SendText("/clockwork")


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("-1d", "The demo clock only moves forward, so '-1d' is invalid."),
        ("soon", "Invalid duration 'soon'."),
        ("+", "Invalid duration '+'."),
        ("+1w", "Invalid duration '+1w'."),
        ("+12h1d", "Invalid duration '+12h1d'."),
        ("+1.5d", "Invalid duration '+1.5d'."),
        ("++1d", "Invalid duration '++1d'."),
        ("+0d", "The duration '+0d' is zero."),
        ("+0d0h0m", "The duration '+0d0h0m' is zero."),
        ("+3651d", "The duration '+3651d' is longer than 3650 days."),
        ("+3650d1m", "The duration '+3650d1m' is longer than 3650 days."),
    ],
)
def test_invalid_duration(argument: str, message: str) -> None:
    with pytest.raises(DemoInputError) as raised:
        parse_line(f"/clock {argument}")

    assert str(raised.value).startswith(message)


def test_invalid_duration_shows_examples() -> None:
    with pytest.raises(DemoInputError, match=r"such as /clock \+13d, /clock \+2h"):
        parse_line("/clock soon")


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(days=1), "1 day"),
        (timedelta(days=13), "13 days"),
        (timedelta(days=1, hours=12), "1 day 12 hours"),
        (timedelta(hours=1, minutes=1), "1 hour 1 minute"),
        (timedelta(minutes=30), "30 minutes"),
    ],
)
def test_duration_in_words(delta: timedelta, words: str) -> None:
    assert describe_duration(delta) == words


def test_welcome_suggests_reminders() -> None:
    text = "\n".join(
        welcome_lines(
            people=["Aiko Tanaka (customer), member of Clinic Am See"],
            invite_code="abc123",
            invite_organisation_name="Clinic Am See",
            database_note="Demo data is stored in /tmp/x.",
        )
    )

    assert "'/clock +13d': the cancel window of PO-3 closes in 24 hours" in text
    assert "'/clock +1d': the window has closed" in text
    assert "  /clock +DURATION" in text


# In the running demo


async def test_clock_shows_demo_time(tmp_path: Path) -> None:
    transcript = await run_lines(["/clock"], tmp_path)

    assert after(transcript, "/clock") == (
        "demo > The demo clock reads 2026-03-02 09:00 CET in Europe/Berlin "
        "(2026-03-02 08:00 UTC).\n"
    )


async def test_clock_move_reports_time(tmp_path: Path) -> None:
    transcript = await run_lines(["/clock +1d12h"], tmp_path)

    assert after(transcript, "/clock +1d12h").startswith(
        "demo > The demo clock moved 1 day 12 hours forward and now reads "
        "2026-03-03 21:00 CET in Europe/Berlin (2026-03-03 20:00 UTC).\n"
    )


async def test_clock_move_without_reminder(tmp_path: Path) -> None:
    transcript = await run_lines([*ORDER_PO_9, "/clock +2h"], tmp_path)

    moved = after(transcript, "/clock +2h")
    assert "demo > The scheduler ran once at the new time and found nothing due.\n" in moved
    assert "bot > " not in moved


async def test_clock_brings_closing_reminder(tmp_path: Path) -> None:
    transcript = await run_lines([*ORDER_PO_9, "/clock +13d"], tmp_path)

    moved = after(transcript, "/clock +13d")
    assert "demo > The scheduler ran once at the new time and found 1 reminder message.\n" in moved
    assert "bot > Cancel window closes soon\n" in moved
    assert "The cancel window of order PO-9 closes on 2026-03-16 09:00 CET." in moved
    assert "[1 Cancel PO-9]" in moved


async def test_advance_shares_clock_code(tmp_path: Path) -> None:
    transcript = await run_lines([*ORDER_PO_9, ":advance 13"], tmp_path)

    moved = after(transcript, ":advance 13")
    assert moved.startswith("demo > The demo clock moved 13 days forward and now reads ")
    assert "bot > Cancel window closes soon\n" in moved


async def test_late_jump_sends_closed_only(tmp_path: Path) -> None:
    transcript = await run_lines([*ORDER_PO_9, ":advance 15"], tmp_path)

    moved = after(transcript, ":advance 15")
    assert "bot > Cancel window closed\n" in moved
    assert "Cancel window closes soon" not in transcript


async def test_reminder_cancel_button(tmp_path: Path) -> None:
    transcript = await run_lines(
        [*ORDER_PO_9, "/clock +13d", ":press Cancel PO-9", ":press Yes, cancel the order"],
        tmp_path,
    )

    assert "Cancel order PO-9?" in after(transcript, ":press Cancel PO-9")
    assert "Order PO-9 has been cancelled." in after(transcript, ":press Yes, cancel the order")


async def test_invalid_clock_keeps_running(tmp_path: Path) -> None:
    transcript = await run_lines(["/clock -1d", "/clock"], tmp_path)

    assert after(transcript, "/clock -1d") == (
        "demo > The demo clock only moves forward, so '-1d' is invalid.\n"
    )
    assert after(transcript, "/clock").startswith("demo > The demo clock reads 2026-03-02 09:00")


async def test_help_lists_clock(tmp_path: Path) -> None:
    transcript = await run_lines([":help"], tmp_path)

    assert "demo >   /clock +DURATION    move the demo clock forward" in after(transcript, ":help")
