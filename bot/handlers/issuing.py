"""The dealer's side: /pending, /stock, and issuing an order after one confirmation step.

An order is issued from its Issue button (in /pending or on the order
notification) or by replying to the notification with a confirming word.
Both lead to the same question with "Yes, issue" and "No" buttons, and
only "Yes, issue" calls ``issue_order``.

The reply handler runs in its own group before every other handler
(``ISSUE_REPLY_GROUP``). A reply that is not about an order notification
passes on to the usual handlers, so a customer who replies to a question
of a form still reaches that form.
"""

from __future__ import annotations

import logging
import unicodedata

from telegram import Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.callbacks import (
    ISSUING_PATTERN,
    AskIssue,
    ConfirmIssue,
    DeclineIssue,
    InvalidCallbackData,
    ShowPendingPage,
    decode,
)
from bot.delivery import request_delivery
from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.replies import edit_html, refuse, send_html
from bot.services import Services, get_services
from bot.views import issuing as views
from core.errors import DomainError, StockShort
from core.use_cases.issuing import (
    PendingOrders,
    issue_order,
    order_for_reply,
    pending_orders,
    preview_issue,
    stock_level,
)

logger = logging.getLogger(__name__)

# Replies that confirm an issue, compared after case folding and with
# surrounding whitespace and punctuation removed. Words of other languages
# can be added here.
CONFIRMING_WORDS = ("issue", "yes", "ok", "okay", "confirm")
# Handler group of the reply handler; lower groups run first.
ISSUE_REPLY_GROUP = -1
UNKNOWN_BUTTON = "This button is no longer valid. Send /pending to see the orders again."


class _RepliesToBot(filters.MessageFilter):
    """Messages that reply to a message of the bot (in a private chat, the only bot there)."""

    __slots__ = ()

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None and replied.from_user.is_bot


_REPLY_TO_BOT = PRIVATE_MESSAGE & filters.TEXT & ~filters.COMMAND & _RepliesToBot()


def is_confirming_word(text: str) -> bool:
    """Return whether ``text`` is one of CONFIRMING_WORDS, ignoring case and punctuation."""
    return _strip_padding(text).casefold() in CONFIRMING_WORDS


