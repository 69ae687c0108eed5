"""/inventory and /activate: a customer's licenses, and adding one from a license card.

The /assign and /unassign forms live in bot/handlers/assign.py and are
registered from here, so the customer's license handlers sit together.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.callbacks import INVENTORY_PATTERN, InvalidCallbackData, ShowInventoryPage, decode
from bot.handlers.assign import build_assign_handlers
from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.replies import edit_html, refuse, send_html
from bot.services import Services, get_services
from bot.views import inventory as views
from core.cards import format_key, normalise_key
from core.errors import DomainError
from core.use_cases.inventory import Inventory, activate_key, inventory, license_counts

logger = logging.getLogger(__name__)


async def show_inventory(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the license counts and the first page of assigned licenses."""
    services = get_services(context)
    assert update.effective_user is not None
    try:
        loaded = await load_inventory(services, update.effective_user.id, 1)
    except DomainError as error:
        await refuse(update, error)
        return
    await send_html(update, *views.render_inventory(loaded, services.clock.now()))


async def press_inventory_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move the inventory message to another page by editing it."""
    services = get_services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    try:
        pressed = decode(query.data)
        if not isinstance(pressed, ShowInventoryPage):
            raise InvalidCallbackData(query.data)
    except InvalidCallbackData:
        logger.warning("user %s sent unknown inventory callback data", user.id)
        await query.answer(views.UNKNOWN_INVENTORY_BUTTON, show_alert=True)
        return
    try:
        # Loading first also rejects a forged page number that names the current page.
        loaded = await load_inventory(services, user.id, pressed.page)
    except DomainError as error:
        await refuse(update, error)
        return
    if pressed.page == pressed.current:
        await query.answer(f"You are already on page {pressed.page}.")
        return
    await query.answer()
    await edit_html(update, *views.render_inventory(loaded, services.clock.now()))


async def activate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add one unused license from the key of a license card: ``/activate KEY``."""
    services = get_services(context)
    user = update.effective_user
    assert user is not None
    # A key may be typed in groups separated by spaces, so every argument belongs to it.
    key = " ".join(context.args or [])
    if not key:
        await send_html(update, views.ACTIVATE_USAGE)
        return

    try:
        license = await activate_key(
            services.database.unit_of_work(),
            telegram_user_id=user.id,
            key=key,
            now=services.clock.now(),
        )
    except DomainError as error:
        # The key is not logged: an unused one is as good as a license.
        logger.info(
            "user %s sent a license key that was rejected: %s", user.id, type(error).__name__
        )
        await refuse(update, error)
        return
    logger.info(
        "user %s activated a license card, license %s added to customer %s",
        user.id,
        license.id,
        license.customer_id,
    )

    card = format_key(normalise_key(key))
    try:
        counts = await license_counts(
            services.database.unit_of_work(), telegram_user_id=user.id, now=services.clock.now()
        )
    except DomainError as error:
        # The license was added, so the reply confirms it and leaves out only the count.
        logger.warning("user %s: license count after activation not loaded: %s", user.id, error)
        await send_html(update, views.activated(card, None))
        return
    await send_html(update, views.activated(card, counts))


async def load_inventory(services: Services, telegram_user_id: int, page: int) -> Inventory:
    return await inventory(
        services.database.unit_of_work(),
        telegram_user_id=telegram_user_id,
        page_number=page,
        policy=services.policy,
        now=services.clock.now(),
    )


def build_inventory_handlers() -> list[BaseHandler]:
    return [
        CommandHandler("inventory", show_inventory, filters=PRIVATE_MESSAGE),
        CallbackQueryHandler(press_inventory_button, pattern=INVENTORY_PATTERN),
        CommandHandler("activate", activate, filters=PRIVATE_MESSAGE),
        *build_assign_handlers(),
    ]
