"""Reading the JSON payload of a stored notification, with its types checked.

A payload was written by an earlier version of the code, perhaps, so every
value is checked before a text uses it. A missing key raises KeyError, a
value of the wrong type TypeError, a malformed one ValueError; the caller
turns each into ``InvalidPayload``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup

Rendered = tuple[str, InlineKeyboardMarkup | None]


class InvalidPayload(ValueError):
    """A stored notification lacks a value its text needs, or has one of the wrong type."""


def read_text(payload: Mapping[str, Any], key: str) -> str:
    value = payload[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string, not {type(value).__name__}")
    return value


def read_number(payload: Mapping[str, Any], key: str) -> int:
    value = payload[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{key} must be an integer, not {type(value).__name__}")
    return value


def read_moment(payload: Mapping[str, Any], key: str) -> datetime:
    """Return the ISO 8601 moment stored under ``key``; it must carry its UTC offset."""
    moment = datetime.fromisoformat(read_text(payload, key))
    if moment.tzinfo is None:
        raise ValueError(f"{key} has no UTC offset: {payload[key]!r}")
    return moment
