"""Tests of ``licensebot stock add``, run in-process against a SQLite file in tmp_path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli.main import main
from core.use_cases.supply import MAX_STOCK_ADDITION
from storage.database import Database


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'stock.sqlite3'}"


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
def tree(run_cli) -> None:
    for args in (
        ("--tier", "hq", "--name", "Head Office"),
        ("--tier", "bc", "--name", "BC North", "--parent", "Head Office"),
        ("--tier", "dealer", "--name", "Dealer North", "--parent", "BC North"),
        ("--tier", "customer", "--name", "Clinic North", "--parent", "Dealer North"),
    ):
        status, _, err = run_cli("org", "add", *args)
        assert status == 0, err


def stock_in_database(database_url: str, dealer: str) -> int:
    async def count() -> int:
        database = Database(database_url)
        try:
            async with database.unit_of_work() as uow:
                organisation = await uow.organisations.get_by_name(dealer)
                assert organisation is not None
                return await uow.licenses.count_in_stock(organisation.id)
        finally:
            await database.dispose()

    return asyncio.run(count())


def test_stock_add_prints_level(run_cli, tree, database_url: str) -> None:
    status, out, err = run_cli("stock", "add", "--dealer", "Dealer North", "--count", "25")

    assert status == 0, err
    assert out == "Added 25 licenses to the stock of Dealer North.\nStock now: 25 licenses.\n"
    assert stock_in_database(database_url, "Dealer North") == 25


def test_stock_add_accumulates(run_cli, tree) -> None:
    run_cli("stock", "add", "--dealer", "Dealer North", "--count", "25")

    status, out, _ = run_cli("stock", "add", "--dealer", "dealer north", "--count", "1")

    assert status == 0
    assert out == "Added 1 license to the stock of Dealer North.\nStock now: 26 licenses.\n"


def test_stock_add_maximum(run_cli, tree, database_url: str) -> None:
    status, _, err = run_cli(
        "stock", "add", "--dealer", "Dealer North", "--count", str(MAX_STOCK_ADDITION)
    )

    assert status == 0, err
    assert stock_in_database(database_url, "Dealer North") == MAX_STOCK_ADDITION


@pytest.mark.parametrize("count", ["0", "-1", str(MAX_STOCK_ADDITION + 1), "ten", "2.5", ""])
def test_stock_add_invalid_count(run_cli, tree, database_url: str, count: str) -> None:
    status, out, err = run_cli("stock", "add", "--dealer", "Dealer North", "--count", count)

    assert status == 2
    assert out == ""
    assert f"use a whole number from 1 to {MAX_STOCK_ADDITION}" in err
    assert stock_in_database(database_url, "Dealer North") == 0


@pytest.mark.parametrize("name", ["Clinic North", "BC North", "Head Office"])
def test_stock_add_non_dealer(run_cli, tree, name: str) -> None:
    status, out, err = run_cli("stock", "add", "--dealer", name, "--count", "5")

    assert status == 2
    assert out == ""
    assert "only dealers hold stock" in err


def test_stock_add_unknown_dealer(run_cli, tree) -> None:
    status, _, err = run_cli("stock", "add", "--dealer", "Dealer South", "--count", "5")

    assert status == 2
    assert "No organisation is named 'Dealer South'." in err


def test_stock_add_requires_options(run_cli) -> None:
    status, _, err = run_cli("stock", "add", "--count", "5")

    assert status == 2
    assert "--dealer" in err


def test_stock_help(run_cli) -> None:
    status, out, _ = run_cli("stock", "add", "--help")

    assert status == 0
    assert "--dealer NAME" in out
    assert f"from 1 to {MAX_STOCK_ADDITION}" in out
