"""Settings of the bot, read from one TOML file and a few environment variables.

The file is found in this order: the path given to ``load_settings`` (the
``--config`` option), the ``LICENSEBOT_CONFIG`` environment variable, then
``licensebot.toml`` in the current directory. Only the last may be missing,
in which case every setting takes its default. ``LICENSEBOT_TOKEN`` and
``LICENSEBOT_DATABASE_URL`` override the file's ``telegram.token`` and
``database.url``. An empty environment variable counts as unset.

config.example.toml lists every key with its unit and default.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from core.errors import InvalidInput
from core.organisations import validate_timezone
from core.policy import LicensingPolicy
from core.reminders import ReminderPolicy

CONFIG_PATH_VARIABLE = "LICENSEBOT_CONFIG"
TOKEN_VARIABLE = "LICENSEBOT_TOKEN"
DATABASE_URL_VARIABLE = "LICENSEBOT_DATABASE_URL"

DEFAULT_CONFIG_FILENAME = "licensebot.toml"
DEFAULT_DATABASE_FILENAME = "licensebot.sqlite3"

SUPPORTED_DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")

# A time of day as two-digit hours and minutes on a 24-hour clock.
_TIME_OF_DAY = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")

# Keys whose values must never appear in an error message or repr.
_SECRET_KEYS = frozenset({"telegram.token", "database.url"})

# The environment variable that overrides each key, so that an error in an
# overridden value names the variable instead of the file.
_ENVIRONMENT_OVERRIDES = {
    ("telegram", "token"): TOKEN_VARIABLE,
    ("database", "url"): DATABASE_URL_VARIABLE,
}


class ConfigError(Exception):
    """Invalid, unreadable or missing configuration.

    The message names the file or environment variable, the dotted key and
    the fix. It never contains the bot token, and it shows only the scheme of
    a rejected database URL because the URL may contain a password.
    """


class _Section(BaseModel):
    # strict=True rejects the string "14" for an integer and true for a
    # number, which lax mode would convert silently.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TelegramSettings(_Section):
    """Connection to the Telegram Bot API."""

    token: SecretStr | None = Field(
        default=None,
        description="the bot token that @BotFather issued, as a string",
    )
    base_url: str | None = Field(
        default=None,
        description=(
            "an http:// or https:// URL of a self-hosted Bot API server, "
            "such as http://127.0.0.1:8081/bot"
        ),
    )
    flood_control_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description=(
            "a whole number from 0 to 10: how often a request that Telegram answered "
            "with 429 (flood control) is sent again after the wait Telegram asks for"
        ),
    )

    @field_validator("token")
    @classmethod
    def _strip_token(cls, token: SecretStr | None) -> SecretStr | None:
        # A token pasted with a trailing newline would otherwise fail every request.
        if token is None:
            return None
        stripped = token.get_secret_value().strip()
        return SecretStr(stripped) if stripped else None

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, base_url: str | None) -> str | None:
        if base_url is None:
            return None
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PydanticCustomError(
                "invalid_base_url", "Not an http:// or https:// URL with a host name"
            )
        return base_url


class DatabaseSettings(_Section):
    """Database that stores organisations, members and orders."""

    url: str = Field(
        default_factory=lambda: default_database_url(Path.cwd()),
        description=(
            "a SQLAlchemy URL that starts with sqlite+aiosqlite:// "
            "or postgresql+asyncpg://, such as sqlite+aiosqlite:///licensebot.sqlite3"
        ),
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        if not url.startswith(SUPPORTED_DATABASE_SCHEMES):
            scheme = url.partition("://")[0] if "://" in url else "no scheme"
            raise PydanticCustomError(
                "unsupported_database_url",
                "Unsupported URL scheme ({scheme})",
                {"scheme": scheme},
            )
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise PydanticCustomError("invalid_database_url", "The URL cannot be parsed") from None
        if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
            raise PydanticCustomError(
                "in_memory_database",
                "An in-memory SQLite database would lose every change when the bot stops",
            )
        return url

    def __repr_args__(self) -> Iterator[tuple[str, Any]]:
        # A PostgreSQL URL may contain a password, so show it masked.
        yield "url", make_url(self.url).render_as_string(hide_password=True)


class LicensingSettings(_Section):
    """Limits of the ordering rules."""

    cancel_window_days: int = Field(
        default=14,
        ge=1,
        le=365,
        description="a whole number of days from 1 to 365",
    )
    max_licenses_per_order: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="a whole number of licenses from 1 to 1000000",
    )


class BotSettings(_Section):
    """Presentation in the chat."""

    # One Telegram message contains at most 4096 characters. The longest rows
    # (an issuance with a 100-character customer name, a 64-character PO
    # number and dates) take about 360 characters, so 10 of them still fit.
    page_size: int = Field(
        default=10,
        ge=1,
        le=10,
        description="a whole number of list entries per message from 1 to 10",
    )
    default_timezone: str = Field(
        default="UTC",
        description="an IANA time zone name such as UTC or Europe/Berlin",
    )

    @field_validator("default_timezone")
    @classmethod
    def _check_timezone(cls, zone: str) -> str:
        try:
            return validate_timezone(zone)
        except InvalidInput:
            raise PydanticCustomError("unknown_timezone", "Unknown time zone") from None


class SchedulerSettings(_Section):
    """The scan that derives reminders, expiries and shortages from the database."""

    tick_seconds: int = Field(
        default=60,
        ge=5,
        le=3600,
        description="a whole number of seconds from 5 to 3600 between two scans",
    )
    window_reminder_hours: int = Field(
        default=24,
        ge=1,
        le=336,
        description=(
            "a whole number of hours from 1 to 336: how long before an order's cancel "
            "window closes its customer is reminded"
        ),
    )
    issuance_reminder_hours: int = Field(
        default=24,
        ge=1,
        le=336,
        description=(
            "a whole number of hours from 1 to 336: how long before an issuance can no "
            "longer be cancelled headquarters and the business centre are reminded"
        ),
    )
    expiry_reminder_days: list[Annotated[int, Field(ge=1, le=365)]] = Field(
        default_factory=lambda: [30, 7],
        description=(
            "a list of distinct whole numbers of days from 1 to 365 before a license "
            "expires, such as [30, 7]. The empty list [] sends no reminder before the "
            "day of expiry"
        ),
    )
    shortage_horizon_days: int = Field(
        default=14,
        ge=1,
        le=365,
        description=(
            "a whole number of days from 1 to 365: how far ahead expiring licenses are "
            "counted against the unused ones"
        ),
    )

    @field_validator("expiry_reminder_days")
    @classmethod
    def _check_distinct(cls, days: list[int]) -> list[int]:
        if len(set(days)) != len(days):
            raise PydanticCustomError("duplicate_days", "A number of days appears twice")
        return days


class DeliverySettings(_Section):
    """Sending of the outbox: interval, rates, attempts, claim timeout and quiet hours."""

    interval_seconds: int = Field(
        default=2,
        ge=1,
        le=60,
        description="a whole number of seconds from 1 to 60 between two delivery runs",
    )
    max_messages_per_second: int = Field(
        default=30,
        ge=1,
        le=30,
        description="a whole number of messages per second from 1 to 30, for all chats together",
    )
    max_messages_per_chat_per_second: float = Field(
        default=1.0,
        ge=0.05,
        le=1.0,
        description=(
            "a number of messages per second from 0.05 to 1 to one chat, "
            "such as 0.5 for one message every 2 seconds"
        ),
    )
    claim_timeout_seconds: int = Field(
        default=600,
        ge=60,
        le=3600,
        description=(
            "a whole number of seconds from 60 to 3600 after which a claim of a "
            "stopped dispatcher is taken over"
        ),
    )
    max_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description=(
            "a whole number from 1 to 20: attempts at sending one notification "
            "before it is marked failed"
        ),
    )
    quiet_hours_start: str = Field(
        default="22:00",
        description="a time of day as HH:MM on a 24-hour clock, such as 22:00",
    )
    quiet_hours_end: str = Field(
        default="07:00",
        description="a time of day as HH:MM on a 24-hour clock, such as 07:00",
    )

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _check_time_of_day(cls, text: str) -> str:
        if _TIME_OF_DAY.fullmatch(text) is None:
            raise PydanticCustomError("invalid_time_of_day", "Not a time of day as HH:MM")
        return text

    @property
    def quiet_hours(self) -> tuple[time, time]:
        """Start and end of the quiet hours as local times. Equal times mean there are none."""
        return time.fromisoformat(self.quiet_hours_start), time.fromisoformat(self.quiet_hours_end)


class Settings(BaseModel):
    """Every setting of the bot, one attribute per TOML section."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    licensing: LicensingSettings = Field(default_factory=LicensingSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)

    _source_path: Path | None = PrivateAttr(default=None)

    @property
    def source_path(self) -> Path | None:
        """The configuration file these settings were read from, or None if none was."""
        return self._source_path

    @property
    def policy(self) -> LicensingPolicy:
        """The limits that the use cases enforce."""
        return LicensingPolicy(
            cancel_window=timedelta(days=self.licensing.cancel_window_days),
            max_licenses_per_order=self.licensing.max_licenses_per_order,
            page_size=self.bot.page_size,
        )

    @property
    def reminders(self) -> ReminderPolicy:
        """When the scheduler's scan finds reminders and shortages due."""
        scheduler = self.scheduler
        return ReminderPolicy(
            window_lead=timedelta(hours=scheduler.window_reminder_hours),
            issuance_lead=timedelta(hours=scheduler.issuance_reminder_hours),
            expiry_leads=tuple(
                timedelta(days=days)
                for days in sorted(scheduler.expiry_reminder_days, reverse=True)
            ),
            shortage_horizon=timedelta(days=scheduler.shortage_horizon_days),
        )


