import pytest

from core.errors import InvalidInput, InvalidPoNumber
from core.orders import normalise_po_number, po_number_key
from core.organisations import name_key, normalise_name


@pytest.mark.parametrize(
    "look_alike",
    ["PO\u200b-1", "PO-1\u200b", "\u2060PO-1", "\ufeffPO-1", "ＰＯ-１", "po-1"],
)
def test_po_key_ignores_invisible_and_full_width(look_alike: str) -> None:
    assert po_number_key(look_alike) == po_number_key("PO-1")


@pytest.mark.parametrize("override", ["\u202e", "\u202d", "\u2066", "\u200f"])
def test_po_rejects_direction_controls(override: str) -> None:
    with pytest.raises(InvalidPoNumber, match="text-direction"):
        normalise_po_number(f"PO-7{override}")


def test_po_keeps_emoji_with_joiner() -> None:
    family = "PO \U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert normalise_po_number(family) == family


def test_name_rejects_terminal_escape() -> None:
    with pytest.raises(InvalidInput, match="control characters"):
        normalise_name("Evil\x1b[2J\x1b[31mRED")


def test_name_key_ignores_zero_width() -> None:
    assert name_key("Zero\u200bWidth") == name_key("ZeroWidth")
