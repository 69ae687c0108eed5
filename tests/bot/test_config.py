"""Tests of bot.config: defaults, every key, environment overrides and error messages."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.config import (
    ConfigError,
    Settings,
    default_database_url,
    load_settings,
    require_token,
)
from core.policy import LicensingPolicy
from core.reminders import ReminderPolicy

TOKEN = "123456789:AAFakeTokenForTestsOnly_0123456789ab"
DATABASE_PASSWORD = "database-password-for-tests"

EVERY_KEY = f"""
[telegram]
token = "{TOKEN}"
base_url = "http://127.0.0.1:8081/bot"

[database]
url = "postgresql+asyncpg://licensebot:{DATABASE_PASSWORD}@127.0.0.1:5432/licensebot"

[licensing]
cancel_window_days = 30
max_licenses_per_order = 250

[bot]
page_size = 5
default_timezone = "Europe/Berlin"
"""


@pytest.fixture(autouse=True)
def _work_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # load_settings looks for ./licensebot.toml, so keep the repository's
    # working directory out of every test.
    monkeypatch.chdir(tmp_path)


def write_config(directory: Path, text: str, name: str = "licensebot.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path | None = None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ=environ or {})
    return str(raised.value)


# Defaults and reading every key


def test_defaults_without_config_file(tmp_path: Path) -> None:
    settings = load_settings(environ={})

    assert settings.source_path is None
    assert settings.telegram.token is None
    assert settings.telegram.base_url is None
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path / 'licensebot.sqlite3'}"
    assert settings.licensing.cancel_window_days == 14
    assert settings.licensing.max_licenses_per_order == 1000
    assert settings.bot.page_size == 10
    assert settings.bot.default_timezone == "UTC"


def test_defaults_match_core_policy() -> None:
    assert load_settings(environ={}).policy == LicensingPolicy()


def test_settings_constructed_directly_use_defaults(tmp_path: Path) -> None:
    settings = Settings()

    assert settings.database.url == default_database_url(tmp_path)
    assert settings.policy == LicensingPolicy()


def test_every_key_read(tmp_path: Path) -> None:
    path = write_config(tmp_path, EVERY_KEY)

    settings = load_settings(path, environ={})

    assert settings.source_path == path
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == TOKEN
    assert settings.telegram.base_url == "http://127.0.0.1:8081/bot"
    assert settings.database.url == (
        f"postgresql+asyncpg://licensebot:{DATABASE_PASSWORD}@127.0.0.1:5432/licensebot"
    )
    assert settings.licensing.cancel_window_days == 30
    assert settings.licensing.max_licenses_per_order == 250
    assert settings.bot.page_size == 5
    assert settings.bot.default_timezone == "Europe/Berlin"


def test_policy_built_from_settings(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, EVERY_KEY), environ={})

    assert settings.policy == LicensingPolicy(
        cancel_window=timedelta(days=30), max_licenses_per_order=250, page_size=5
    )


def test_default_database_next_to_config_file(tmp_path: Path) -> None:
    config_directory = tmp_path / "etc"
    config_directory.mkdir()
    path = write_config(config_directory, "[bot]\npage_size = 3\n")

    settings = load_settings(path, environ={})

    expected = f"sqlite+aiosqlite:///{config_directory / 'licensebot.sqlite3'}"
    assert settings.database.url == expected


def test_sqlite_file_url_accepted(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}"
    path = write_config(tmp_path, f'[database]\nurl = "{url}"\n')

    assert load_settings(path, environ={}).database.url == url


def test_token_whitespace_stripped(tmp_path: Path) -> None:
    path = write_config(tmp_path, f'[telegram]\ntoken = "  {TOKEN}\\n"\n')

    assert require_token(load_settings(path, environ={})) == TOKEN


def test_blank_token_counts_as_missing(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[telegram]\ntoken = "   "\n')

    assert load_settings(path, environ={}).telegram.token is None


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})

    with pytest.raises(ValueError, match="frozen"):
        settings.bot.page_size = 20  # type: ignore[misc]


# Finding the configuration file


def test_default_file_in_current_directory_read(tmp_path: Path) -> None:
    write_config(tmp_path, "[bot]\npage_size = 7\n")

    settings = load_settings(environ={})

    assert settings.bot.page_size == 7
    assert settings.source_path == Path("licensebot.toml")


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[bot]\npage_size = 4\n", name="other.toml")
    write_config(tmp_path, "[bot]\npage_size = 7\n")

    settings = load_settings(environ={"LICENSEBOT_CONFIG": str(path)})

    assert settings.bot.page_size == 4
    assert settings.source_path == path


def test_explicit_path_beats_environment(tmp_path: Path) -> None:
    explicit = write_config(tmp_path, "[bot]\npage_size = 3\n", name="explicit.toml")
    named = write_config(tmp_path, "[bot]\npage_size = 4\n", name="named.toml")

    settings = load_settings(explicit, environ={"LICENSEBOT_CONFIG": str(named)})

    assert settings.bot.page_size == 3


def test_empty_config_variable_ignored(tmp_path: Path) -> None:
    write_config(tmp_path, "[bot]\npage_size = 7\n")

    assert load_settings(environ={"LICENSEBOT_CONFIG": ""}).bot.page_size == 7


def test_missing_explicit_file_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path / "absent.toml")

    assert "absent.toml" in message
    assert "--config" in message
    assert "not found" in message


def test_missing_file_from_environment_rejected(tmp_path: Path) -> None:
    message = load_error(environ={"LICENSEBOT_CONFIG": str(tmp_path / "absent.toml")})

    assert "absent.toml" in message
    assert "LICENSEBOT_CONFIG" in message
    assert "not found" in message


def test_directory_as_config_file_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path)

    assert str(tmp_path) in message
    assert "is a directory" in message


def test_non_utf8_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[bot]\ndefault_timezone = "Zürich"\n'.encode("latin-1"))

    message = load_error(path)

    assert "latin1.toml" in message
    assert "UTF-8" in message


# Environment overrides


def test_token_from_environment(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[telegram]\ntoken = "0:from-file"\n')

    settings = load_settings(path, environ={"LICENSEBOT_TOKEN": TOKEN})

    assert require_token(settings) == TOKEN


def test_database_url_from_environment(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[database]\nurl = "sqlite+aiosqlite:///from-file.db"\n')
    url = f"sqlite+aiosqlite:///{tmp_path / 'from-environment.db'}"

    settings = load_settings(path, environ={"LICENSEBOT_DATABASE_URL": url})

    assert settings.database.url == url


def test_empty_override_variables_ignored(tmp_path: Path) -> None:
    path = write_config(tmp_path, EVERY_KEY)

    settings = load_settings(path, environ={"LICENSEBOT_TOKEN": "", "LICENSEBOT_DATABASE_URL": ""})

    assert require_token(settings) == TOKEN
    assert DATABASE_PASSWORD in settings.database.url


def test_invalid_override_names_variable(tmp_path: Path) -> None:
    message = load_error(environ={"LICENSEBOT_DATABASE_URL": "mysql://root@127.0.0.1/db"})

    assert "environment variable LICENSEBOT_DATABASE_URL" in message
    assert "database.url" in message


def test_os_environ_used_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICENSEBOT_TOKEN", TOKEN)

    assert require_token(load_settings()) == TOKEN


# Error messages


def test_unknown_key_named_with_accepted_keys(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[licensing]\ncancel_window = 14\n")

    message = load_error(path)

    assert str(path) in message
    assert "unknown key licensing.cancel_window" in message
    assert "cancel_window_days, max_licenses_per_order" in message


def test_unknown_section_named(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[logging]\nlevel = 'INFO'\n")

    message = load_error(path)

    assert "logging" in message
    assert "[telegram], [database], [licensing], [bot]" in message


def test_section_as_plain_value_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, "bot = 5\n")

    message = load_error(path)

    assert "bot must be a table" in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[licensing]\ncancel_window_days = "14"\n', "licensing.cancel_window_days"),
        ("[licensing]\nmax_licenses_per_order = 10.0\n", "licensing.max_licenses_per_order"),
        ("[bot]\npage_size = true\n", "bot.page_size"),
        ("[bot]\ndefault_timezone = 1\n", "bot.default_timezone"),
        ("[telegram]\nbase_url = 8081\n", "telegram.base_url"),
    ],
)
def test_wrong_type_named(tmp_path: Path, text: str, key: str) -> None:
    path = write_config(tmp_path, text)

    message = load_error(path)

    assert str(path) in message
    assert f"invalid value for {key}" in message
    assert "Set it to" in message


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[licensing]\ncancel_window_days = 0\n", "licensing.cancel_window_days", "1 to 365"),
        ("[licensing]\ncancel_window_days = 366\n", "licensing.cancel_window_days", "1 to 365"),
        (
            "[licensing]\nmax_licenses_per_order = 0\n",
            "licensing.max_licenses_per_order",
            "1 to 1000000",
        ),
        (
            "[licensing]\nmax_licenses_per_order = 1_000_001\n",
            "licensing.max_licenses_per_order",
            "1 to 1000000",
        ),
        ("[bot]\npage_size = 0\n", "bot.page_size", "1 to 10"),
        ("[bot]\npage_size = 11\n", "bot.page_size", "1 to 10"),
    ],
)
def test_out_of_range_named(tmp_path: Path, text: str, key: str, expected: str) -> None:
    path = write_config(tmp_path, text)

    message = load_error(path)

    assert f"invalid value for {key}" in message
    assert expected in message


def test_range_limits_accepted(tmp_path: Path) -> None:
    text = (
        "[licensing]\ncancel_window_days = 365\nmax_licenses_per_order = 1_000_000\n"
        "[bot]\npage_size = 10\n"
    )

    settings = load_settings(write_config(tmp_path, text), environ={})

    assert settings.licensing.cancel_window_days == 365
    assert settings.licensing.max_licenses_per_order == 1_000_000
    assert settings.bot.page_size == 10


def test_unknown_timezone_named(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[bot]\ndefault_timezone = "Mars/Olympus_Mons"\n')

    message = load_error(path)

    assert "bot.default_timezone" in message
    assert "Mars/Olympus_Mons" in message
    assert "IANA" in message


@pytest.mark.parametrize(
    "base_url", ["ftp://127.0.0.1/bot", "127.0.0.1:8081/bot", "http:///bot", "file:///tmp/bot"]
)
def test_non_http_base_url_rejected(tmp_path: Path, base_url: str) -> None:
    path = write_config(tmp_path, f'[telegram]\nbase_url = "{base_url}"\n')

    message = load_error(path)

    assert "telegram.base_url" in message
    assert "http://" in message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://licensebot@127.0.0.1/licensebot",
        "sqlite:///licensebot.sqlite3",
        "mysql+aiomysql://licensebot@127.0.0.1/licensebot",
        "licensebot.sqlite3",
    ],
)
def test_unsupported_database_url_rejected(tmp_path: Path, url: str) -> None:
    path = write_config(tmp_path, f'[database]\nurl = "{url}"\n')

    message = load_error(path)

    assert "database.url" in message
    assert "sqlite+aiosqlite://" in message
    assert "postgresql+asyncpg://" in message


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
def test_in_memory_database_rejected(tmp_path: Path, url: str) -> None:
    path = write_config(tmp_path, f'[database]\nurl = "{url}"\n')

    message = load_error(path)

    assert "database.url" in message
    assert "in-memory" in message


def test_malformed_toml_names_line_and_column(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[bot]\npage_size = 10\ndefault_timezone = \n")

    message = load_error(path)

    assert str(path) in message
    assert "invalid TOML" in message
    assert "line 3" in message
    assert "column" in message


def test_every_invalid_key_reported(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[bot]\npage_size = 0\nextra = 1\n")

    message = load_error(path)

    assert len(message.splitlines()) == 2
    assert "bot.page_size" in message
    assert "bot.extra" in message


# Scheduler and delivery

SCHEDULER_AND_DELIVERY = """
[scheduler]
tick_seconds = 5
window_reminder_hours = 48
issuance_reminder_hours = 12
expiry_reminder_days = [7, 60, 1]
shortage_horizon_days = 30

