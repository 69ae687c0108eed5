"""/history: one message per history, paged and edited in place by its buttons."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.callbacks import (
    HISTORY_PATTERN,
    AskCancelOrder,
    ConfirmCancelOrder,
    InvalidCallbackData,
    ShowHistoryPage,
    decode,
)
from bot.delivery import request_delivery
from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.replies import edit_html, refuse, send_html
from bot.services import Services, get_services
from bot.views.history import cancelled_notice, render_cancel_question, render_history
from core.errors import DomainError, InvalidInput
from core.use_cases.history import OrderHistory, order_history
from core.use_cases.ordering import cancel_order, preview_cancel

logger = logging.getLogger(__name__)

UNKNOWN_BUTTON = "This button is no longer valid. Send /history to see your orders again."


async def show_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the first page of the customer's order history."""
    user = update.effective_user
    assert user is not None
    try:
        history = await _load_page(get_services(context), user.id, 1)
    except DomainError as error:
        await refuse(update, error)
        return
    text, markup = render_history(history)
    await send_html(update, text, markup)


async def press_history_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move between pages, ask to confirm a cancellation, or carry it out."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    services = get_services(context)
    try:
        pressed = decode(query.data)
    except InvalidCallbackData:
        logger.warning("user %s sent unknown history callback data", user.id)
        await query.answer(UNKNOWN_BUTTON, show_alert=True)
        return
    try:
        if isinstance(pressed, ShowHistoryPage):
            await _show_page(update, services, pressed)
        elif isinstance(pressed, AskCancelOrder):
            preview = await preview_cancel(
                services.database.unit_of_work(),
                telegram_user_id=user.id,
                order_id=pressed.order_id,
                policy=services.policy,
                now=services.clock.now(),
            )
            await query.answer()
            await edit_html(update, *render_cancel_question(preview, pressed.page))
        elif isinstance(pressed, ConfirmCancelOrder):
            await _cancel(update, services, pressed)
            request_delivery(context)
        else:
            await query.answer(UNKNOWN_BUTTON, show_alert=True)
    except DomainError as error:
        await refuse(update, error)


async def _show_page(update: Update, services: Services, pressed: ShowHistoryPage) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    # Loading first also rejects a forged page number that names the current page.
    history = await _load_page(services, update.effective_user.id, pressed.page)
    if pressed.page == pressed.current:
        await query.answer(f"You are already on page {pressed.page}.")
        return
    await query.answer()
    await edit_html(update, *render_history(history))


async def _cancel(update: Update, services: Services, pressed: ConfirmCancelOrder) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    order = await cancel_order(
        services.database.unit_of_work(),
        telegram_user_id=user.id,
        order_id=pressed.order_id,
        policy=services.policy,
        now=services.clock.now(),
    )
    logger.info("order %s cancelled by user %s", order.id, user.id)
    try:
        history = await _load_page(services, user.id, pressed.page)
    except InvalidInput:
        # The order is cancelled either way; a forged page number only
        # changes which page is shown afterwards.
        history = await _load_page(services, user.id, 1)
    await query.answer("Order cancelled")
    await edit_html(update, *render_history(history, notice=cancelled_notice(order)))


async def _load_page(services: Services, telegram_user_id: int, page: int) -> OrderHistory:
    return await order_history(
        services.database.unit_of_work(),
        telegram_user_id=telegram_user_id,
        page_number=page,
        policy=services.policy,
        now=services.clock.now(),
    )


def build_history_handlers() -> list:
    return [
        CommandHandler("history", show_history, filters=PRIVATE_MESSAGE),
        CallbackQueryHandler(press_history_button, pattern=HISTORY_PATTERN),
    ]
