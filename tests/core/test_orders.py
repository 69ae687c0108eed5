from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import (
    InvalidPoNumber,
    InvalidQuantity,
    IssuanceNotCancellable,
    OrderNotCancellable,
    OrderNotIssuable,
)
from core.orders import (
    Order,
    OrderStatus,
    check_quantity,
    normalise_po_number,
    parse_quantity,
    po_number_key,
)

ORDERED_AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)
MAXIMUM = 1000


def make_order(**changes: object) -> Order:
    order = Order(
        id=7,
        customer_id=2,
        dealer_id=3,
        po_number="PO-1",
        quantity=5,
        status=OrderStatus.ON_ORDER,
        ordered_at=ORDERED_AT,
        window_opened_at=ORDERED_AT,
        placed_by_member_id=4,
    )
    return replace(order, **changes)


# normalise_po_number


def test_po_number_strips_outer_whitespace() -> None:
    assert normalise_po_number("  PO-2025-17  ") == "PO-2025-17"


def test_po_number_collapses_inner_whitespace() -> None:
    # U+00A0 and U+3000 are whitespace too, so they join the run.
    assert normalise_po_number("PO   2025 \u00a0 17\u300018") == "PO 2025 17 18"


def test_po_number_accepts_64_characters() -> None:
    text = "P" * 64

    assert normalise_po_number(text) == text


def test_po_number_rejects_65_characters() -> None:
    with pytest.raises(InvalidPoNumber) as caught:
        normalise_po_number("P" * 65)

    assert "at most 64" in str(caught.value)
    assert "65" in str(caught.value)


def test_po_number_length_counts_after_collapsing() -> None:
    # 64 characters once the outer spaces and the inner run are collapsed.
    text = "   " + "A" * 31 + "     " + "B" * 32 + "   "

    assert normalise_po_number(text) == "A" * 31 + " " + "B" * 32


@pytest.mark.parametrize("text", ["", " ", "   ", "\u00a0", "\u3000 "])
def test_po_number_rejects_empty(text: str) -> None:
    with pytest.raises(InvalidPoNumber, match="required"):
        normalise_po_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "PO\n17",
        "PO 17\n",
        "PO\r\n17",
        "PO\t17",
        "\tPO 17",
        "PO\x0017",
        "PO\x7f17",
        "PO\x8517",
        "\n",
    ],
)
def test_po_number_rejects_control_characters(text: str) -> None:
    with pytest.raises(InvalidPoNumber, match="one line"):
        normalise_po_number(text)


@pytest.mark.parametrize("text", ["PO\u202817", "PO\u202917"])
def test_po_number_rejects_unicode_line_separators(text: str) -> None:
    with pytest.raises(InvalidPoNumber):
        normalise_po_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "<b>PO & Co</b>",
        "PO&amp;17",
        "PO 🚀 17",
        "👩\u200d💻-42",  # emoji joined with U+200D (ZERO WIDTH JOINER)
        "Bestellung Nr. Ä-ß-17",
        "🚀" * 64,
    ],
)
def test_po_number_keeps_markup_and_emoji(text: str) -> None:
    assert normalise_po_number(text) == text


# po_number_key


def test_po_key_ignores_case() -> None:
    assert po_number_key("Po-Abc-17") == po_number_key("pO-aBC-17")


def test_po_key_casefolds_sharp_s() -> None:
    assert po_number_key("STRASSE-17") == po_number_key("Straße-17")


def test_po_key_ignores_spacing() -> None:
    assert po_number_key("  PO   17 ") == po_number_key("po 17")


def test_po_key_keeps_single_space_significant() -> None:
    assert po_number_key("PO 17") != po_number_key("PO17")


def test_po_key_distinguishes_numbers() -> None:
    assert po_number_key("PO-17") != po_number_key("PO-18")


def test_po_key_rejects_invalid_number() -> None:
    with pytest.raises(InvalidPoNumber):
        po_number_key("   ")


def test_po_key_matches_canonically_equivalent_text() -> None:
    assert po_number_key("CAF\u00c9-17") == po_number_key("cafe\u0301-17")


# parse_quantity


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "required"),
        (" ", "required"),
        ("\n", "required"),
        ("0", "At least one"),
        ("000", "At least one"),
        ("-1", "not a whole number"),
        ("+5", "not a whole number"),
        ("1.5", "not a whole number"),
        ("5.0", "not a whole number"),
        ("1e3", "not a whole number"),
        ("five", "not a whole number"),
        ("\u0665", "not a whole number"),  # ARABIC-INDIC DIGIT FIVE
        ("\uff15", "not a whole number"),  # FULLWIDTH DIGIT FIVE
        ("1 000", "not a whole number"),
        ("1_000", "not a whole number"),
        ("1,000", "not a whole number"),
        ("0x10", "not a whole number"),
        ("1001", "At most 1000"),
        ("9" * 9, "At most 1000"),
        ("9" * 10, "too large"),
        ("9" * 5000, "too large"),
    ],
)
def test_quantity_rejects_bad_input(text: str, reason: str) -> None:
    with pytest.raises(InvalidQuantity) as caught:
        parse_quantity(text, MAXIMUM)

    assert reason in str(caught.value)
    assert "1 to 1000" in str(caught.value)


