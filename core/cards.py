"""License keys printed on license cards.

A key is 16 characters from Crockford's base-32 alphabet, written in four
groups of four (``7K2Q-M4XP-9T3B-R8WQ``). The last character is a Luhn
mod 32 check character (python-stdnum's ``luhn`` module), which catches
every single mistyped character and most swaps of two neighbours, so a
typing error can be told apart from a key that does not exist.
"""

from __future__ import annotations

import secrets

from stdnum import luhn

from core.errors import InvalidLicenseKey

# Crockford's base 32 leaves out I, L, O and U, which are easily confused.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_LENGTH = 16
GROUP_LENGTH = 4
# Readers type O for 0 and I or L for 1; Crockford's rules map them back.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_license_key() -> str:
    """Return a random key in its grouped display form."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(KEY_LENGTH - 1))
    return format_key(body + luhn.calc_check_digit(body, ALPHABET))


def normalise_key(text: str) -> str:
    """Return the key in ``text`` as 16 characters without separators, or raise.

    Spaces and hyphens are ignored, letters may be in any case, and the
    look-alike letters O, I and L count as 0, 1 and 1. Raises
    InvalidLicenseKey for a wrong length, a character outside the alphabet
    or a wrong check character.
    """
    compact = "".join(text.split()).replace("-", "").upper().translate(_LOOKALIKES)
    example = "Keys look like 7K2Q-M4XP-9T3B-R8WQ."
    if len(compact) != KEY_LENGTH:
        raise InvalidLicenseKey(
            f"That is not a valid key: a key has {KEY_LENGTH} letters and digits, "
            f"not {len(compact)}. {example}"
        )
    if any(ch not in ALPHABET for ch in compact):
        raise InvalidLicenseKey(
            "That is not a valid key: it contains a character that keys never use. " + example
        )
    if not luhn.is_valid(compact, ALPHABET):
        raise InvalidLicenseKey(
            "That is not a valid key: one character seems mistyped. Check it against the card."
        )
    return compact


def format_key(compact: str) -> str:
    return "-".join(compact[i : i + GROUP_LENGTH] for i in range(0, len(compact), GROUP_LENGTH))
