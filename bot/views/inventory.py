"""Texts of the license inventory, the /assign and /unassign forms and /activate."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import (
    ConfirmAssign,
    ConfirmUnassign,
    DiscardAssign,
    DiscardUnassign,
    ShowInventoryPage,
    encode,
)
from bot.views.formatting import escape, local_date, plural
from core.licenses import License
from core.organisations import Organisation
from core.use_cases.inventory import AssignPreview, Inventory, LicenseCounts, UnassignPreview

# The inventory


def render_inventory(
    inventory: Inventory, now: datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Return the counts and one page of assigned licenses, soonest expiry first."""
    customer = inventory.customer
    page = inventory.page
    lines = [
        f"<b>License inventory</b> of {escape(customer.name)}\n"
        f"{inventory.unused} unused, {inventory.assigned} assigned"
    ]
    if inventory.unused == 0 and inventory.assigned == 0:
        lines.append("\n" + EMPTY_INVENTORY)
        return "\n".join(lines), None
    if inventory.assigned == 0:
        lines.append("\nNo license is assigned yet. Assign one with /assign.")
        return "\n".join(lines), None
    if page.total_pages > 1:
        lines.append(f"Page {page.number} of {page.total_pages}")
    lines.append("")
    lines.extend(_render_assigned(license, customer.timezone, now) for license in page.items)
    markup = None
    if page.total_pages > 1:
        markup = InlineKeyboardMarkup([_navigation_row(page.number, page.total_pages)])
    return "\n".join(lines), markup


def _render_assigned(license: License, timezone: str, now: datetime) -> str:
    email = escape(license.email or "")
    expiry = local_date(license.expires_at, timezone)
    if license.is_expired(now):
        return f"{email} · expired on {expiry}"
    return f"{email} · expires on {expiry}"


def _navigation_row(current: int, last: int) -> list[InlineKeyboardButton]:
    targets = [("«", 1), ("‹", max(1, current - 1)), ("›", min(last, current + 1)), ("»", last)]
    return [
        InlineKeyboardButton(label, callback_data=encode(ShowInventoryPage(target, current)))
        for label, target in targets
    ]


EMPTY_INVENTORY = (
    "There are no licenses yet. Order licenses with /order, or add one from a "
    "license card with /activate KEY."
)
UNKNOWN_INVENTORY_BUTTON = (
    "This button is no longer valid. Send /inventory to see your licenses again."
)

# Shared by both forms

EMAIL_EXAMPLE = "such as name@example.com"
SEND_TEXT = "Please answer with text."
OUTDATED_FORM = "This summary belongs to an older form. Use the buttons of the latest summary."
PRESS_A_BUTTON = "Press Confirm or Cancel under the summary above, or send /cancel."


def retry_question(reason: str, question: str) -> str:
    """Repeat the question after a rejected answer, reason first."""
    return f"{escape(reason)}\n\n{question}"


def _confirm_buttons(confirm: str, discard: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Confirm", callback_data=confirm),
                InlineKeyboardButton("Cancel", callback_data=discard),
            ]
        ]
    )


# The /assign form

ASSIGN_CANCEL_HINT = "Send /cancel to stop without assigning."
ASK_ASSIGN_EMAIL = f"Send the e-mail address of the user ({EMAIL_EXAMPLE}). {ASSIGN_CANCEL_HINT}"
NO_UNUSED_LICENSE = (
    "There is no unused license in your inventory. Order more with /order "
    "or activate a license card with /activate KEY."
)
ASSIGN_DISCARDED = "Assignment discarded. No license was assigned."
ASSIGN_SEND_TEXT = f"{SEND_TEXT} {ASSIGN_CANCEL_HINT}"
ASSIGN_TIMED_OUT = (
    "The assign form was closed after {minutes} minutes without an answer. "
    "No license was assigned; send /assign to start again."
)
ASSIGN_FORM_CLOSED = (
    "This assign form is closed, so no license was assigned from it. "
    "Send /assign to start a new one."
)
ALREADY_ASSIGNED = "This license was already assigned to {email}. See /inventory."


def ask_assign_email(counts: LicenseCounts) -> str:
    return (
        f"Assign a license of <b>{escape(counts.customer.name)}</b> "
        f"({counts.unused} unused).\n\n{ASK_ASSIGN_EMAIL}"
    )


