"""Orders, their statuses and the rules on PO numbers, quantities and cancelling."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.dates import local_date
from core.errors import (
    InvalidPoNumber,
    InvalidQuantity,
    IssuanceNotCancellable,
    OrderNotCancellable,
    OrderNotIssuable,
)
from core.text import comparison_key, has_bidi_control, has_line_break_or_control

MAX_PO_LENGTH = 64
_DIGITS = re.compile(r"[0-9]+")
# Longer input cannot be a number we accept; checking the length first keeps
# int() away from a 5,000-digit string.
_MAX_QUANTITY_DIGITS = 9


class OrderStatus(enum.StrEnum):
    """Status of an order; the value is stored, the label is shown."""

    ON_ORDER = "on_order"
    ISSUED = "issued"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    OrderStatus.ON_ORDER: "Licenses on Order",
    OrderStatus.ISSUED: "License Issued",
    OrderStatus.CANCELLED: "Order Canceled",
}


@dataclass(frozen=True, slots=True)
class Order:
    """A customer's order of licenses from one dealer.

    ``window_opened_at`` is when the current cancel window started: the
    moment the order was placed, or later the moment an issuance was
    cancelled and the order returned to Licenses on Order. ``version``
    grows with every change and guards against lost updates.
    """

    id: int
    customer_id: int
    dealer_id: int
    po_number: str
    quantity: int
    status: OrderStatus
    ordered_at: datetime
    window_opened_at: datetime
    placed_by_member_id: int
    issued_at: datetime | None = None
    cancelled_at: datetime | None = None
    version: int = 1

    def cancel_deadline(self, window: timedelta) -> datetime:
        """Return the first moment at which the order can no longer be cancelled."""
        return max(self.ordered_at + window, self.window_opened_at + window)

    def can_cancel(self, now: datetime, window: timedelta) -> bool:
        return self.status is OrderStatus.ON_ORDER and now < self.cancel_deadline(window)

    def cancelled(self, now: datetime, window: timedelta) -> Order:
        """Return this order as cancelled at ``now``, or raise OrderNotCancellable."""
        if self.status is OrderStatus.CANCELLED:
            raise OrderNotCancellable(f"Order {self.po_number} was already cancelled.")
        if self.status is OrderStatus.ISSUED:
            raise OrderNotCancellable(
                f"Order {self.po_number} has been issued, so it can no longer be cancelled."
            )
        if now >= self.cancel_deadline(window):
            raise OrderNotCancellable(
                f"The cancel window of order {self.po_number} has closed; an order "
                f"can be cancelled within {window.days} days of being placed."
            )
        return replace(
            self,
            status=OrderStatus.CANCELLED,
            cancelled_at=now,
            version=self.version + 1,
        )

    def issued(self, now: datetime, timezone: str) -> Order:
        """Return this order as issued at ``now``, or raise OrderNotIssuable.

        The refusal names the date of the issue or cancellation in ``timezone``.
        """
        if self.status is OrderStatus.ISSUED:
            raise OrderNotIssuable(
                f"Order {self.po_number} was already issued on "
                f"{local_date(self.issued_at, timezone)}."
            )
        if self.status is OrderStatus.CANCELLED:
            raise OrderNotIssuable(
                f"Order {self.po_number} was cancelled on "
                f"{local_date(self.cancelled_at, timezone)}, so it cannot be issued."
            )
        return replace(self, status=OrderStatus.ISSUED, issued_at=now, version=self.version + 1)

    def issuance_cancel_deadline(self, window: timedelta) -> datetime | None:
        return self.issued_at + window if self.issued_at is not None else None

    def issuance_cancelled(self, now: datetime, window: timedelta) -> Order:
        """Return this order back on order at ``now``, or raise IssuanceNotCancellable.

        The order's cancel window then runs again from ``now``, so the
        customer can still cancel it.
        """
        if self.status is not OrderStatus.ISSUED or self.issued_at is None:
            raise IssuanceNotCancellable(
                f"Order {self.po_number} is not issued, so there is no issuance to cancel."
            )
        if now >= self.issued_at + window:
            raise IssuanceNotCancellable(
                f"The issuance of order {self.po_number} is {window.days} days old or "
                "older, so it can no longer be cancelled."
            )
        return replace(
            self,
            status=OrderStatus.ON_ORDER,
            issued_at=None,
            window_opened_at=now,
            version=self.version + 1,
        )


@dataclass(frozen=True, slots=True)
class NewOrder:
    """The values of an order that has not been stored yet."""

    customer_id: int
    dealer_id: int
    po_number: str
    quantity: int
    ordered_at: datetime
    placed_by_member_id: int


def normalise_po_number(text: str) -> str:
    """Return the stored form of a PO number, or raise InvalidPoNumber.

    The text is put in Unicode normal form NFC, so that an accented letter
    typed as one character or as letter plus accent is the same PO. Leading
    and trailing whitespace is removed and inner runs of whitespace become one
    space. Control characters, line or paragraph separators and text-direction
    controls are rejected rather than removed, so that what is stored is what
    was meant and displays as typed.
    """
    text = unicodedata.normalize("NFC", text)
    if has_line_break_or_control(text):
        raise InvalidPoNumber(
            "A PO number must be on one line, without tabs or other control characters."
        )
    if has_bidi_control(text):
        raise InvalidPoNumber("A PO number must not contain text-direction control characters.")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidPoNumber("A PO number is required; send the number from your PO.")
    if len(cleaned) > MAX_PO_LENGTH:
        raise InvalidPoNumber(
            f"A PO number has at most {MAX_PO_LENGTH} characters; this one has {len(cleaned)}."
        )
    return cleaned


def po_number_key(po_number: str) -> str:
    """Return the form under which PO numbers are compared (see core.text.comparison_key)."""
    return comparison_key(normalise_po_number(po_number))


def parse_quantity(text: str, maximum: int) -> int:
    """Return the number of licenses in ``text``, or raise InvalidQuantity.

    Only a whole number written with the digits 0-9 is accepted, from 1 to
    ``maximum``. Signs, decimals, exponents and other scripts' digits are
    rejected.
    """
    accepted = f"Send a whole number from 1 to {maximum}."
    cleaned = text.strip()
    if not cleaned:
        raise InvalidQuantity(f"The number of licenses is required. {accepted}")
    if _DIGITS.fullmatch(cleaned) is None:
        raise InvalidQuantity(f"That is not a whole number. {accepted}")
    significant = cleaned.lstrip("0") or "0"
    if len(significant) > _MAX_QUANTITY_DIGITS:
        raise InvalidQuantity(f"That number is too large. {accepted}")
    quantity = int(significant)
    return check_quantity(quantity, maximum)


def check_quantity(quantity: int, maximum: int) -> int:
    """Return ``quantity`` if it is between 1 and ``maximum``, else raise InvalidQuantity."""
    if quantity < 1:
        raise InvalidQuantity(
            f"At least one license must be ordered. Send a whole number from 1 to {maximum}."
        )
    if quantity > maximum:
        raise InvalidQuantity(
            f"At most {maximum} licenses can be ordered at once. Send a whole "
            f"number from 1 to {maximum}, or place several orders."
        )
    return quantity
