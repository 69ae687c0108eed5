"""``licensebot audit``, run in-process against a SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli.audit import format_entry
from bot.cli.main import main
from core.audit import AuditEntry
from core.policy import LicensingPolicy
from core.use_cases.ordering import place_order
from storage.database import Database

LINE = re.compile(
    r"^(?P<at>\S+) (?P<action>\S+) (?P<entity>\S+) (?P<id>\d+) "
    r"(?P<actor>operator|member \d+) (?P<before>\{.*\}) → (?P<after>\{.*\})$"
)


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def run_cli(tmp_path: Path, database_path: Path, monkeypatch, capsys):
    """Run ``licensebot --config CONFIG ARGS`` and return (exit status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    for variable in ("LICENSEBOT_CONFIG", "LICENSEBOT_TOKEN", "LICENSEBOT_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    config = tmp_path / "licensebot.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{database_path}"\n'
        '[bot]\ndefault_timezone = "Europe/Berlin"\n',
        encoding="utf-8",
    )

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["--config", str(config), *args])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


@pytest.fixture
def tree(run_cli) -> None:
    """Headquarters → business centre → dealer → customer with one member."""
    for args in (
        ("org", "add", "--tier", "hq", "--name", "Head Office"),
        ("org", "add", "--tier", "bc", "--name", "BC North", "--parent", "Head Office"),
        ("org", "add", "--tier", "dealer", "--name", "Dealer North", "--parent", "BC North"),
        ("org", "add", "--tier", "customer", "--name", "Clinic North", "--parent", "Dealer North"),
        ("member", "add", "--org", "Clinic North", "--telegram-id", "5001", "--name", "Aiko"),
    ):
        status, _, err = run_cli(*args)
        assert status == 0, err


def place(database_path: Path, po_number: str) -> None:
    async def run() -> None:
        database = Database(f"sqlite+aiosqlite:///{database_path}")
        try:
            await place_order(
                database.unit_of_work(),
                telegram_user_id=5001,
                po_number=po_number,
                quantity=2,
                policy=LicensingPolicy(),
                now=datetime.now(UTC),
            )
        finally:
            await database.dispose()

    asyncio.run(run())


def test_prints_one_line_per_entry(run_cli, tree, database_path: Path) -> None:
    place(database_path, "PO-1")

    status, out, err = run_cli("audit", "--org", "clinic north")

    assert status == 0, err
    lines = out.splitlines()
    assert [LINE.match(line)["action"] for line in lines] == [
        "organisation.added",
        "member.added",
        "order.placed",
    ]
    placed = LINE.match(lines[-1])
    assert placed["entity"] == "order"
    assert placed["actor"].startswith("member ")
    assert json.loads(placed["before"]) == {}
    assert json.loads(placed["after"])["po_number"] == "PO-1"
    assert datetime.fromisoformat(placed["at"]).utcoffset() == timedelta(0)
    assert LINE.match(lines[0])["actor"] == "operator"


def test_since_filters(run_cli, tree) -> None:
    today = datetime.now(UTC).date()
    tomorrow = today + timedelta(days=1)

    status, out, _ = run_cli("audit", "--org", "Clinic North", "--since", tomorrow.isoformat())
    _, today_out, _ = run_cli("audit", "--org", "Clinic North", "--since", today.isoformat())

    assert status == 0
    assert out == f"No changes recorded for Clinic North since {tomorrow.isoformat()}.\n"
    assert len(today_out.splitlines()) == 2


@pytest.mark.parametrize("text", ["2026-13-01", "04.12.2026", "2026-12-4x", ""])
def test_bad_date_exits_2(run_cli, text: str) -> None:
    status, out, err = run_cli("audit", "--org", "Clinic North", "--since", text)

    assert status == 2
    assert out == ""
    assert f"invalid date {text!r}: use YYYY-MM-DD, such as 2026-12-04" in err


def test_unknown_organisation(run_cli, tree) -> None:
    status, out, err = run_cli("audit", "--org", "Nowhere")

    assert status == 2
    assert out == ""
    assert err == "licensebot: error: No organisation is named 'Nowhere'.\n"


def test_org_required(run_cli) -> None:
    status, _, err = run_cli("audit")

    assert status == 2
    assert "the following arguments are required: --org" in err


def test_control_characters_escaped() -> None:
    entry = AuditEntry(
        "issuance.cancelled",
        "order",
        7,
        datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
        3,
        1,
        before={"status": "issued"},
        after={"reason": "line\nbreak \x1b[31mred \x9b2J \u2028 ü 🙂"},
    )

    line = format_entry(entry)

    assert line == (
        '2026-12-04T10:00:00+00:00 issuance.cancelled order 7 member 3 {"status": "issued"} → '
        '{"reason": "line\\nbreak \\u001b[31mred \\u009b2J \\u2028 ü 🙂"}'
    )
    after = LINE.match(line)["after"]
    assert json.loads(after)["reason"] == "line\nbreak \x1b[31mred \x9b2J \u2028 ü 🙂"


def test_time_printed_in_utc() -> None:
    berlin = datetime(2026, 12, 4, 11, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    entry = AuditEntry("stock.added", "organisation", 4, berlin, None, 4)

    assert format_entry(entry).startswith("2026-12-04T11:00:00+00:00 stock.added")