async def show_pending(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the first page of the dealer's orders waiting for issuance."""
    user = update.effective_user
    assert user is not None
    try:
        pending = await _load_page(get_services(context), user.id, 1)
    except DomainError as error:
        await refuse(update, error)
        return
    await send_html(update, *views.render_pending(pending))


async def show_stock(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    assert user is not None
    try:
        dealer, stock = await stock_level(
            get_services(context).database.unit_of_work(), telegram_user_id=user.id
        )
    except DomainError as error:
        await refuse(update, error)
        return
    await send_html(update, views.render_stock(dealer, stock))


async def press_issuing_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move between pending pages, ask to confirm an issue, or carry it out."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    services = get_services(context)
    try:
        pressed = decode(query.data)
    except InvalidCallbackData:
        logger.warning("user %s sent unknown issuing callback data", user.id)
        await query.answer(UNKNOWN_BUTTON, show_alert=True)
        return
    try:
        if isinstance(pressed, ShowPendingPage):
            await _show_page(update, services, pressed)
        elif isinstance(pressed, AskIssue):
            await _ask(update, services, pressed.order_id)
        elif isinstance(pressed, ConfirmIssue):
            await _issue(update, context, pressed.order_id)
        elif isinstance(pressed, DeclineIssue):
            await query.answer()
            await edit_html(update, views.NOT_ISSUED)
        else:
            await query.answer(UNKNOWN_BUTTON, show_alert=True)
    except DomainError as error:
        await refuse(update, error)


async def reply_to_notification(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Issue the order whose notification the dealer replied to, after one confirmation.

    Returns without sending anything when the replied-to message is not an
    order notification, so that the handlers of the next group handle the reply.
    """
    message = update.message
    user = update.effective_user
    assert message is not None
    assert user is not None
    assert message.reply_to_message is not None
    services = get_services(context)
    replied = message.reply_to_message
    order_id = await order_for_reply(
        services.database.unit_of_work(),
        telegram_user_id=user.id,
        chat_id=message.chat_id,
        message_id=replied.message_id,
    )
    if order_id is None:
        if _has_issue_button(replied):
            # A reply to the /pending list: its buttons name several orders.
            await send_html(update, views.NOT_AN_ORDER_NOTIFICATION)
            raise ApplicationHandlerStop
        return
    confirming = is_confirming_word(message.text or "")
    logger.info(
        "user %s replied to the notification of order %s (confirming: %s)",
        user.id,
        order_id,
        confirming,
    )
    try:
        preview = await preview_issue(
            services.database.unit_of_work(),
            telegram_user_id=user.id,
            order_id=order_id,
            now=services.clock.now(),
        )
    except StockShort as error:
        # An order that cannot be issued now is reported only to a confirming
        # reply; any other reply learns which words are accepted.
        if confirming:
            await refuse(update, error)
            raise ApplicationHandlerStop from None
        preview = None
    except DomainError as error:
        await refuse(update, error)
        raise ApplicationHandlerStop from None
    if not confirming or preview is None:
        await send_html(update, views.unknown_reply(CONFIRMING_WORDS))
    else:
        await send_html(update, *views.render_issue_question(preview))
    raise ApplicationHandlerStop


async def _ask(update: Update, services: Services, order_id: int) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    preview = await preview_issue(
        services.database.unit_of_work(),
        telegram_user_id=update.effective_user.id,
        order_id=order_id,
        now=services.clock.now(),
    )
    await query.answer()
    # A new message, so that the notification or the /pending list stays as it was.
    await send_html(update, *views.render_issue_question(preview))


async def _issue(update: Update, context: ContextTypes.DEFAULT_TYPE, order_id: int) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    services = get_services(context)
    issued = await issue_order(
        services.database.unit_of_work(),
        telegram_user_id=user.id,
        order_id=order_id,
        now=services.clock.now(),
    )
    logger.info(
        "order %s issued by user %s: %s licenses to customer %s",
        issued.order.id,
        user.id,
        issued.order.quantity,
        issued.customer.id,
    )
    request_delivery(context)
    await query.answer("Licenses issued")
    await edit_html(update, views.render_issued(issued))


async def _show_page(update: Update, services: Services, pressed: ShowPendingPage) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    # Loading first also rejects a forged page number that names the current page.
    pending = await _load_page(services, update.effective_user.id, pressed.page)
    if pressed.page == pressed.current:
        await query.answer(f"You are already on page {pressed.page}.")
        return
    await query.answer()
    await edit_html(update, *views.render_pending(pending))


async def _load_page(services: Services, telegram_user_id: int, page: int) -> PendingOrders:
    return await pending_orders(
        services.database.unit_of_work(),
        telegram_user_id=telegram_user_id,
        page_number=page,
        policy=services.policy,
    )


def _has_issue_button(message: Message) -> bool:
    markup = message.reply_markup
    if markup is None:
        return False
    for row in markup.inline_keyboard:
        for button in row:
            try:
                if isinstance(decode(button.callback_data), AskIssue):
                    return True
            except InvalidCallbackData:
                continue
    return False


def _strip_padding(text: str) -> str:
    """Return ``text`` without leading and trailing whitespace and punctuation."""
    start, end = 0, len(text)
    while start < end and _is_padding(text[start]):
        start += 1
    while end > start and _is_padding(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_padding(character: str) -> bool:
    return character.isspace() or unicodedata.category(character).startswith("P")


def build_issuing_handlers() -> list[BaseHandler]:
    """Return the handlers of the main group; the reply handler is separate."""
    return [
        CommandHandler("pending", show_pending, filters=PRIVATE_MESSAGE),
        CommandHandler("stock", show_stock, filters=PRIVATE_MESSAGE),
        CallbackQueryHandler(press_issuing_button, pattern=ISSUING_PATTERN),
    ]


def build_issue_reply_handler() -> BaseHandler:
    """Return the handler of text replies, to be added in ISSUE_REPLY_GROUP."""
    return MessageHandler(_REPLY_TO_BOT, reply_to_notification)
