"""/start (with or without an invite code) and /help."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.menus import commands_for, publish_menu
from bot.replies import refuse, send_html
from bot.services import get_services
from bot.views.welcome import render_help, render_welcome
from core.errors import DomainError
from core.use_cases.membership import describe_member, redeem_invite

logger = logging.getLogger(__name__)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Redeem the invite code given with /start, or greet the member."""
    services = get_services(context)
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    code = " ".join(context.args or [])
    joined = False
    if code:
        try:
            await redeem_invite(
                services.database.unit_of_work(),
                code=code,
                telegram_user_id=user.id,
                name=user.full_name,
                now=services.clock.now(),
            )
            joined = True
            logger.info("user %s redeemed an invite", user.id)
        except DomainError as error:
            await refuse(update, error)

    member = await describe_member(services.database.unit_of_work(), telegram_user_id=user.id)
    tier = member.organisation.tier if member else None
    await publish_menu(context.bot, update.effective_chat.id, tier)
    if joined or not code:
        await send_html(update, render_welcome(member, commands_for(tier), joined=joined))


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands this member may use."""
    services = get_services(context)
    user = update.effective_user
    assert user is not None
    member = await describe_member(services.database.unit_of_work(), telegram_user_id=user.id)
    tier = member.organisation.tier if member else None
    await send_html(update, render_help(member, commands_for(tier)))