def test_quantity_rejects_5000_zeros() -> None:
    with pytest.raises(InvalidQuantity, match="1 to 1000"):
        parse_quantity("0" * 5000, MAXIMUM)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("007", 7),
        (" 12 ", 12),
        ("\t12\n", 12),
        ("999", 999),
        ("1000", 1000),
        ("0000000001000", 1000),
    ],
)
def test_quantity_accepts_whole_number(text: str, expected: int) -> None:
    assert parse_quantity(text, MAXIMUM) == expected


def test_quantity_message_names_maximum() -> None:
    with pytest.raises(InvalidQuantity) as caught:
        parse_quantity("4", 3)

    assert "1 to 3" in str(caught.value)


@pytest.mark.parametrize("quantity", [0, -1, MAXIMUM + 1])
def test_check_quantity_rejects_out_of_range(quantity: int) -> None:
    with pytest.raises(InvalidQuantity, match="1 to 1000"):
        check_quantity(quantity, MAXIMUM)


@pytest.mark.parametrize("quantity", [1, MAXIMUM])
def test_check_quantity_accepts_bounds(quantity: int) -> None:
    assert check_quantity(quantity, MAXIMUM) == quantity


# Cancel window


def test_cancel_deadline_is_fourteen_days_after_order() -> None:
    assert make_order().cancel_deadline(WINDOW) == ORDERED_AT + timedelta(days=14)


def test_can_cancel_one_second_before_deadline() -> None:
    now = ORDERED_AT + timedelta(days=13, hours=23, minutes=59, seconds=59)

    assert make_order().can_cancel(now, WINDOW)


def test_can_cancel_false_at_fourteen_days() -> None:
    assert not make_order().can_cancel(ORDERED_AT + timedelta(days=14), WINDOW)


def test_can_cancel_false_when_issued() -> None:
    order = make_order(status=OrderStatus.ISSUED, issued_at=ORDERED_AT)

    assert not order.can_cancel(ORDERED_AT + timedelta(hours=1), WINDOW)


def test_can_cancel_false_when_cancelled() -> None:
    order = make_order(status=OrderStatus.CANCELLED, cancelled_at=ORDERED_AT)

    assert not order.can_cancel(ORDERED_AT + timedelta(hours=1), WINDOW)


def test_cancelled_before_deadline_changes_status() -> None:
    order = make_order(version=3)
    now = ORDERED_AT + timedelta(days=13, hours=23, minutes=59, seconds=59)

    cancelled = order.cancelled(now, WINDOW)

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.cancelled_at == now
    assert cancelled.version == 4
    assert replace(cancelled, status=order.status, cancelled_at=None, version=3) == order


def test_cancelled_does_not_change_original() -> None:
    order = make_order()

    order.cancelled(ORDERED_AT + timedelta(days=1), WINDOW)

    assert order.status is OrderStatus.ON_ORDER


def test_cancel_rejected_at_fourteen_days() -> None:
    with pytest.raises(OrderNotCancellable) as caught:
        make_order().cancelled(ORDERED_AT + timedelta(days=14), WINDOW)

    assert "PO-1" in str(caught.value)
    assert "14 days" in str(caught.value)


def test_cancel_rejected_when_issued() -> None:
    order = make_order(status=OrderStatus.ISSUED, issued_at=ORDERED_AT)

    with pytest.raises(OrderNotCancellable, match="issued"):
        order.cancelled(ORDERED_AT + timedelta(hours=1), WINDOW)


def test_cancel_rejected_when_already_cancelled() -> None:
    order = make_order(status=OrderStatus.CANCELLED, cancelled_at=ORDERED_AT)

    with pytest.raises(OrderNotCancellable, match="already cancelled"):
        order.cancelled(ORDERED_AT + timedelta(hours=1), WINDOW)


def test_cancel_rejected_when_issued_and_past_deadline() -> None:
    # The status is the reason given, not the closed window.
    order = make_order(status=OrderStatus.ISSUED, issued_at=ORDERED_AT)

    with pytest.raises(OrderNotCancellable, match="issued"):
        order.cancelled(ORDERED_AT + timedelta(days=30), WINDOW)


def test_reopened_window_extends_deadline() -> None:
    reopened_at = ORDERED_AT + timedelta(days=10)
    order = make_order(window_opened_at=reopened_at)

    assert order.cancel_deadline(WINDOW) == reopened_at + WINDOW


def test_reopened_window_allows_late_cancel() -> None:
    order = make_order(window_opened_at=ORDERED_AT + timedelta(days=10))
    now = ORDERED_AT + timedelta(days=20)

    assert order.can_cancel(now, WINDOW)
    assert order.cancelled(now, WINDOW).status is OrderStatus.CANCELLED


