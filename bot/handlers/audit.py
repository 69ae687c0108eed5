"""/audit PO: the audit trail of the orders with a PO number (headquarters, business centres)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.replies import refuse, send_html
from bot.services import get_services
from bot.views.audit import USAGE, render_trails
from core.errors import DomainError, InvalidPoNumber
from core.use_cases.audit_trail import order_trails


async def show_audit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the trail of each order with the PO number that the member may see."""
    user = update.effective_user
    assert user is not None
    # The PO number is everything after the command. Joining the words with
    # one space loses nothing, because PO numbers are compared that way.
    po_number = " ".join(context.args or [])
    try:
        trails = await order_trails(
            get_services(context).database.unit_of_work(),
            telegram_user_id=user.id,
            po_number=po_number,
        )
    except InvalidPoNumber as error:
        # The use case checks the tier first, so only a member who may read
        # the trail gets here with an empty PO number.
        if po_number:
            await refuse(update, error)
        else:
            await send_html(update, USAGE)
        return
    except DomainError as error:
        await refuse(update, error)
        return
    for text in render_trails(trails):
        await send_html(update, text)


def build_audit_handlers() -> list[BaseHandler]:
    return [CommandHandler("audit", show_audit, filters=PRIVATE_MESSAGE)]
