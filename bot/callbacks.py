"""Callback data of inline buttons, built and parsed in one place.

Each button carries a short prefix and integer ids, never user text, and
stays well under Telegram's limit of 64 bytes. Parsing is strict: anything
that is not exactly one of these shapes is rejected as forged or outdated,
and every id is checked again by the use case that acts on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_DATA_BYTES = 64
# Database ids are 32-bit INTEGER columns on PostgreSQL.
_MAX_ID = 2**31 - 1


class InvalidCallbackData(ValueError):
    """Callback data that no button of this bot produces."""


@dataclass(frozen=True, slots=True)
class ShowHistoryPage:
    """Move the history message to ``page``; ``current`` is the page it shows."""

    page: int
    current: int


@dataclass(frozen=True, slots=True)
class AskCancelOrder:
    order_id: int
    page: int


@dataclass(frozen=True, slots=True)
class ConfirmCancelOrder:
    order_id: int
    page: int


@dataclass(frozen=True, slots=True)
class ChooseDealer:
    dealer_id: int


@dataclass(frozen=True, slots=True)
class ConfirmOrder:
    """Place the order drafted in the conversation identified by ``draft``."""

    draft: int


@dataclass(frozen=True, slots=True)
class DiscardOrder:
    draft: int


@dataclass(frozen=True, slots=True)
class AskIssue:
    """Show the confirmation step before issuing ``order_id``."""

    order_id: int


@dataclass(frozen=True, slots=True)
class ConfirmIssue:
    order_id: int


@dataclass(frozen=True, slots=True)
class DeclineIssue:
    order_id: int


@dataclass(frozen=True, slots=True)
class ShowPendingPage:
    """Move the /pending message to ``page``; ``current`` is the page it shows."""

    page: int
    current: int


@dataclass(frozen=True, slots=True)
class ShowInventoryPage:
    """Move the /inventory message to ``page``; ``current`` is the page it shows."""

    page: int
    current: int


@dataclass(frozen=True, slots=True)
class ConfirmAssign:
    """Assign the license previewed in the /assign form identified by ``draft``."""

    draft: int


@dataclass(frozen=True, slots=True)
class DiscardAssign:
    draft: int


@dataclass(frozen=True, slots=True)
class ConfirmUnassign:
    """Take back the license previewed in the /unassign form identified by ``draft``."""

    draft: int


@dataclass(frozen=True, slots=True)
class DiscardUnassign:
    draft: int


@dataclass(frozen=True, slots=True)
class IssuancesPage:
    """Move the /issuances message to ``page``; ``current`` is the page it shows."""

    page: int
    current: int


@dataclass(frozen=True, slots=True)
class AskCancelIssuance:
    """Ask for the reason to cancel the issuance of ``order_id``, listed on ``page``."""

    order_id: int
    page: int


@dataclass(frozen=True, slots=True)
class ConfirmCancelIssuance:
    """Cancel the issuance of ``order_id`` drafted in the form identified by ``draft``."""

    order_id: int
    draft: int


@dataclass(frozen=True, slots=True)
class KeepIssuance:
    draft: int


CallbackData = (
    ShowHistoryPage
    | AskCancelOrder
    | ConfirmCancelOrder
    | ChooseDealer
    | ConfirmOrder
    | DiscardOrder
    | AskIssue
    | ConfirmIssue
    | DeclineIssue
    | ShowPendingPage
    | ShowInventoryPage
    | ConfirmAssign
    | DiscardAssign
    | ConfirmUnassign
    | DiscardUnassign
    | IssuancesPage
    | AskCancelIssuance
    | ConfirmCancelIssuance
    | KeepIssuance
)

_FORMATS: dict[type, tuple[str, tuple[str, ...]]] = {
    ShowHistoryPage: ("hp", ("page", "current")),
    AskCancelOrder: ("oc?", ("order_id", "page")),
    ConfirmCancelOrder: ("oc!", ("order_id", "page")),
    ChooseDealer: ("dl", ("dealer_id",)),
    ConfirmOrder: ("ord+", ("draft",)),
    DiscardOrder: ("ord-", ("draft",)),
    AskIssue: ("is?", ("order_id",)),
    ConfirmIssue: ("is!", ("order_id",)),
    DeclineIssue: ("is-", ("order_id",)),
    ShowPendingPage: ("pp", ("page", "current")),
    ShowInventoryPage: ("inv", ("page", "current")),
    ConfirmAssign: ("asg+", ("draft",)),
    DiscardAssign: ("asg-", ("draft",)),
    ConfirmUnassign: ("uas+", ("draft",)),
    DiscardUnassign: ("uas-", ("draft",)),
    IssuancesPage: ("ip", ("page", "current")),
    AskCancelIssuance: ("ic?", ("order_id", "page")),
    ConfirmCancelIssuance: ("ic!", ("order_id", "draft")),
    KeepIssuance: ("ic-", ("draft",)),
}
_BY_PREFIX = {prefix: (cls, fields) for cls, (prefix, fields) in _FORMATS.items()}
_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")

# Patterns for CallbackQueryHandler, so each handler sees only its own buttons.
HISTORY_PATTERN = re.compile(r"^(hp|oc\?|oc!):")
DEALER_PATTERN = re.compile(r"^dl:")
ORDER_FORM_PATTERN = re.compile(r"^ord[+-]:")
INVENTORY_PATTERN = re.compile(r"^inv:")
ASSIGN_FORM_PATTERN = re.compile(r"^asg[+-]:")
UNASSIGN_FORM_PATTERN = re.compile(r"^uas[+-]:")
ISSUING_PATTERN = re.compile(r"^(is[?!-]|pp):")
ISSUANCES_PAGE_PATTERN = re.compile(r"^ip:")
ISSUANCE_CANCEL_PATTERN = re.compile(r"^ic\?:")
ISSUANCE_FORM_PATTERN = re.compile(r"^ic[!-]:")


def encode(data: CallbackData) -> str:
    prefix, fields = _FORMATS[type(data)]
    encoded = ":".join([prefix, *(str(getattr(data, name)) for name in fields)])
    if len(encoded.encode()) > MAX_CALLBACK_DATA_BYTES:
        raise ValueError(f"callback data {encoded!r} exceeds {MAX_CALLBACK_DATA_BYTES} bytes")
    return encoded


def decode(raw: str | None) -> CallbackData:
    """Return the button behind ``raw``, or raise InvalidCallbackData."""
    if not raw or len(raw.encode()) > MAX_CALLBACK_DATA_BYTES:
        raise InvalidCallbackData(raw)
    prefix, *values = raw.split(":")
    entry = _BY_PREFIX.get(prefix)
    if entry is None:
        raise InvalidCallbackData(raw)
    cls, fields = entry
    if len(values) != len(fields) or not all(_NUMBER.fullmatch(v) for v in values):
        raise InvalidCallbackData(raw)
    numbers = [int(v) for v in values]
    if any(n > _MAX_ID for n in numbers):
        raise InvalidCallbackData(raw)
    return cls(*numbers)


# Buttons of reminders, registered after the table above.


@dataclass(frozen=True, slots=True)
class OrderMissing:
    """Start the order form with ``quantity`` licenses, the number a shortage warning names."""

    quantity: int


CallbackData = CallbackData | OrderMissing
_FORMATS[OrderMissing] = ("om", ("quantity",))
_BY_PREFIX["om"] = (OrderMissing, _FORMATS[OrderMissing][1])
ORDER_MISSING_PATTERN = re.compile(r"^om:")
