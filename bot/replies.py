"""Sending answers and refusals back to the person who asked."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.views.formatting import escape
from core.errors import DomainError

logger = logging.getLogger(__name__)

# answerCallbackQuery shows at most 200 characters; longer refusals go to the chat.
MAX_ALERT_LENGTH = 200


async def send_html(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def edit_html(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the message whose button was pressed; an identical result is fine."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:
        # A second press that renders the same content changes nothing, and
        # Telegram reports that as an error we can ignore.
        # python-telegram-bot 22 capitalises the first letter of Telegram's description.
        if "message is not modified" not in error.message.lower():
            raise
        logger.debug("message %s not modified", query.message and query.message.message_id)


async def refuse(update: Update, error: DomainError | str) -> None:
    """Tell the person why the request was refused; nothing was changed."""
    text = str(error)
    user = update.effective_user
    logger.info(
        "rejected update %s from user %s: %s",
        update.update_id,
        user.id if user else None,
        type(error).__name__ if isinstance(error, DomainError) else "message",
    )
    query = update.callback_query
    if query is not None:
        if len(text) <= MAX_ALERT_LENGTH:
            await query.answer(text, show_alert=True)
            return
        await query.answer()
    await send_html(update, escape(text))