[delivery]
interval_seconds = 60
max_messages_per_second = 1
max_messages_per_chat_per_second = 0.05
claim_timeout_seconds = 3600
max_attempts = 20
quiet_hours_start = "23:59"
quiet_hours_end = "00:00"
"""


def test_scheduler_and_delivery_defaults() -> None:
    settings = load_settings(environ={})

    assert settings.scheduler.tick_seconds == 60
    assert settings.scheduler.expiry_reminder_days == [30, 7]
    assert settings.delivery.interval_seconds == 2
    assert settings.delivery.max_messages_per_second == 30
    assert settings.delivery.max_messages_per_chat_per_second == 1.0
    assert settings.delivery.claim_timeout_seconds == 600
    assert settings.delivery.max_attempts == 5
    assert settings.delivery.quiet_hours == (time(22, 0), time(7, 0))


def test_default_reminders_match_core() -> None:
    assert load_settings(environ={}).reminders == ReminderPolicy()


def test_scheduler_and_delivery_read(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, SCHEDULER_AND_DELIVERY), environ={})

    assert settings.scheduler.tick_seconds == 5
    assert settings.delivery.interval_seconds == 60
    assert settings.delivery.max_messages_per_second == 1
    assert settings.delivery.max_messages_per_chat_per_second == 0.05
    assert settings.delivery.claim_timeout_seconds == 3600
    assert settings.delivery.max_attempts == 20
    assert settings.delivery.quiet_hours == (time(23, 59), time(0, 0))


def test_reminders_built_from_settings(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, SCHEDULER_AND_DELIVERY), environ={})

    assert settings.reminders == ReminderPolicy(
        window_lead=timedelta(hours=48),
        issuance_lead=timedelta(hours=12),
        expiry_leads=(timedelta(days=60), timedelta(days=7), timedelta(days=1)),
        shortage_horizon=timedelta(days=30),
    )


def test_no_expiry_reminders_accepted(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[scheduler]\nexpiry_reminder_days = []\n")

    assert load_settings(path, environ={}).reminders.expiry_leads == ()


def test_whole_rate_per_chat_accepted(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[delivery]\nmax_messages_per_chat_per_second = 1\n")

    assert load_settings(path, environ={}).delivery.max_messages_per_chat_per_second == 1.0


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[scheduler]\ntick_seconds = 4\n", "scheduler.tick_seconds", "5 to 3600"),
        ("[scheduler]\ntick_seconds = 3601\n", "scheduler.tick_seconds", "5 to 3600"),
        (
            "[scheduler]\nwindow_reminder_hours = 0\n",
            "scheduler.window_reminder_hours",
            "1 to 336",
        ),
        (
            "[scheduler]\nissuance_reminder_hours = 337\n",
            "scheduler.issuance_reminder_hours",
            "1 to 336",
        ),
        (
            "[scheduler]\nexpiry_reminder_days = [30, 0]\n",
            "scheduler.expiry_reminder_days.1",
            "1 to 365",
        ),
        (
            "[scheduler]\nexpiry_reminder_days = [366]\n",
            "scheduler.expiry_reminder_days.0",
            "1 to 365",
        ),
        (
            "[scheduler]\nexpiry_reminder_days = [7, 30, 7]\n",
            "scheduler.expiry_reminder_days",
            "distinct",
        ),
        (
            "[scheduler]\nshortage_horizon_days = 0\n",
            "scheduler.shortage_horizon_days",
            "1 to 365",
        ),
        ("[delivery]\ninterval_seconds = 0\n", "delivery.interval_seconds", "1 to 60"),
        ("[delivery]\ninterval_seconds = 61\n", "delivery.interval_seconds", "1 to 60"),
        (
            "[delivery]\nmax_messages_per_second = 31\n",
            "delivery.max_messages_per_second",
            "1 to 30",
        ),
        (
            "[delivery]\nmax_messages_per_chat_per_second = 0.04\n",
            "delivery.max_messages_per_chat_per_second",
            "0.05 to 1",
        ),
        (
            "[delivery]\nmax_messages_per_chat_per_second = 1.5\n",
            "delivery.max_messages_per_chat_per_second",
            "0.05 to 1",
        ),
        (
            "[delivery]\nclaim_timeout_seconds = 59\n",
            "delivery.claim_timeout_seconds",
            "60 to 3600",
        ),
        ("[delivery]\nmax_attempts = 0\n", "delivery.max_attempts", "1 to 20"),
        ("[delivery]\nmax_attempts = 21\n", "delivery.max_attempts", "1 to 20"),
    ],
)
def test_scheduler_and_delivery_range_named(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = write_config(tmp_path, text)

    message = load_error(path)

    assert f"invalid value for {key}" in message
    assert expected in message


@pytest.mark.parametrize("value", ['"7:00"', '"24:00"', '"07:60"', '"07:00:00"', '"7am"', "700"])
def test_invalid_quiet_hours_named(tmp_path: Path, value: str) -> None:
    path = write_config(tmp_path, f"[delivery]\nquiet_hours_end = {value}\n")

    message = load_error(path)

    assert "invalid value for delivery.quiet_hours_end" in message
    assert "HH:MM" in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[scheduler]\ntick_seconds = "60"\n', "scheduler.tick_seconds"),
        ("[scheduler]\nexpiry_reminder_days = 30\n", "scheduler.expiry_reminder_days"),
        ("[scheduler]\nexpiry_reminder_days = [30.0]\n", "scheduler.expiry_reminder_days.0"),
        (
            "[delivery]\nmax_messages_per_chat_per_second = true\n",
            "delivery.max_messages_per_chat_per_second",
        ),
        ("[delivery]\nmax_messages_per_second = 29.5\n", "delivery.max_messages_per_second"),
    ],
)
def test_scheduler_and_delivery_type_named(tmp_path: Path, text: str, key: str) -> None:
    path = write_config(tmp_path, text)

    message = load_error(path)

    assert f"invalid value for {key}" in message
    assert "Set it to" in message


def test_example_config_holds_defaults() -> None:
    example = Path(__file__).parents[2] / "config.example.toml"

    settings = load_settings(example, environ={})

    assert settings.scheduler == load_settings(environ={}).scheduler
    assert settings.delivery == load_settings(environ={}).delivery


# Secrets


def test_token_missing_error_explains_fix() -> None:
    with pytest.raises(ConfigError) as raised:
        require_token(load_settings(environ={}))

    message = str(raised.value)
    assert "telegram.token" in message
    assert "LICENSEBOT_TOKEN" in message
    assert "@BotFather" in message


def test_token_absent_from_str_and_repr(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, EVERY_KEY), environ={})

    for text in (str(settings), repr(settings), str(settings.telegram), repr(settings.telegram)):
        assert TOKEN not in text
    assert "**********" in repr(settings.telegram.token)


def test_database_password_masked_in_repr(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, EVERY_KEY), environ={})

    assert DATABASE_PASSWORD not in repr(settings)
    assert DATABASE_PASSWORD not in str(settings)
    assert "postgresql+asyncpg://licensebot:***@127.0.0.1:5432/licensebot" in repr(settings)


@pytest.mark.parametrize(
    "text",
    [
        # The token in a list, at the top level, next to an unknown key, next
        # to an invalid value, and pasted into base_url.
        f'[telegram]\ntoken = ["{TOKEN}"]\n',
        f'token = "{TOKEN}"\n',
        f'[telegram]\ntoken = "{TOKEN}"\nbot_token = "{TOKEN}"\n',
        f'[telegram]\ntoken = "{TOKEN}"\n[bot]\npage_size = 0\n',
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "ftp://{TOKEN}"\n',
    ],
)
def test_token_absent_from_errors(tmp_path: Path, text: str) -> None:
    path = write_config(tmp_path, text)

    message = load_error(path)

    assert TOKEN not in message


def test_token_from_environment_absent_from_errors(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[bot]\npage_size = 0\n")

    message = load_error(path, environ={"LICENSEBOT_TOKEN": TOKEN})

    assert TOKEN not in message


def test_database_password_absent_from_errors(tmp_path: Path) -> None:
    url = f"postgresql://licensebot:{DATABASE_PASSWORD}@127.0.0.1/licensebot"

    message = load_error(environ={"LICENSEBOT_DATABASE_URL": url})

    assert DATABASE_PASSWORD not in message
    assert "postgresql" in message
