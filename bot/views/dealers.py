"""The /dealer message: the current dealer and buttons to choose another."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ChooseDealer, encode
from bot.views.formatting import button_label, escape
from core.use_cases.dealers import DealerChoice


def render_dealer_choice(
    choice: DealerChoice, *, changed: bool = False
) -> tuple[str, InlineKeyboardMarkup | None]:
    current = choice.current
    if current is None:
        first = f"<b>{escape(choice.customer.name)}</b> has no dealer yet."
    elif changed:
        first = (
            f"Your dealer is now <b>{escape(current.name)}</b>. "
            "Open orders stay with the dealer they were placed with."
        )
    else:
        first = f"You order from <b>{escape(current.name)}</b>."
    others = [d for d in choice.candidates if current is None or d.id != current.id]
    if not others:
        return first + "\nThere is no other dealer you can choose.", None
    text = first + "\n\nTo order from another dealer of your country, choose it below."
    buttons = [
        [InlineKeyboardButton(button_label(d.name), callback_data=encode(ChooseDealer(d.id)))]
        for d in others
    ]
    return text, InlineKeyboardMarkup(buttons)
