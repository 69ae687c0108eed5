"""Tests of the licensebot command line, run in-process against a SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

import bot.application
from bot.cli.logs import configure_logging
from bot.cli.main import main
from bot.cli.organisations import TIER_CODES
from bot.clock import SystemClock
from bot.config import Settings
from core.organisations import Tier
from storage.database import Database

TOKEN = "123456789:AAFakeTokenForTestsOnly_0123456789ab"
INVITE_CODE_PATTERN = re.compile(r"^Invite code: ([A-Za-z0-9_-]+)$", re.MULTILINE)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration file whose database is a SQLite file in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for variable in ("LICENSEBOT_CONFIG", "LICENSEBOT_TOKEN", "LICENSEBOT_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    path = tmp_path / "licensebot.toml"
    path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "cli.sqlite3"}"\n'
        '[bot]\ndefault_timezone = "Europe/Berlin"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def run_cli(config: Path, capsys: pytest.CaptureFixture[str]):
    """Run ``licensebot --config CONFIG ARGS`` and return (exit status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["--config", str(config), *args])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


@pytest.fixture
def tree(run_cli) -> None:
    """Headquarters → business centre → dealer → customer, as added by the operator."""
    for args in (
        ("--tier", "hq", "--name", "Head Office"),
        ("--tier", "bc", "--name", "BC North", "--parent", "Head Office"),
        ("--tier", "dealer", "--name", "Dealer North", "--parent", "BC North"),
        ("--tier", "customer", "--name", "Clinic North", "--parent", "Dealer North"),
    ):
        status, _, err = run_cli("org", "add", *args)
        assert status == 0, err


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Restore the logger levels and the log record factory that ``licensebot run`` changes."""
    names = ("httpx", "httpcore", "telegram.Bot")
    levels = {name: logging.getLogger(name).level for name in names}
    record_factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(record_factory)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def polling_event_loop() -> Iterator[None]:
    """A current event loop for Application.run_polling, which closes the loop it uses."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()
    asyncio.set_event_loop(None)


# Organisations


def test_org_add_builds_four_tiers(run_cli) -> None:
    status, out, err = run_cli("org", "add", "--tier", "hq", "--name", "Head Office")
    assert status == 0, err
    assert "Added headquarters Head Office (id 1)" in out

    status, out, err = run_cli(
        "org", "add", "--tier", "bc", "--name", "BC  North", "--parent", "head office"
    )
    assert status == 0, err
    assert "Added business centre BC North" in out
    assert "parent: headquarters Head Office" in out

    status, out, err = run_cli(
        "org", "add", "--tier", "dealer", "--name", "Dealer North", "--parent", "BC North"
    )
    assert status == 0, err
    assert "Added dealer Dealer North" in out
    assert "parent: business centre BC North" in out

    status, out, err = run_cli(
        "org", "add", "--tier", "customer", "--name", "Clinic", "--parent", "Dealer North"
    )
    assert status == 0, err
    assert "Added customer Clinic" in out
    assert "parent: dealer Dealer North" in out
    assert "orders from dealer: Dealer North" in out
    assert err == ""


def test_org_add_through_distributor(run_cli, tree) -> None:
    status, out, err = run_cli(
        "org", "add", "--tier", "distributor", "--name", "Distri", "--parent", "BC North"
    )
    assert status == 0, err
    assert "Added distributor Distri" in out

    status, out, err = run_cli(
        "org", "add", "--tier", "dealer", "--name", "Dealer Two", "--parent", "Distri"
    )
    assert status == 0, err
    assert "parent: distributor Distri" in out


def test_org_add_customer_with_other_dealer(run_cli, tree) -> None:
    status, _, err = run_cli(
        "org", "add", "--tier", "dealer", "--name", "Dealer South", "--parent", "BC North"
    )
    assert status == 0, err

    status, out, err = run_cli(
        "org",
        "add",
        "--tier",
        "customer",
        "--name",
        "Clinic South",
        "--parent",
        "Dealer North",
        "--dealer",
        "dealer south",
    )

    assert status == 0, err
    assert "parent: dealer Dealer North" in out
    assert "orders from dealer: Dealer South" in out


def test_org_add_timezone_default_from_config(run_cli) -> None:
    status, out, _ = run_cli("org", "add", "--tier", "hq", "--name", "Head Office")

    assert status == 0
    assert "time zone: Europe/Berlin" in out


