"""``licensebot cards generate``, run in-process against a SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
import re
import stat
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from core.cards import normalise_key
from storage.database import Database

KEY_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cards.sqlite3'}"


@pytest.fixture
def config(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for variable in ("LICENSEBOT_CONFIG", "LICENSEBOT_TOKEN", "LICENSEBOT_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    path = tmp_path / "licensebot.toml"
    path.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    return path


@pytest.fixture
def run_cli(config: Path, capsys: pytest.CaptureFixture[str]):
    """Run ``licensebot --config CONFIG ARGS`` and return (exit status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["--config", str(config), *args])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def stored_keys(database_url: str, keys: list[str]) -> list[bool]:
    """Return, per key, whether the database holds it."""

    async def check() -> list[bool]:
        database = Database(database_url)
        try:
            await database.create_schema()
            async with database.unit_of_work() as uow:
                return [await uow.cards.exists(normalise_key(key)) for key in keys]
        finally:
            await database.dispose()

    return asyncio.run(check())


def test_generate_prints_keys(run_cli, database_url: str) -> None:
    status, out, err = run_cli("cards", "generate", "--count", "3")

    assert status == 0, err
    keys = out.splitlines()
    assert len(keys) == 3
    assert all(KEY_PATTERN.fullmatch(key) for key in keys), keys
    assert len(set(keys)) == 3
    assert stored_keys(database_url, keys) == [True, True, True]


def test_generated_keys_are_valid(run_cli) -> None:
    _, out, _ = run_cli("cards", "generate", "--count", "50")

    for key in out.splitlines():
        assert normalise_key(key) == key.replace("-", "")


def test_generate_one_key(run_cli) -> None:
    status, out, err = run_cli("cards", "generate", "--count", "1")

    assert status == 0, err
    assert len(out.splitlines()) == 1


def test_generate_maximum(run_cli) -> None:
    status, out, err = run_cli("cards", "generate", "--count", "10000")

    assert status == 0, err
    assert len(set(out.splitlines())) == 10000


@pytest.mark.parametrize("count", ["0", "-1", "10001"])
def test_count_out_of_range(run_cli, count: str) -> None:
    status, out, err = run_cli("cards", "generate", "--count", count)

    assert status == 2
    assert out == ""
    assert err == f"licensebot: error: --count must be from 1 to 10000, not {count}.\n"


@pytest.mark.parametrize("count", ["three", "1.5", ""])
def test_count_not_a_number(run_cli, count: str) -> None:
    status, out, err = run_cli("cards", "generate", "--count", count)

    assert status == 2
    assert out == ""
    assert f"argument --count: invalid int value: '{count}'" in err


def test_count_required(run_cli) -> None:
    status, _, err = run_cli("cards", "generate")

    assert status == 2
    assert "the following arguments are required: --count" in err


def test_generate_writes_file(run_cli, tmp_path: Path, database_url: str) -> None:
    out_file = tmp_path / "keys.txt"

    status, out, err = run_cli("cards", "generate", "--count", "4", "--out", str(out_file))

    assert status == 0, err
    assert out == f"Wrote 4 keys to {out_file}\n"
    keys = out_file.read_text(encoding="utf-8").splitlines()
    assert len(keys) == 4
    assert all(KEY_PATTERN.fullmatch(key) for key in keys), keys
    assert stored_keys(database_url, keys) == [True] * 4


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_file_readable_by_owner_only(run_cli, tmp_path: Path) -> None:
    out_file = tmp_path / "keys.txt"

    run_cli("cards", "generate", "--count", "1", "--out", str(out_file))

    assert stat.S_IMODE(out_file.stat().st_mode) & 0o077 == 0


def test_existing_file_kept(run_cli, tmp_path: Path) -> None:
    out_file = tmp_path / "keys.txt"
    out_file.write_text("earlier keys\n", encoding="utf-8")

    status, out, err = run_cli("cards", "generate", "--count", "2", "--out", str(out_file))

    assert status == 2
    assert out == ""
    assert err == (
        f"licensebot: error: {out_file} exists already. Keys are never written over an "
        "existing file, so name a new one.\n"
    )
    assert out_file.read_text(encoding="utf-8") == "earlier keys\n"


def test_existing_file_stores_nothing(run_cli, tmp_path: Path, database_url: str) -> None:
    out_file = tmp_path / "keys.txt"
    out_file.write_text("", encoding="utf-8")

    run_cli("cards", "generate", "--count", "2", "--out", str(out_file))

    assert not (tmp_path / "cards.sqlite3").exists()


def test_missing_directory(run_cli, tmp_path: Path) -> None:
    out_file = tmp_path / "missing" / "keys.txt"

    status, out, err = run_cli("cards", "generate", "--count", "2", "--out", str(out_file))

    assert status == 2
    assert out == ""
    assert err == f"licensebot: error: Cannot create {out_file}: No such file or directory.\n"


def test_failed_run_removes_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A database that cannot be opened leaves no empty key file behind."""
    config = tmp_path / "broken.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "missing" / "db.sqlite3"}"\n',
        encoding="utf-8",
    )
    out_file = tmp_path / "keys.txt"

    status = main(
        ["--config", str(config), "cards", "generate", "--count", "2", "--out", str(out_file)]
    )

    assert status == 1
    assert "directory" in capsys.readouterr().err
    assert not out_file.exists()


def test_cards_help_names_limit(run_cli) -> None:
    status, out, _ = run_cli("cards", "generate", "--help")

    assert status == 0
    assert "from 1 to 10000" in out
