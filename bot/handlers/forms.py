"""Rules shared by the multi-step forms (order, assign, unassign, cancel issuance).

One form at a time: while a form waits for an answer, the command of
another form is answered with a hint instead of opening a second form that
would compete for the next message. Each conversation adds
``other_form_fallback`` to its fallbacks.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.replies import send_html

# The user_data key under which each form keeps its draft while it is open.
FORM_DRAFT_KEYS = {
    "order": "order_draft",
    "assign": "assign_draft",
    "unassign": "unassign_draft",
    "issuances": "issuance_draft",
}
FORM_COMMANDS = tuple(FORM_DRAFT_KEYS)
# A form left without an answer this long closes; nothing is stored.
FORM_TIMEOUT = timedelta(minutes=30)

# Answers are new text messages in the private chat. Edited messages are left
# to the fallback handlers, which explain that an edit is not read.
TEXT_ANSWER = PRIVATE_MESSAGE & filters.TEXT & ~filters.COMMAND
NOT_TEXT = PRIVATE_MESSAGE & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
FORM_BUSY = (
    "You are in the middle of another form. Answer its question, or send /cancel "
    "to leave it, then send {command} again."
)


async def form_busy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep the open form and explain how to start the other one."""
    assert update.message is not None and update.message.text is not None
    command = update.message.text.split()[0].split("@")[0]
    await send_html(update, FORM_BUSY.format(command=command))


def other_open_form(context: ContextTypes.DEFAULT_TYPE, own_command: str) -> str | None:
    """Return the command of another form that waits for an answer, if any.

    ``other_form_fallback`` sees a form command only when the open form's
    conversation is registered before the new one, so each entry point also
    asks this.
    """
    for command, key in FORM_DRAFT_KEYS.items():
        if command != own_command and key in context.user_data:
            return command
    return None


def other_form_fallback(own_command: str) -> CommandHandler:
    """Return a fallback for every form command except ``own_command`` (which restarts)."""
    others = [command for command in FORM_COMMANDS if command != own_command]
    return CommandHandler(others, form_busy, filters=PRIVATE_MESSAGE)


def build_form_conversation(
    command: str,
    *,
    entry_points: Sequence[BaseHandler],
    states: dict[Any, list[BaseHandler]],
    cancel: Any,
    ask_for_text: Any,
    timed_out: Any,
) -> ConversationHandler:
    """Build a form's conversation with the fallbacks and timeout every form shares.

    Each form gets /cancel, the one-form-at-a-time fallback, an answer to
    non-text messages, re-entry with its own command and FORM_TIMEOUT.
    python-telegram-bot warns that a CallbackQueryHandler in a conversation
    with ``per_message=False`` is not tracked per message. That is intended,
    because the draft number in each button tells summaries apart.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="If 'per_message=False'", category=PTBUserWarning
        )
        return ConversationHandler(
            entry_points=list(entry_points),
            states={**states, ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)]},
            fallbacks=[
                CommandHandler("cancel", cancel, filters=PRIVATE_MESSAGE),
                other_form_fallback(command),
                MessageHandler(NOT_TEXT, ask_for_text),
            ],
            allow_reentry=True,
            conversation_timeout=FORM_TIMEOUT,
            name=command,
        )