def test_org_add_timezone_option(run_cli) -> None:
    status, out, _ = run_cli(
        "org", "add", "--tier", "hq", "--name", "Head Office", "--timezone", "Asia/Tokyo"
    )

    assert status == 0
    assert "time zone: Asia/Tokyo" in out


def test_org_add_wrong_parent_tier(run_cli, tree) -> None:
    status, out, err = run_cli(
        "org", "add", "--tier", "customer", "--name", "Clinic Two", "--parent", "BC North"
    )

    assert status == 2
    assert out == ""
    assert err.startswith("licensebot: error: ")
    assert "must hang under a dealer" in err
    assert "'BC North' is a business centre" in err
    assert "Traceback" not in err


def test_org_add_unknown_tier(run_cli) -> None:
    status, out, err = run_cli("org", "add", "--tier", "reseller", "--name", "X")

    assert status == 2
    assert out == ""
    assert "invalid choice: 'reseller'" in err


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--tier", "bc", "--name", "BC South"), "needs a parent headquarters"),
        (("--tier", "bc", "--name", "BC South", "--parent", "Nowhere"), "Nowhere"),
        (
            ("--tier", "dealer", "--name", "D", "--parent", "BC North", "--dealer", "BC North"),
            "Only a customer can have a dealer",
        ),
        (("--tier", "hq", "--name", "bc north"), "bc north"),
        (("--tier", "hq", "--name", "HQ2", "--timezone", "Mars/Base"), "Mars/Base"),
        (("--tier", "hq", "--name", "   "), "name is required"),
    ],
)
def test_org_add_rejected(run_cli, tree, args: tuple[str, ...], reason: str) -> None:
    status, out, err = run_cli("org", "add", *args)

    assert status == 2
    assert out == ""
    assert err.startswith("licensebot: error: ")
    assert reason in err
    assert len(err.splitlines()) == 1


def test_org_add_rejection_stores_nothing(run_cli, tree) -> None:
    run_cli("org", "add", "--tier", "customer", "--name", "Clinic Two", "--parent", "BC North")

    status, _, err = run_cli(
        "org", "add", "--tier", "customer", "--name", "Clinic Two", "--parent", "Dealer North"
    )

    assert status == 0, err


def test_tier_codes_cover_every_tier() -> None:
    assert {Tier.from_code(code) for code in TIER_CODES} == set(Tier)
    assert [Tier.from_code(code) for code in TIER_CODES] == sorted(Tier)


# Members


def test_member_add_then_duplicate(run_cli, tree) -> None:
    status, out, err = run_cli(
        "member", "add", "--org", "Clinic North", "--telegram-id", "5000000001", "--name", "Alice"
    )
    assert status == 0, err
    assert "Added member Alice (Telegram user id 5000000001) to customer Clinic North." in out

    status, out, err = run_cli(
        "member", "add", "--org", "Dealer North", "--telegram-id", "5000000001"
    )
    assert status == 2
    assert out == ""
    assert err.startswith("licensebot: error: ")
    assert "5000000001 is already a member" in err


def test_member_add_default_name(run_cli, tree) -> None:
    status, out, _ = run_cli("member", "add", "--org", "Clinic North", "--telegram-id", "42")

    assert status == 0
    assert "Added member Telegram user 42 (Telegram user id 42)" in out


def test_member_add_unknown_org(run_cli, tree) -> None:
    status, _, err = run_cli("member", "add", "--org", "Nowhere", "--telegram-id", "42")

    assert status == 2
    assert "Nowhere" in err


@pytest.mark.parametrize(
    "telegram_id",
    ["@alice", "0", "-5", "4.2", "9223372036854775808", "4503599627370496", "٥٥", "5_000"],
)
def test_member_add_invalid_telegram_id(run_cli, tree, telegram_id: str) -> None:
    status, out, err = run_cli(
        "member", "add", "--org", "Clinic North", f"--telegram-id={telegram_id}"
    )

    assert status == 2
    assert out == ""
    assert "invalid Telegram user id" in err


# Invites


