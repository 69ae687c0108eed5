"""Tests of ``licensebot notifications``, run in-process against a SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.main import main
from core.notifications import Notification, NotificationStatus
from core.policy import LicensingPolicy
from core.use_cases.ordering import place_order
from storage.database import Database
from storage.outbox import Outbox
from tests.bot.conftest import AIKO, DANA, seed

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
RETRY_AT = NOW + timedelta(minutes=10)
# The outbox that the ``outbox`` fixture builds: one notification to DANA per
# order, ids 1 to 5, each in another state.
SENT, FAILED, UNREACHABLE, RETRYING, SENDING = 1, 2, 3, 4, 5
PENDING = 6


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'outbox.sqlite3'}"


@pytest.fixture
def run_cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run ``licensebot --config CONFIG ARGS`` and return (exit status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    for variable in ("LICENSEBOT_CONFIG", "LICENSEBOT_TOKEN", "LICENSEBOT_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    config = tmp_path / "licensebot.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["--config", str(config), *args])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


@pytest.fixture
def outbox(database_url: str) -> None:
    """Store six notifications to DANA: sent, failed, unreachable, retrying, sending, pending."""

    async def build() -> None:
        database = Database(database_url)
        try:
            await database.create_schema()
            await seed(database, NOW)
            for number in range(1, PENDING + 1):
                await place_order(
                    database.unit_of_work(),
                    telegram_user_id=AIKO.id,
                    po_number=f"PO {number}",
                    quantity=1,
                    policy=LicensingPolicy(),
                    now=NOW,
                )
            outbox = Outbox(database)
            claimed = await outbox.claim_due(
                now=NOW, limit=SENDING, claimer="test", stale_after=timedelta(minutes=10)
            )
            assert [item.id for item in claimed] == [SENT, FAILED, UNREACHABLE, RETRYING, SENDING]
            await outbox.mark_sent(SENT, claimer="test", message_id=50, now=NOW)
            await outbox.mark_failed(FAILED, claimer="test", error="Internal Server Error")
            await outbox.mark_unreachable(
                UNREACHABLE, claimer="test", error="Forbidden: bot was blocked\nby the user"
            )
            await outbox.mark_retry(
                RETRYING, claimer="test", error="Bad Gateway", retry_at=RETRY_AT
            )
        finally:
            await database.dispose()

    asyncio.run(build())


def stored(database_url: str, notification_id: int) -> Notification:
    async def read() -> Notification | None:
        database = Database(database_url)
        try:
            return await Outbox(database).get(notification_id)
        finally:
            await database.dispose()

    notification = asyncio.run(read())
    assert notification is not None
    return notification


def rows(out: str) -> dict[int, str]:
    """Return the listed lines after the header, by notification id."""
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["ID", "STATUS", "KIND", "CHAT", "ATTEMPTS"]
    return {int(line.split()[0]): line for line in lines[1:]}


# Listing


def test_list_unsent_newest_first(run_cli, outbox) -> None:
    status, out, err = run_cli("notifications")

    assert status == 0, err
    assert list(rows(out)) == [PENDING, SENDING, RETRYING, UNREACHABLE, FAILED]


def test_list_shows_columns(run_cli, outbox) -> None:
    _, out, _ = run_cli("notifications")

    listed = rows(out)
    assert listed[FAILED].split()[:5] == ["2", "failed", "order_placed", str(DANA.id), "1"]
    assert listed[FAILED].split()[5:] == ["-", "Internal", "Server", "Error"]
    assert "2026-12-04 09:10:00  Bad Gateway" in listed[RETRYING]
    assert listed[PENDING].split()[4:] == ["0", "now", "-"]
    assert listed[UNREACHABLE].endswith("Forbidden: bot was blocked by the user")


def test_list_by_status(run_cli, outbox) -> None:
    status, out, _ = run_cli("notifications", "--status", "failed, UNREACHABLE")

    assert status == 0
    assert list(rows(out)) == [UNREACHABLE, FAILED]


def test_list_sent_with_limit(run_cli, outbox) -> None:
    status, out, _ = run_cli("notifications", "--status", "sent,pending", "--limit", "2")

    assert status == 0
    assert list(rows(out)) == [PENDING, RETRYING]


def test_list_nothing_found(run_cli, outbox) -> None:
    run_cli("notifications", "retry", str(FAILED))

    status, out, _ = run_cli("notifications", "--status", "failed")

    assert status == 0
    assert out == "No notifications with status failed.\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--status", "lost"), "invalid status 'lost': use one or more of pending, sending,"),
        (("--status", ""), "invalid status ''"),
        (("--limit", "0"), "invalid limit '0': use a whole number from 1 to 1000"),
        (("--limit", "1001"), "invalid limit '1001'"),
        (("--limit", "ten"), "invalid limit 'ten'"),
    ],
)
def test_list_invalid_option(run_cli, args: tuple[str, ...], expected: str) -> None:
    status, out, err = run_cli("notifications", *args)

    assert status == 2
    assert out == ""
    assert expected in err


def test_list_limit_maximum(run_cli, outbox) -> None:
    status, _, _ = run_cli("notifications", "--limit", "1000")

    assert status == 0


# Retrying


@pytest.mark.parametrize("notification_id", [FAILED, UNREACHABLE])
def test_retry_requeues(run_cli, outbox, database_url: str, notification_id: int) -> None:
    status, out, err = run_cli("notifications", "retry", str(notification_id))

    requeued = stored(database_url, notification_id)
    assert status == 0, err
    assert out.startswith(f"Notification {notification_id} (order_placed to chat {DANA.id})")
    assert requeued.status is NotificationStatus.PENDING
    assert requeued.attempts == 0
    assert requeued.next_attempt_at is None


def test_retry_unknown_id(run_cli, outbox) -> None:
    status, out, err = run_cli("notifications", "retry", "999")

    assert status == 2
    assert out == ""
    assert "notification 999 not found" in err


def test_retry_sent(run_cli, outbox, database_url: str) -> None:
    status, _, err = run_cli("notifications", "retry", str(SENT))

    assert status == 2
    assert "notification 1 was already sent at 2026-12-04 09:00:00 UTC" in err
    assert stored(database_url, SENT).status is NotificationStatus.SENT


@pytest.mark.parametrize(
    ("notification_id", "state"), [(PENDING, "pending"), (SENDING, "sending")]
)
def test_retry_unsent(run_cli, outbox, notification_id: int, state: str) -> None:
    status, _, err = run_cli("notifications", "retry", str(notification_id))

    assert status == 2
    assert f"notification {notification_id} is {state}" in err
    assert "Only failed and unreachable notifications can be retried." in err


@pytest.mark.parametrize(
    "text", ["abc", "0", "-3", "9223372036854775808", "99999999999999999999", "1_0", "١٢"]
)
def test_retry_invalid_id(run_cli, text: str) -> None:
    status, _, err = run_cli("notifications", "retry", text)

    assert status == 2
    assert f"invalid notification id '{text}'" in err