def default_database_url(directory: Path) -> str:
    """Return the URL of the default SQLite file in ``directory``."""
    path = (directory / DEFAULT_DATABASE_FILENAME).resolve()
    return URL.create("sqlite+aiosqlite", database=str(path)).render_as_string()


def load_settings(
    path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the configuration file, apply environment overrides and validate.

    ``path`` is the file named by ``--config``. ``environ`` defaults to
    ``os.environ``. Raises ConfigError for a missing named file, malformed
    TOML, an unknown key or an invalid value.
    """
    if environ is None:
        environ = os.environ

    config_path = _find_config_file(path, environ)
    data = _read_toml(config_path) if config_path is not None else {}
    overridden = _apply_environment(data, environ)

    database_directory = config_path.parent if config_path is not None else Path.cwd()
    database_section = data.setdefault("database", {})
    if isinstance(database_section, dict):
        database_section.setdefault("url", default_database_url(database_directory))

    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        lines = [_describe_error(detail, config_path, overridden) for detail in error.errors()]
        raise ConfigError(_redact_token("\n".join(lines), data)) from None
    settings._source_path = config_path
    return settings


def require_token(settings: Settings) -> str:
    """Return the bot token, or raise ConfigError if none is configured."""
    token = settings.telegram.token
    if token is None:
        raise ConfigError(
            "No bot token is configured. Set telegram.token in the configuration "
            f"file or the {TOKEN_VARIABLE} environment variable to the token "
            "that @BotFather issued."
        )
    return token.get_secret_value()


def _find_config_file(path: Path | None, environ: Mapping[str, str]) -> Path | None:
    if path is not None:
        _check_file_exists(path, "named by --config")
        return path
    named = environ.get(CONFIG_PATH_VARIABLE, "")
    if named:
        named_path = Path(named)
        _check_file_exists(named_path, f"named by {CONFIG_PATH_VARIABLE}")
        return named_path
    default_path = Path(DEFAULT_CONFIG_FILENAME)
    return default_path if default_path.exists() else None


def _check_file_exists(path: Path, origin: str) -> None:
    if path.is_dir():
        raise ConfigError(
            f"Configuration file {path} ({origin}) is a directory. Name the TOML file itself."
        )
    if not path.is_file():
        raise ConfigError(
            f"Configuration file {path} ({origin}) was not found. Check the path, "
            "or copy config.example.toml there and edit it."
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ConfigError(f"Configuration file {path} cannot be read: {error.strerror}.") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: invalid UTF-8 at byte {error.start}. Save the file as UTF-8."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # On Python 3.11 the position is only in the message, as "(at line L, column C)".
        raise ConfigError(f"{path}: invalid TOML: {error}. Fix the syntax there.") from None


def _apply_environment(data: dict[str, Any], environ: Mapping[str, str]) -> set[tuple[str, str]]:
    """Copy non-empty override variables into ``data`` and return the keys they set."""
    overridden: set[tuple[str, str]] = set()
    for (section_name, key), variable in _ENVIRONMENT_OVERRIDES.items():
        value = environ.get(variable, "")
        if not value:
            continue
        section = data.setdefault(section_name, {})
        # A section that is not a table is reported by validation instead.
        if isinstance(section, dict):
            section[key] = value
            overridden.add((section_name, key))
    return overridden


def _redact_token(message: str, data: dict[str, Any]) -> str:
    """Replace the token in ``message`` with ``***``.

    A value echoed from another key, such as a base_url with the token pasted
    into it, could otherwise show the token.
    """
    telegram = data.get("telegram")
    if not isinstance(telegram, dict):
        return message
    token = telegram.get("token")
    if not isinstance(token, str) or not token.strip():
        return message
    return message.replace(token.strip(), "***")


def _describe_error(
    detail: ErrorDetails, config_path: Path | None, overridden: set[tuple[str, str]]
) -> str:
    location = tuple(str(part) for part in detail["loc"])
    key = ".".join(location)
    if location[:2] in overridden:
        source = f"environment variable {_ENVIRONMENT_OVERRIDES[location[:2]]}"
    elif config_path is not None:
        source = str(config_path)
    else:
        source = "default settings"

    if detail["type"] == "extra_forbidden":
        return f"{source}: {_describe_unknown_key(location)}"
    if detail["type"] in ("model_type", "model_attributes_type"):
        return f"{source}: {key} must be a table. Write it as a [{key}] section."

    message = detail["msg"]
    if key not in _SECRET_KEYS and detail["type"] != "missing":
        message += f" (got {detail['input']!r})"
    expected = _field_description(location)
    fix = f" Set it to {expected}." if expected else ""
    return f"{source}: invalid value for {key}: {message}.{fix}"


def _describe_unknown_key(location: tuple[str, ...]) -> str:
    if len(location) == 1:
        accepted = ", ".join(f"[{name}]" for name in Settings.model_fields)
        return (
            f"unknown top-level key or section {location[0]}. "
            f"Only the sections {accepted} are accepted, and every key belongs in one of them."
        )
    section_name, key = location[0], ".".join(location[1:])
    section_model = Settings.model_fields[section_name].annotation
    accepted = ", ".join(section_model.model_fields)
    return f"unknown key {section_name}.{key}. Accepted keys in [{section_name}] are {accepted}."


def _field_description(location: tuple[str, ...]) -> str | None:
    # A list item's location has its index as a third part, such as
    # ("scheduler", "expiry_reminder_days", 0); the list's description fits it.
    if len(location) < 2 or location[0] not in Settings.model_fields:
        return None
    section_model = Settings.model_fields[location[0]].annotation
    field = section_model.model_fields.get(location[1])
    return field.description if field is not None else None
