"""Refusal of button presses outside private chats.

The bot posts buttons in private chats only, but a modified client can send
callback data for any bot message, such as the hint the bot posts in a
group. Such a press is answered here and goes no further, so order data
never appears in a group.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, ContextTypes

logger = logging.getLogger(__name__)

PRIVATE_CHAT_ONLY = "Buttons work only in your private chat with the bot."


async def refuse_outside_private_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        return
    logger.warning(
        "rejected a button press from user %s in chat %s",
        query.from_user.id,
        chat.id if chat else None,
    )
    await query.answer(PRIVATE_CHAT_ONLY, show_alert=True)
    raise ApplicationHandlerStop


def build_private_only_handler() -> CallbackQueryHandler:
    return CallbackQueryHandler(refuse_outside_private_chat)