def test_invite_prints_code_and_link(run_cli, tree) -> None:
    status, out, err = run_cli("invite", "--org", "Dealer North")

    assert status == 0, err
    match = INVITE_CODE_PATTERN.search(out)
    assert match is not None, out
    code = match.group(1)
    assert len(code) <= 64
    assert f"Link: https://t.me/<bot-username>?start={code}" in out
    assert re.search(r"^Expires: \d{4}-\d\d-\d\d \d\d:\d\d UTC\.", out, re.MULTILINE)
    assert "--bot-username" in out


def test_invite_codes_differ(run_cli, tree) -> None:
    _, first, _ = run_cli("invite", "--org", "Dealer North")
    _, second, _ = run_cli("invite", "--org", "Dealer North")

    first_match = INVITE_CODE_PATTERN.search(first)
    second_match = INVITE_CODE_PATTERN.search(second)
    assert first_match is not None
    assert second_match is not None
    assert first_match.group(1) != second_match.group(1)


def test_invite_with_bot_username(run_cli, tree) -> None:
    status, out, _ = run_cli("invite", "--org", "Dealer North", "--bot-username", "@LicenseBot")

    match = INVITE_CODE_PATTERN.search(out)
    assert status == 0
    assert match is not None
    assert f"Link: https://t.me/LicenseBot?start={match.group(1)}" in out
    assert "<bot-username>" not in out


@pytest.mark.parametrize("username", ["Lic", "license_helper", "bad-name_bot", "a" * 30 + "bot"])
def test_invite_invalid_bot_username(run_cli, tree, username: str) -> None:
    status, out, err = run_cli("invite", "--org", "Dealer North", "--bot-username", username)

    assert status == 2
    assert out == ""
    assert "invalid bot username" in err


def test_invite_unknown_org(run_cli, tree) -> None:
    status, out, err = run_cli("invite", "--org", "Nowhere")

    assert status == 2
    assert out == ""
    assert "Nowhere" in err


# Help and argument errors


@pytest.mark.parametrize(
    "command",
    [[], ["run"], ["demo"], ["org"], ["org", "add"], ["member"], ["member", "add"], ["invite"]],
)
def test_help_of_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status = main([*command, "--help"])

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(f"usage: licensebot {' '.join(command)}".rstrip())


def test_help_describes_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    main(["org", "add", "--help"])
    out = capsys.readouterr().out

    for option in ("--tier", "--name", "--parent", "--dealer", "--timezone"):
        assert option in out


