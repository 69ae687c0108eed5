"""/dealer: see the dealer a customer orders from and choose another."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.callbacks import DEALER_PATTERN, ChooseDealer, InvalidCallbackData, decode
from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.replies import edit_html, refuse, send_html
from bot.services import get_services
from bot.views.dealers import render_dealer_choice
from core.errors import DomainError
from core.use_cases.dealers import choose_dealer, show_dealer_choice

logger = logging.getLogger(__name__)


async def show_dealer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = get_services(context)
    assert update.effective_user is not None
    try:
        choice = await show_dealer_choice(
            services.database.unit_of_work(), telegram_user_id=update.effective_user.id
        )
    except DomainError as error:
        await refuse(update, error)
        return
    await send_html(update, *render_dealer_choice(choice))


async def press_dealer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Make the pressed dealer the customer's dealer for future orders."""
    services = get_services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    try:
        pressed = decode(query.data)
        if not isinstance(pressed, ChooseDealer):
            raise InvalidCallbackData(query.data)
    except InvalidCallbackData:
        logger.warning("user %s sent unknown dealer callback data", user.id)
        await query.answer("This button is no longer valid. Send /dealer again.", show_alert=True)
        return
    try:
        choice = await choose_dealer(
            services.database.unit_of_work(),
            telegram_user_id=user.id,
            dealer_id=pressed.dealer_id,
            now=services.clock.now(),
        )
    except DomainError as error:
        await refuse(update, error)
        return
    logger.info("user %s chose dealer %s", user.id, pressed.dealer_id)
    await query.answer("Dealer changed")
    await edit_html(update, *render_dealer_choice(choice, changed=True))


def build_dealer_handlers() -> list:
    return [
        CommandHandler("dealer", show_dealer, filters=PRIVATE_MESSAGE),
        CallbackQueryHandler(press_dealer_button, pattern=DEALER_PATTERN),
    ]
