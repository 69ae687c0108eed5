"""/autoassign EMAIL on|off: whether an expired license of a user is renewed automatically."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.replies import refuse, send_html
from bot.services import get_services
from bot.views import auto_assign as views
from core.errors import DomainError
from core.use_cases.license_users import set_auto_assign

logger = logging.getLogger(__name__)

_SWITCHES = {"on": True, "off": False}


async def change_auto_assign(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn auto-assign on or off for one user of the member's customer."""
    services = get_services(context)
    user = update.effective_user
    assert user is not None
    words = context.args or []

    if not words:
        await send_html(update, views.USAGE)
        return
    if len(words) == 1:
        await send_html(update, views.missing_switch(words[0]))
        return
    if len(words) > 2:
        await send_html(update, views.too_many_words(len(words)))
        return
    email, switch = words
    enabled = _SWITCHES.get(switch.casefold())
    if enabled is None:
        await send_html(update, views.invalid_switch(switch))
        return

    try:
        email = await set_auto_assign(
            services.database.unit_of_work(),
            telegram_user_id=user.id,
            email=email,
            enabled=enabled,
            now=services.clock.now(),
        )
    except DomainError as error:
        await refuse(update, error)
        return
    logger.info("user %s turned auto-assign %s for a license user", user.id, switch.casefold())
    await send_html(update, views.changed(email, enabled))


def build_auto_assign_handlers() -> list[BaseHandler]:
    return [CommandHandler("autoassign", change_auto_assign, filters=PRIVATE_MESSAGE)]
