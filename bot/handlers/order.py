"""The /order conversation: PO number, number of licenses, then confirmation.

The Order button of a shortage warning opens the same form with the number
of licenses filled in, so it asks only for the PO number.

The draft lives in ``user_data`` until the person confirms; only then does
``place_order`` write anything, in one transaction. Each summary carries a
draft number in its buttons, so a button of an older summary, a second
press after the order was placed, or a press after /cancel is recognised.
"""

from __future__ import annotations

import enum
import logging
import secrets
from dataclasses import dataclass

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
)

from bot.callbacks import (
    ORDER_FORM_PATTERN,
    ORDER_MISSING_PATTERN,
    ConfirmOrder,
    DiscardOrder,
    InvalidCallbackData,
    OrderMissing,
    decode,
)
from bot.delivery import request_delivery
from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.handlers.forms import (
    FORM_TIMEOUT,
    TEXT_ANSWER,
    build_form_conversation,
    form_busy,
    other_open_form,
)
from bot.replies import edit_html, refuse, send_html
from bot.services import get_services
from bot.views import orders as views
from core.errors import (
    DomainError,
    DuplicatePoNumber,
    InvalidPoNumber,
    InvalidQuantity,
)
from core.orders import check_quantity, parse_quantity
from core.use_cases.ordering import OrderForm, check_po_number, place_order, start_order

logger = logging.getLogger(__name__)

_DRAFT_KEY = "order_draft"
_PLACED_KEY = "placed_drafts"


class OrderState(enum.Enum):
    PO_NUMBER = enum.auto()
    QUANTITY = enum.auto()
    CONFIRM = enum.auto()


@dataclass(slots=True)
class OrderDraft:
    """The answers gathered so far; ``number`` ties buttons to this draft.

    ``preset_quantity`` is set when the form was opened from a shortage
    warning: the form then skips the question for the number of licenses.
    """

    number: int
    form: OrderForm
    po_number: str | None = None
    quantity: int | None = None
    preset_quantity: int | None = None


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> OrderState | int:
    """Open a new draft and ask for the PO number."""
    services = get_services(context)
    user = update.effective_user
    assert user is not None
    if other_open_form(context, "order") is not None:
        await form_busy(update, context)
        return ConversationHandler.END
    try:
        form = await start_order(services.database.unit_of_work(), telegram_user_id=user.id)
    except DomainError as error:
        await refuse(update, error)
        # With re-entry, an earlier draft may still be stored; it is closed too.
        return _finish(context)
    context.user_data[_DRAFT_KEY] = OrderDraft(number=secrets.randbelow(2**31), form=form)
    await send_html(update, views.ask_po_number(form))
    return OrderState.PO_NUMBER