def test_reopened_window_closes_after_fourteen_days() -> None:
    order = make_order(window_opened_at=ORDERED_AT + timedelta(days=10))

    assert not order.can_cancel(ORDERED_AT + timedelta(days=24), WINDOW)


def test_earlier_window_start_keeps_order_deadline() -> None:
    # A window that would end earlier never shortens the one from ordered_at.
    order = make_order(window_opened_at=ORDERED_AT - timedelta(days=5))

    assert order.cancel_deadline(WINDOW) == ORDERED_AT + WINDOW


def test_status_labels_are_distinct() -> None:
    labels = [status.label for status in OrderStatus]

    assert len(set(labels)) == len(OrderStatus)


# Order.issued


def test_issued_sets_status_and_date() -> None:
    order = make_order()
    now = ORDERED_AT + timedelta(days=3)

    issued = order.issued(now, "Europe/Berlin")

    assert issued.status is OrderStatus.ISSUED
    assert issued.issued_at == now
    assert issued.version == order.version + 1


def test_issued_after_cancel_window() -> None:
    # The cancel window limits the customer, not the dealer.
    issued = make_order().issued(ORDERED_AT + timedelta(days=30), "UTC")

    assert issued.status is OrderStatus.ISSUED


def test_issued_rejects_issued_with_local_date() -> None:
    # 23:30 UTC on 31 March is already 1 April in Berlin.
    order = make_order(
        status=OrderStatus.ISSUED, issued_at=datetime(2025, 3, 31, 23, 30, tzinfo=UTC)
    )

    with pytest.raises(OrderNotIssuable) as caught:
        order.issued(ORDERED_AT + timedelta(days=40), "Europe/Berlin")

    assert "already issued on 2025-04-01" in str(caught.value)
    assert "PO-1" in str(caught.value)


def test_issued_rejects_cancelled_with_local_date() -> None:
    # 22:30 UTC on 4 March is 5 March in Tokyo.
    order = make_order(
        status=OrderStatus.CANCELLED, cancelled_at=datetime(2025, 3, 4, 22, 30, tzinfo=UTC)
    )

    with pytest.raises(OrderNotIssuable) as caught:
        order.issued(ORDERED_AT + timedelta(days=5), "Asia/Tokyo")

    assert "cancelled on 2025-03-05" in str(caught.value)
    assert "cannot be issued" in str(caught.value)


def test_issued_rejects_issued_without_date() -> None:
    order = make_order(status=OrderStatus.ISSUED)

    with pytest.raises(OrderNotIssuable, match="an unknown date"):
        order.issued(ORDERED_AT, "UTC")


# Order.issuance_cancelled


def issued_order() -> Order:
    return make_order().issued(ORDERED_AT + timedelta(days=1), "UTC")


def test_issuance_cancelled_just_before_fourteen_days() -> None:
    order = issued_order()
    now = order.issued_at + WINDOW - timedelta(seconds=1)

    reopened = order.issuance_cancelled(now, WINDOW)

    assert reopened.status is OrderStatus.ON_ORDER
    assert reopened.issued_at is None
    assert reopened.window_opened_at == now
    assert reopened.version == order.version + 1


def test_issuance_cancelled_rejected_at_fourteen_days() -> None:
    order = issued_order()

    with pytest.raises(IssuanceNotCancellable, match="14 days old"):
        order.issuance_cancelled(order.issued_at + WINDOW, WINDOW)


def test_issuance_cancelled_keeps_order_date() -> None:
    order = issued_order()

    reopened = order.issuance_cancelled(order.issued_at + timedelta(hours=1), WINDOW)

    assert reopened.ordered_at == ORDERED_AT


def test_issuance_cancelled_moves_cancel_deadline() -> None:
    order = issued_order()
    now = order.issued_at + timedelta(days=13)

    reopened = order.issuance_cancelled(now, WINDOW)

    assert reopened.cancel_deadline(WINDOW) == now + WINDOW
    assert reopened.can_cancel(now + WINDOW - timedelta(seconds=1), WINDOW)
    assert not reopened.can_cancel(now + WINDOW, WINDOW)


@pytest.mark.parametrize("status", [OrderStatus.ON_ORDER, OrderStatus.CANCELLED])
def test_issuance_cancelled_rejects_unissued(status: OrderStatus) -> None:
    order = make_order(status=status)

    with pytest.raises(IssuanceNotCancellable, match="not issued"):
        order.issuance_cancelled(ORDERED_AT, WINDOW)


def test_issuance_cancel_deadline() -> None:
    order = issued_order()

    assert order.issuance_cancel_deadline(WINDOW) == order.issued_at + WINDOW


def test_issuance_cancel_deadline_unissued() -> None:
    assert make_order().issuance_cancel_deadline(WINDOW) is None
