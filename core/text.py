"""Checks and comparison keys for names and numbers that people type.

Full-width forms and invisible characters do not make a value new, and no
typed character may reverse the direction of the text around it.
NOTE: look-alike letters of different scripts (Cyrillic "а" and Latin "a")
still compare as different.
"""

from __future__ import annotations

import unicodedata

# Control characters and line or paragraph separators: they would break a
# one-line value, so they are rejected rather than removed.
_LINE_BREAKING_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})

# Characters that change the direction of the text after them. In a PO
# number shown inside a sentence, an unclosed override would reverse the
# rest of the bot's line.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def has_line_break_or_control(text: str) -> bool:
    return any(unicodedata.category(ch) in _LINE_BREAKING_CATEGORIES for ch in text)


def has_bidi_control(text: str) -> bool:
    return any(ch in BIDI_CONTROLS for ch in text)


def comparison_key(text: str) -> str:
    """Return the form under which two typed values count as the same.

    Compatibility normalisation (NFKC) makes full-width and other
    compatibility forms equal to plain letters and digits. Invisible format
    characters (zero-width spaces, joiners, byte-order marks) are dropped.
    Case is ignored and whitespace runs become one space.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", " ".join(visible.split()))
