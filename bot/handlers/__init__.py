"""Telegram handlers. Each one reads the update, calls one use case and renders the result."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from bot.handlers.audit import build_audit_handlers
from bot.handlers.auto_assign import build_auto_assign_handlers
from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.handlers.dealer import build_dealer_handlers
from bot.handlers.errors import handle_error
from bot.handlers.fallback import build_fallback_handlers
from bot.handlers.history import build_history_handlers
from bot.handlers.inventory import build_inventory_handlers
from bot.handlers.issuances import build_issuances_handlers
from bot.handlers.issuing import (
    ISSUE_REPLY_GROUP,
    build_issue_reply_handler,
    build_issuing_handlers,
)
from bot.handlers.membership_updates import add_membership_handlers
from bot.handlers.order import build_closed_form_handlers, build_order_conversation
from bot.handlers.private_only import build_private_only_handler
from bot.handlers.start import show_help, start


def register_handlers(application: Application) -> None:
    """Add every handler in the order in which they are tried."""
    application.add_handlers(
        [
            build_order_conversation(),
            CommandHandler("start", start, filters=PRIVATE_MESSAGE),
            CommandHandler("help", show_help, filters=PRIVATE_MESSAGE),
            *build_history_handlers(),
            *build_dealer_handlers(),
            *build_issuing_handlers(),
            *build_inventory_handlers(),
            *build_auto_assign_handlers(),
            *build_issuances_handlers(),
            *build_audit_handlers(),
            *build_closed_form_handlers(),
            *build_fallback_handlers(),
        ]
    )
    # Group -2 runs first and stops button presses from groups; the reply
    # handler's group comes next so that a reply to an order notification is
    # read before any conversation sees it.
    application.add_handler(build_private_only_handler(), group=-2)
    application.add_handler(build_issue_reply_handler(), group=ISSUE_REPLY_GROUP)
    add_membership_handlers(application)
    application.add_error_handler(handle_error)