@pytest.mark.parametrize(
    "argv",
    [[], ["org"], ["member"], ["frobnicate"], ["org", "add", "--name", "X"], ["invite"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status = main(argv)

    err = capsys.readouterr().err
    assert status == 2
    assert "usage: licensebot" in err


# Configuration and failures


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--config", str(tmp_path / "absent.toml"), "invite", "--org", "X"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("licensebot: error: Configuration file ")
    assert "absent.toml" in err


def test_invalid_config_value(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.write_text("[bot]\npage_size = 99\n", encoding="utf-8")

    status = main(["--config", str(config), "invite", "--org", "X"])

    err = capsys.readouterr().err
    assert status == 2
    assert "bot.page_size" in err
    assert "Traceback" not in err


def test_config_from_environment(
    run_cli, config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LICENSEBOT_CONFIG", str(config))

    status = main(["org", "add", "--tier", "hq", "--name", "Head Office"])

    out = capsys.readouterr().out
    assert status == 0
    assert "time zone: Europe/Berlin" in out


def test_missing_database_directory_exits_1(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_path = tmp_path / "missing" / "cli.sqlite3"
    monkeypatch.setenv("LICENSEBOT_DATABASE_URL", f"sqlite+aiosqlite:///{database_path}")

    status, out, err = run_cli("org", "add", "--tier", "hq", "--name", "Head Office")

    assert status == 1
    assert out == ""
    assert err.startswith(f"licensebot: error: The directory {tmp_path / 'missing'} ")
    assert "database.url" in err
    assert not database_path.exists()


def test_database_failure_exits_1(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_path = tmp_path / "not-a-database.sqlite3"
    database_path.write_bytes(b"This file is not a SQLite database. " * 100)
    monkeypatch.setenv("LICENSEBOT_DATABASE_URL", f"sqlite+aiosqlite:///{database_path}")

    status, out, err = run_cli("org", "add", "--tier", "hq", "--name", "Head Office")

    assert status == 1
    assert out == ""
    assert err.startswith("licensebot: error: Database operation on sqlite+aiosqlite:///")
    assert "file is not a database" in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1


# licensebot demo


def test_demo_runs_without_token(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database_path = tmp_path / "demo.sqlite3"
    monkeypatch.setattr(sys, "stdin", io.StringIO(":quit\n"))

    status, out, err = run_cli("demo", "--database", str(database_path))

    assert status == 0, err
    assert "offline demo" in out
    assert str(database_path) in out
    assert database_path.exists()


def test_demo_existing_database_exits_2(run_cli, tmp_path: Path) -> None:
    database_path = tmp_path / "demo.sqlite3"
    database_path.write_bytes(b"")

    status, _, err = run_cli("demo", "--database", str(database_path))

    assert status == 2
    assert err.startswith(f"licensebot: error: Demo database {database_path} already exists.")
    assert "Traceback" not in err


# licensebot run


def test_token_masked_in_log_records(
    caplog: pytest.LogCaptureFixture, restored_logging: None
) -> None:
    configure_logging(TOKEN)
    logger = logging.getLogger("tests.token_masking")

    logger.warning("request to https://api.telegram.org/bot%s/getMe failed", TOKEN)
    try:
        raise ValueError(f"The token `{TOKEN}` was rejected by the server.")
    except ValueError:
        logger.exception("initialisation failed")

    assert TOKEN not in caplog.text
    assert "bot***/getMe" in caplog.text
    assert "The token `***` was rejected" in caplog.text
    assert logging.getLogger("httpx").level == logging.WARNING


def test_run_without_token(run_cli) -> None:
    status, out, err = run_cli("run")

    assert status == 2
    assert out == ""
    assert "telegram.token" in err
    assert "LICENSEBOT_TOKEN" in err


class _FakeApplication:
    def __init__(self) -> None:
        self.polling_arguments: dict[str, Any] | None = None

    def run_polling(self, **arguments: Any) -> None:
        self.polling_arguments = arguments


def test_run_builds_and_polls(
    run_cli, monkeypatch: pytest.MonkeyPatch, restored_logging: None
) -> None:
    calls: list[tuple[Settings, Database, object]] = []
    application = _FakeApplication()

    def build_application(settings: Settings, *, database: Database, clock: object):
        calls.append((settings, database, clock))
        return application

    monkeypatch.setattr(bot.application, "build_application", build_application)
    monkeypatch.setenv("LICENSEBOT_TOKEN", TOKEN)

    status, _, err = run_cli("run")

    assert status == 0, err
    assert len(calls) == 1
    settings, database, clock = calls[0]
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == TOKEN
    assert isinstance(database, Database)
    assert database.url == settings.database.url
    assert isinstance(clock, SystemClock)
    assert application.polling_arguments == {"allowed_updates": Update.ALL_TYPES}
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("telegram.Bot").getEffectiveLevel() >= logging.WARNING


class _RejectingBotApi(BaseHTTPRequestHandler):
    """A Bot API server that responds to every request with 401 Unauthorized."""

    def do_POST(self) -> None:
        body = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def rejecting_bot_api() -> Iterator[str]:
    """Base URL of a loopback Bot API server that rejects every token."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RejectingBotApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bot"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_run_rejected_token_hidden(
    run_cli,
    config: Path,
    rejecting_bot_api: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    restored_logging: None,
    polling_event_loop: None,
) -> None:
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{rejecting_bot_api}"\n',
        encoding="utf-8",
    )

    status, out, err = run_cli("run")

    assert status == 2
    assert "rejected the bot token" in err
    assert TOKEN not in out
    assert TOKEN not in err
    assert TOKEN not in caplog.text


@pytest.fixture
def closed_port() -> int:
    """A loopback port that was free a moment ago and has no listener."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_unreachable_bot_api(
    run_cli,
    config: Path,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
    restored_logging: None,
    polling_event_loop: None,
) -> None:
    base_url = f"http://127.0.0.1:{closed_port}/bot"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{base_url}"\n',
        encoding="utf-8",
    )

    status, out, err = run_cli("run")

    assert status == 1
    assert err.startswith("licensebot: error: Cannot reach the Bot API server")
    assert TOKEN not in out
    assert TOKEN not in err
    assert TOKEN not in caplog.text
