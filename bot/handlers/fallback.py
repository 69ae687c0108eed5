"""Answers for everything no other handler took: unknown commands, stray text, groups."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.handlers.chat_filters import GROUP_MESSAGE, PRIVATE_EDIT, PRIVATE_MESSAGE
from bot.handlers.issuing import is_confirming_word
from bot.menus import commands_for
from bot.replies import send_html
from bot.services import get_services
from bot.views.welcome import NOT_LINKED_TEXT, unknown_command_text
from core.organisations import Tier
from core.use_cases.membership import describe_member

logger = logging.getLogger(__name__)

PRIVATE_ONLY = (
    "I only work in a private chat, because orders and licenses are not for a group. "
    "Open a private chat with me and send /help."
)
NOT_UNDERSTOOD = "I did not understand that. Send /help to see what you can do."
ISSUE_NEEDS_REPLY = (
    "To issue an order, reply to my message about that order (swipe it or choose Reply) "
    "with issue, or press its Issue button. /pending lists the orders waiting for you."
)
EDIT_NOT_READ = "I do not read edited messages. Please send the corrected text as a new message."
MAX_COMMAND_ECHO = 33
UNKNOWN_BUTTON = "This button is no longer valid. Send /help to start again."


async def answer_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point a command sent in a group to the private chat."""
    await send_html(update, PRIVATE_ONLY)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.effective_user is not None
    # Telegram commands have at most 32 characters; a longer word is cut so
    # that the answer never grows with the input.
    command = (update.message.text or "").split()[0].split("@")[0][:MAX_COMMAND_ECHO]
    member = await describe_member(
        get_services(context).database.unit_of_work(), telegram_user_id=update.effective_user.id
    )
    tier = member.organisation.tier if member else None
    await send_html(update, unknown_command_text(command, commands_for(tier)))


async def stray_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a message that is not part of any conversation."""
    assert update.effective_user is not None
    member = await describe_member(
        get_services(context).database.unit_of_work(), telegram_user_id=update.effective_user.id
    )
    if member is None:
        await send_html(update, NOT_LINKED_TEXT)
        return
    text = update.effective_message.text if update.effective_message else None
    if member.organisation.tier is Tier.DEALER and text and is_confirming_word(text):
        # A dealer who typed "issue" without using Reply on the notification.
        await send_html(update, ISSUE_NEEDS_REPLY)
        return
    await send_html(update, NOT_UNDERSTOOD)


async def edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain that an edit is not read, so the person sends the correction again."""
    await send_html(update, EDIT_NOT_READ)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a callback query whose data no handler recognises (old or forged)."""
    query = update.callback_query
    assert query is not None
    logger.warning(
        "unknown callback data from user %s", update.effective_user and update.effective_user.id
    )
    await query.answer(UNKNOWN_BUTTON, show_alert=True)


def build_fallback_handlers() -> list:
    return [
        MessageHandler(filters.COMMAND & GROUP_MESSAGE, answer_group),
        MessageHandler(filters.COMMAND & PRIVATE_MESSAGE, unknown_command),
        MessageHandler(PRIVATE_EDIT, edited_message),
        MessageHandler(PRIVATE_MESSAGE & ~filters.StatusUpdate.ALL, stray_message),
        CallbackQueryHandler(unknown_button),
    ]