def assign_summary(preview: AssignPreview, draft: int) -> tuple[str, InlineKeyboardMarkup]:
    expiry = local_date(preview.expires_at, preview.customer.timezone)
    if preview.license.reusable:
        license_line = (
            f"License: a reusable one, which keeps its expiry date. It expires on {expiry}."
        )
    else:
        license_line = f"License: an unused one. It expires on {expiry}, one year from today."
    text = (
        "<b>Please check the assignment</b>\n"
        f"User: {escape(preview.email)}\n"
        f"{license_line}\n\n"
        "Press Confirm to assign it."
    )
    markup = _confirm_buttons(encode(ConfirmAssign(draft)), encode(DiscardAssign(draft)))
    return text, markup


def assigned(license: License, timezone: str) -> str:
    return (
        f"Assigned a license to <b>{escape(license.email or '')}</b>. "
        f"It expires on {local_date(license.expires_at, timezone)}."
    )


# The /unassign form

UNASSIGN_CANCEL_HINT = "Send /cancel to stop without changing anything."
ASK_UNASSIGN_EMAIL = (
    f"Send the e-mail address of the user ({EMAIL_EXAMPLE}) whose license to take back. "
    f"{UNASSIGN_CANCEL_HINT}"
)
NOTHING_ASSIGNED = "No license of your inventory is assigned, so there is nothing to take back."
UNASSIGN_DISCARDED = "Nothing was changed; the license stays assigned."
UNASSIGN_SEND_TEXT = f"{SEND_TEXT} {UNASSIGN_CANCEL_HINT}"
UNASSIGN_TIMED_OUT = (
    "The unassign form was closed after {minutes} minutes without an answer. "
    "Nothing was changed; send /unassign to start again."
)
UNASSIGN_FORM_CLOSED = (
    "This unassign form is closed, so nothing was changed from it. "
    "Send /unassign to start a new one."
)
ALREADY_UNASSIGNED = "The license of {email} was already taken back. See /inventory."


def ask_unassign_email(customer: Organisation) -> str:
    return f"Take a license of <b>{escape(customer.name)}</b> back.\n\n{ASK_UNASSIGN_EMAIL}"


def unassign_summary(
    preview: UnassignPreview, now: datetime, draft: int
) -> tuple[str, InlineKeyboardMarkup]:
    license = preview.license
    expiry = local_date(license.expires_at, preview.customer.timezone)
    if license.is_expired(now):
        outcome = (
            f"It expired on {expiry}, so it will not be usable again; "
            "taking it back only frees the address."
        )
    else:
        outcome = (
            f"It expires on {expiry}. It returns to the inventory as a reusable license "
            "that keeps this expiry date."
        )
    text = (
        "<b>Take this license back?</b>\n"
        f"User: {escape(preview.email)}\n"
        f"{outcome}\n\n"
        "Press Confirm to take it back."
    )
    markup = _confirm_buttons(encode(ConfirmUnassign(draft)), encode(DiscardUnassign(draft)))
    return text, markup


def unassigned(email: str, license: License, timezone: str, now: datetime) -> str:
    expiry = local_date(license.expires_at, timezone)
    taken_back = f"Took the license back from <b>{escape(email)}</b>."
    if license.is_expired(now):
        return f"{taken_back} It expired on {expiry}, so it is not usable again."
    return (
        f"{taken_back} It is back in the inventory as a reusable license until it "
        f"expires on {expiry}; /assign uses reusable licenses first."
    )


# /activate

ACTIVATE_USAGE = (
    "Send the key printed on the license card after the command, for example "
    "<code>/activate 7K2Q-M4XP-9T3B-R8WQ</code>. Spaces, hyphens and lower case "
    "letters are accepted."
)


def activated(card: str, counts: LicenseCounts | None) -> str:
    """Confirm the activation. ``counts`` is None when the new count could not be read."""
    text = f"Added one unused license from card <code>{escape(card)}</code>."
    if counts is not None:
        text += (
            f" <b>{escape(counts.customer.name)}</b> now has "
            f"{plural(counts.unused, 'unused license')}. Assign one with /assign."
        )
    return text
