"""License keys: generating them and telling typing errors from other keys."""

import re

import pytest
from stdnum import luhn

from core.cards import ALPHABET, KEY_LENGTH, format_key, new_license_key, normalise_key
from core.errors import InvalidInput, InvalidLicenseKey

# A fixed valid key, built from a fixed body so that the tests do not depend on chance.
BODY = "7K2QM4XP9T3BR8W"
KEY = BODY + luhn.calc_check_digit(BODY, ALPHABET)
DISPLAY_PATTERN = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")


def test_alphabet_is_crockford() -> None:
    assert len(ALPHABET) == 32
    assert len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_fixed_key_valid() -> None:
    assert normalise_key(KEY) == KEY


def test_new_key_display_form() -> None:
    for _ in range(200):
        key = new_license_key()
        assert DISPLAY_PATTERN.fullmatch(key), key


def test_new_keys_validate() -> None:
    for _ in range(200):
        key = new_license_key()
        assert normalise_key(key) == key.replace("-", "")


def test_new_keys_differ() -> None:
    keys = {new_license_key() for _ in range(200)}

    assert len(keys) == 200


def test_format_key_groups() -> None:
    assert format_key("0123456789ABCDEF") == "0123-4567-89AB-CDEF"


def test_every_substitution_rejected() -> None:
    accepted = []
    for position in range(KEY_LENGTH):
        for character in ALPHABET:
            if character == KEY[position]:
                continue
            mistyped = KEY[:position] + character + KEY[position + 1 :]
            try:
                normalise_key(mistyped)
            except InvalidLicenseKey:
                continue
            accepted.append(mistyped)

    assert accepted == []


def test_substitution_message_says_mistyped() -> None:
    replacement = "0" if KEY[3] != "0" else "1"
    mistyped = KEY[:3] + replacement + KEY[4:]

    with pytest.raises(InvalidLicenseKey, match=r"not a valid key.*mistyped"):
        normalise_key(mistyped)


def test_adjacent_swaps_rejected_except_zero_z() -> None:
    # Luhn mod 32 misses exactly one swap of neighbours: 0 and Z, the first
    # and last characters of the alphabet (as 09 and 90 in Luhn mod 10).
    missed = set()
    for position in range(KEY_LENGTH - 2):
        for first in ALPHABET:
            for second in ALPHABET:
                if first == second:
                    continue
                key = key_with(first + second, position)
                swapped = key[:position] + second + first + key[position + 2 :]
                try:
                    normalise_key(swapped)
                except InvalidLicenseKey:
                    continue
                missed.add(frozenset((first, second)))

    assert missed == {frozenset("0Z")}


def key_with(characters: str, position: int) -> str:
    """Return a valid key that has ``characters`` at ``position`` of its body."""
    body = BODY[:position] + characters + BODY[position + len(characters) :]
    return body + luhn.calc_check_digit(body, ALPHABET)


@pytest.mark.parametrize(("lookalike", "digit"), [("O", "0"), ("I", "1"), ("L", "1")])
def test_lookalike_letters_accepted(lookalike: str, digit: str) -> None:
    key = key_with(digit, 2)
    typed = key[:2] + lookalike + key[3:]

    assert normalise_key(typed) == key


@pytest.mark.parametrize(("lookalike", "digit"), [("o", "0"), ("i", "1"), ("l", "1")])
def test_lower_lookalikes_accepted(lookalike: str, digit: str) -> None:
    key = key_with(digit, 5)
    typed = key[:5] + lookalike + key[6:]

    assert normalise_key(typed) == key


def test_lower_case_accepted() -> None:
    assert normalise_key(KEY.lower()) == KEY


@pytest.mark.parametrize(
    "typed",
    [
        format_key(KEY),
        format_key(KEY).lower(),
        " ".join(KEY[i : i + 4] for i in range(0, KEY_LENGTH, 4)),
        f"  {KEY}  ",
        "-".join(KEY),
        f"{KEY[:8]}\t{KEY[8:]}",
        f"{KEY[:8]} - {KEY[8:]}",
    ],
)
def test_separators_ignored(typed: str) -> None:
    assert normalise_key(typed) == KEY


@pytest.mark.parametrize("length", [0, 1, KEY_LENGTH - 1, KEY_LENGTH + 1, 40])
def test_wrong_length_rejected(length: int) -> None:
    typed = (KEY * 3)[:length]

    with pytest.raises(InvalidLicenseKey, match=f"{KEY_LENGTH} letters and digits, not {length}"):
        normalise_key(typed)


def test_wrong_length_counts_without_separators() -> None:
    with pytest.raises(InvalidLicenseKey, match="not 15"):
        normalise_key(format_key(KEY)[:-1])


@pytest.mark.parametrize("character", ["U", "u", "*", "é", "٣", "_"])
def test_foreign_character_rejected(character: str) -> None:
    typed = KEY[:4] + character + KEY[5:]

    with pytest.raises(InvalidLicenseKey, match="character that keys never use"):
        normalise_key(typed)


def test_invalid_key_is_invalid_input() -> None:
    # The bot shows InvalidInput as a format error, so keys must raise a subclass.
    assert issubclass(InvalidLicenseKey, InvalidInput)


def test_messages_show_example() -> None:
    with pytest.raises(InvalidLicenseKey, match="7K2Q-M4XP-9T3B-R8WQ"):
        normalise_key("short")
