"""Texts of /autoassign, the per-user setting that renews an expired license."""

from __future__ import annotations

from bot.views.formatting import escape

USAGE = (
    "Send <code>/autoassign EMAIL on</code> or <code>/autoassign EMAIL off</code>, "
    "for example <code>/autoassign anna@example.com off</code>.\n\n"
    "With auto-assign on (the default for every user), a license that expires is "
    "replaced at once by an unused license from your inventory, assigned to the same "
    "address."
)


def missing_switch(email: str) -> str:
    return f"Say whether to turn auto-assign on or off for {escape(email)}.\n\n{USAGE}"


def invalid_switch(word: str) -> str:
    return f"Expected on or off after the e-mail address, not {escape(word)}.\n\n{USAGE}"


def too_many_words(count: int) -> str:
    return f"Expected an e-mail address and on or off, but got {count} words.\n\n{USAGE}"


def changed(email: str, enabled: bool) -> str:
    address = escape(email)
    if enabled:
        return (
            f"Auto-assign is on for {address}. When its license expires, an unused "
            "license from your inventory is assigned to it."
        )
    return (
        f"Auto-assign is off for {address}. When its license expires, no license is "
        f"assigned in its place; you can assign one with /assign {address}."
    )
