"""Whether a member can receive messages: blocked, unblocked, or back with /start.

Telegram sends a ``my_chat_member`` update when a user blocks the bot
(status "kicked") and when they unblock it or restart it (status
"member"). The dispatcher also records a member unreachable when a send
fails because the bot was blocked or the chat is gone.

A member becomes reachable again only through these two handlers: the
``my_chat_member`` update with status "member", and /start. Other messages
from an unreachable member do not change the record, which keeps every
message free of an extra database write. Unblocking the bot in a Telegram
client sends the update, and its Restart button sends /start, so one of
the two arrives whenever a member comes back.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import Application, ChatMemberHandler, CommandHandler, ContextTypes

from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.services import get_services
from core.use_cases.reachability import record_reachability

logger = logging.getLogger(__name__)

# Handler group of both handlers. It runs before every other group and
# never stops an update, so /start still reaches its own handler.
REACHABILITY_GROUP = -3


def add_membership_handlers(application: Application) -> None:
    """Add the handlers that record a member reachable or unreachable."""
    application.add_handler(
        ChatMemberHandler(record_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        group=REACHABILITY_GROUP,
    )
    application.add_handler(
        CommandHandler("start", record_start, filters=PRIVATE_MESSAGE),
        group=REACHABILITY_GROUP,
    )


async def record_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record the member unreachable when they block the bot, reachable when they unblock it."""
    change = update.my_chat_member
    assert change is not None
    if change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    if status == ChatMemberStatus.BANNED:
        reachable = False
    elif status == ChatMemberStatus.MEMBER:
        reachable = True
    else:
        return
    await _record(context, change.from_user.id, reachable, f"chat member status {status}")


async def record_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record the member reachable, because a user who sends /start can receive the answer."""
    user = update.effective_user
    assert user is not None
    await _record(context, user.id, True, "/start")


async def _record(
    context: ContextTypes.DEFAULT_TYPE, telegram_user_id: int, reachable: bool, cause: str
) -> None:
    services = get_services(context)
    changed = await record_reachability(
        services.database.unit_of_work(),
        telegram_user_id=telegram_user_id,
        reachable=reachable,
        now=services.clock.now(),
    )
    if changed:
        logger.info(
            "user %s recorded %s after %s",
            telegram_user_id,
            "reachable" if reachable else "unreachable",
            cause,
        )
