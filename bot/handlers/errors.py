"""The one handler for errors that no other handler expected."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

logger = logging.getLogger(__name__)

SORRY = (
    "Sorry, something went wrong while handling that. If you were changing something, "
    "look at its current state (for example in /history, /pending or /inventory) before "
    "you try again."
)


async def handle_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its ids first, then tell the person, if there is one."""
    update_id = update.update_id if isinstance(update, Update) else None
    user_id = (
        update.effective_user.id if isinstance(update, Update) and update.effective_user else None
    )
    logger.error("update %s from user %s failed", update_id, user_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            # The handler may have answered before it failed; the apology
            # below still goes out.
            logger.warning("callback query of update %s was answered already", update_id)
    try:
        await update.effective_chat.send_message(SORRY)
    except TelegramError:
        logger.exception("could not tell user %s about the failed update %s", user_id, update_id)