async def begin_with_quantity(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> OrderState | None:
    """Open a draft for the number of licenses a shortage warning named; ask for the PO number.

    The number comes from callback data, which can be forged, so it is
    checked here and again by ``place_order`` at Confirm. A rejected press
    returns None, which leaves an order form that is already open as it was.
    """
    services = get_services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    try:
        pressed = decode(query.data)
    except InvalidCallbackData:
        pressed = None
    if not isinstance(pressed, OrderMissing):
        logger.warning("user %s sent unknown order callback data %r", user.id, query.data)
        await query.answer(views.UNKNOWN_ORDER_BUTTON, show_alert=True)
        return None
    if other_open_form(context, "order") is not None:
        await query.answer(views.FORM_BUSY_BUTTON, show_alert=True)
        return None
    try:
        quantity = check_quantity(pressed.quantity, services.policy.max_licenses_per_order)
        form = await start_order(services.database.unit_of_work(), telegram_user_id=user.id)
    except DomainError as error:
        await refuse(update, error)
        return None
    await query.answer()
    context.user_data[_DRAFT_KEY] = OrderDraft(
        number=secrets.randbelow(2**31), form=form, preset_quantity=quantity
    )
    await send_html(update, views.ask_po_number(form, quantity))
    return OrderState.PO_NUMBER


async def receive_po_number(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> OrderState | int:
    """Store the PO number if it is valid and unused, then ask for the quantity.

    A draft with a preset number of licenses goes straight to the summary.
    """
    services = get_services(context)
    draft = context.user_data.get(_DRAFT_KEY)
    if draft is None:
        return await _draft_gone(update)
    assert update.message is not None and update.effective_user is not None
    try:
        draft.po_number = await check_po_number(
            services.database.unit_of_work(),
            telegram_user_id=update.effective_user.id,
            text=update.message.text or "",
        )
    except (InvalidPoNumber, DuplicatePoNumber) as error:
        question = views.ask_po_number(draft.form, draft.preset_quantity)
        await send_html(update, views.retry_question(str(error), question))
        return OrderState.PO_NUMBER
    if draft.preset_quantity is not None:
        draft.quantity = draft.preset_quantity
        text, markup = views.summary(draft.form, draft.po_number, draft.quantity, draft.number)
        await send_html(update, text, markup)
        return OrderState.CONFIRM
    maximum = services.policy.max_licenses_per_order
    await send_html(update, views.ask_quantity(draft.po_number, maximum))
    return OrderState.QUANTITY


async def receive_quantity(update: Update, context: ContextTypes.DEFAULT_TYPE) -> OrderState | int:
    """Store the number of licenses if it is accepted, then show the summary."""
    services = get_services(context)
    draft = context.user_data.get(_DRAFT_KEY)
    if draft is None:
        return await _draft_gone(update)
    assert update.message is not None and draft.po_number is not None
    maximum = services.policy.max_licenses_per_order
    try:
        draft.quantity = parse_quantity(update.message.text or "", maximum)
    except InvalidQuantity as error:
        question = views.ask_quantity(draft.po_number, maximum)
        await send_html(update, views.retry_question(str(error), question))
        return OrderState.QUANTITY
    text, markup = views.summary(draft.form, draft.po_number, draft.quantity, draft.number)
    await send_html(update, text, markup)
    return OrderState.CONFIRM


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> OrderState | int:
    """Place the drafted order, or send the person back to the question at fault."""
    services = get_services(context)
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    draft: OrderDraft | None = context.user_data.get(_DRAFT_KEY)
    if draft is None:
        # A press handled at the same moment placed or discarded the draft.
        await closed_form_button(update, context)
        return ConversationHandler.END

    try:
        pressed = decode(query.data)
    except InvalidCallbackData:
        logger.warning("user %s sent unknown order-form callback data", update.effective_user.id)
        pressed = None
    if not isinstance(pressed, ConfirmOrder | DiscardOrder) or pressed.draft != draft.number:
        await query.answer(views.OUTDATED_FORM, show_alert=True)
        return OrderState.CONFIRM

    if isinstance(pressed, DiscardOrder):
        await query.answer()
        await edit_html(update, views.DISCARDED)
        return _finish(context)

    assert draft.po_number is not None and draft.quantity is not None
    try:
        result = await place_order(
            services.database.unit_of_work(),
            telegram_user_id=update.effective_user.id,
            po_number=draft.po_number,
            quantity=draft.quantity,
            policy=services.policy,
            now=services.clock.now(),
        )
    except DuplicatePoNumber as error:
        if context.user_data.get(_DRAFT_KEY) is not draft:
            # A press processed at the same moment placed this very draft.
            await query.answer(views.ALREADY_PLACED.format(po_number=draft.po_number))
            return ConversationHandler.END
        await query.answer()
        question = views.ask_po_number(draft.form, draft.preset_quantity)
        await send_html(update, views.retry_question(str(error), question))
        return OrderState.PO_NUMBER
    except InvalidQuantity as error:
        await query.answer()
        question = views.ask_quantity(draft.po_number, services.policy.max_licenses_per_order)
        await send_html(update, views.retry_question(str(error), question))
        return OrderState.QUANTITY
    except DomainError as error:
        await refuse(update, error)
        return _finish(context)

    logger.info(
        "order %s placed by user %s for customer %s",
        result.order.id,
        update.effective_user.id,
        result.customer.id,
    )
    context.user_data.setdefault(_PLACED_KEY, {})[draft.number] = result.order.po_number
    # Closed before the awaits below, so that a second press handled at the
    # same moment finds no draft.
    _finish(context)
    request_delivery(context)

    try:
        await query.answer("Order placed")
        await edit_html(update, views.placed(result, services.policy.cancel_window))
    except TelegramError:
        # The order is stored, so the form must close even if Telegram
        # rejected the confirmation; /history shows the order.
        logger.exception("order %s placed, but its confirmation was not shown", result.order.id)
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Leave the order form at any step without ordering."""
    await send_html(update, views.DISCARDED)
    return _finish(context)


async def no_open_form(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer /cancel when no order form is open."""
    await send_html(update, views.NO_OPEN_FORM)


async def remind_to_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> OrderState:
    await send_html(update, views.PRESS_A_BUTTON)
    return OrderState.CONFIRM


async def ask_for_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a photo, sticker or the like; the conversation stays where it was."""
    await send_html(update, views.SEND_TEXT + " " + views.CANCEL_HINT)


async def timed_out(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    minutes = int(FORM_TIMEOUT.total_seconds() // 60)
    context.user_data.pop(_DRAFT_KEY, None)
    await send_html(update, views.TIMED_OUT.format(minutes=minutes))


async def closed_form_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a Confirm or Cancel press on a summary whose conversation has ended."""
    query = update.callback_query
    assert query is not None
    try:
        pressed = decode(query.data)
    except InvalidCallbackData:
        pressed = None
    placed = context.user_data.get(_PLACED_KEY, {})
    if isinstance(pressed, ConfirmOrder) and pressed.draft in placed:
        await query.answer(views.ALREADY_PLACED.format(po_number=placed[pressed.draft]))
        return
    await query.answer(views.FORM_CLOSED, show_alert=True)


class _OwnButtonHandler(CallbackQueryHandler):
    """A CallbackQueryHandler that never takes a query without callback data.

    python-telegram-bot 22.8 hands a query with empty data to every
    CallbackQueryHandler, whatever its pattern. As an entry point of this
    conversation, which comes first, it would take every such query from
    the handlers registered after it.
    """

    def check_update(self, update: object) -> bool | object | None:
        if isinstance(update, Update) and update.callback_query and not update.callback_query.data:
            return None
        return super().check_update(update)


def _draft(context: ContextTypes.DEFAULT_TYPE) -> OrderDraft:
    return context.user_data[_DRAFT_KEY]


async def _draft_gone(update: Update) -> int:
    """Close a conversation whose draft was placed or dropped by a press handled meanwhile."""
    await send_html(update, views.FORM_CLOSED)
    return ConversationHandler.END


def _finish(context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data.pop(_DRAFT_KEY, None)
    return ConversationHandler.END


def build_order_conversation() -> ConversationHandler:
    """Build the order form; its Confirm and Cancel buttons are tracked per user."""
    return build_form_conversation(
        "order",
        entry_points=[
            CommandHandler("order", begin, filters=PRIVATE_MESSAGE),
            _OwnButtonHandler(begin_with_quantity, pattern=ORDER_MISSING_PATTERN),
        ],
        states={
            OrderState.PO_NUMBER: [MessageHandler(TEXT_ANSWER, receive_po_number)],
            OrderState.QUANTITY: [MessageHandler(TEXT_ANSWER, receive_quantity)],
            OrderState.CONFIRM: [
                CallbackQueryHandler(confirm, pattern=ORDER_FORM_PATTERN),
                MessageHandler(TEXT_ANSWER, remind_to_press),
            ],
        },
        cancel=cancel,
        ask_for_text=ask_for_text,
        timed_out=timed_out,
    )


def build_closed_form_handlers() -> list[BaseHandler]:
    """Handlers for order-form input that arrives after its conversation ended."""
    return [
        CallbackQueryHandler(closed_form_button, pattern=ORDER_FORM_PATTERN),
        CommandHandler("cancel", no_open_form, filters=PRIVATE_MESSAGE),
    ]
