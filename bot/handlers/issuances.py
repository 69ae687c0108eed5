"""/issuances: the issuances an administrator may cancel, and the form that cancels one.

The list is paged and edited in place by its buttons, like /history. Its
"Cancel issuance" buttons open a conversation that asks for the reason as a
typed message, then shows a summary with Yes and No. Only Yes calls
``cancel_issuance``, which checks every rule again at that moment. Each
summary carries a draft number in its buttons, so a press on an older
summary, a second press after the cancellation, or a press after /cancel is
recognised.
"""

from __future__ import annotations

import enum
import logging
import secrets
from dataclasses import dataclass

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
)

from bot.callbacks import (
    ISSUANCE_CANCEL_PATTERN,
    ISSUANCE_FORM_PATTERN,
    ISSUANCES_PAGE_PATTERN,
    AskCancelIssuance,
    ConfirmCancelIssuance,
    InvalidCallbackData,
    IssuancesPage,
    KeepIssuance,
    decode,
)
from bot.delivery import request_delivery
from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.handlers.forms import (
    FORM_TIMEOUT,
    TEXT_ANSWER,
    build_form_conversation,
)
from bot.replies import edit_html, refuse, send_html
from bot.services import Services, get_services
from bot.views import issuances as views
from core.errors import DomainError, InvalidInput
from core.paging import Page
from core.use_cases.issuances import (
    Issuance,
    cancel_issuance,
    cancellable_issuances,
    normalise_reason,
    preview_cancel_issuance,
)

logger = logging.getLogger(__name__)

_DRAFT_KEY = "issuance_draft"
_CANCELLED_KEY = "cancelled_issuance_drafts"


class IssuanceState(enum.Enum):
    REASON = enum.auto()
    CONFIRM = enum.auto()


@dataclass(slots=True)
class IssuanceDraft:
    """The chosen issuance and the typed reason. ``number`` ties the buttons to this draft."""

    number: int
    issuance: Issuance
    reason: str | None = None


async def show_issuances(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Send the first page of cancellable issuances, closing any open cancel form."""
    services = get_services(context)
    user = update.effective_user
    assert user is not None
    try:
        page = await _load_page(services, user.id, 1)
    except DomainError as error:
        await refuse(update, error)
        return _finish(context)
    notice = None
    open_draft: IssuanceDraft | None = context.user_data.get(_DRAFT_KEY)
    if open_draft is not None:
        notice = views.form_replaced(open_draft.issuance.order.po_number)
    await send_html(update, *views.render_issuances(page, services.policy.cancel_window, notice))
    return _finish(context)


async def press_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move the list to the pressed page. Pressing the page already shown changes nothing."""
    services = get_services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    pressed = _decode(query.data, user.id)
    if not isinstance(pressed, IssuancesPage):
        await query.answer(views.UNKNOWN_BUTTON, show_alert=True)
        return
    try:
        # Loading first also rejects a forged page number that names the current page.
        page = await _load_page(services, user.id, pressed.page)
    except DomainError as error:
        await refuse(update, error)
        return
    if pressed.page == pressed.current:
        await query.answer(f"You are already on page {pressed.page}.")
        return
    await query.answer()
    await edit_html(update, *views.render_issuances(page, services.policy.cancel_window))


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> IssuanceState | int | None:
    """Check that the pressed issuance can be cancelled now, then ask for the reason."""
    services = get_services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    pressed = _decode(query.data, user.id)
    if not isinstance(pressed, AskCancelIssuance):
        await query.answer(views.UNKNOWN_BUTTON, show_alert=True)
        return _keep_open_form(context)
    try:
        issuance = await preview_cancel_issuance(
            services.database.unit_of_work(),
            telegram_user_id=user.id,
            order_id=pressed.order_id,
            policy=services.policy,
            now=services.clock.now(),
        )
    except DomainError as error:
        await refuse(update, error)
        return _keep_open_form(context)
    context.user_data[_DRAFT_KEY] = IssuanceDraft(
        number=secrets.randbelow(2**31), issuance=issuance
    )
    await query.answer()
    await send_html(update, views.ask_reason(issuance))
    return IssuanceState.REASON


async def receive_reason(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> IssuanceState | int:
    """Store the reason if it is accepted, then show the summary with Yes and No."""
    draft = _draft(context)
    assert update.message is not None
    try:
        draft.reason = normalise_reason(update.message.text or "")
    except InvalidInput as error:
        await send_html(update, views.retry_reason(str(error), draft.issuance))
        return IssuanceState.REASON
    # The window may have closed, or a license been assigned, while the
    # reason was typed; say so now rather than after the confirmation.
    services = get_services(context)
    assert update.effective_user is not None
    try:
        await preview_cancel_issuance(
            services.database.unit_of_work(),
            telegram_user_id=update.effective_user.id,
            order_id=draft.issuance.order.id,
            policy=services.policy,
            now=services.clock.now(),
        )
    except DomainError as error:
        await refuse(update, error)
        return _finish(context)
    await send_html(update, *views.confirmation(draft.issuance, draft.reason, draft.number))
    return IssuanceState.CONFIRM


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> IssuanceState | int:
    """Cancel the drafted issuance on Yes, or close the form on No."""
    services = get_services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    draft = _draft(context)
    pressed = _decode(query.data, user.id)

    if isinstance(pressed, KeepIssuance) and pressed.draft == draft.number:
        await query.answer()
        await edit_html(update, views.KEPT)
        return _finish(context)
    order_id = draft.issuance.order.id
    if (
        not isinstance(pressed, ConfirmCancelIssuance)
        or pressed.draft != draft.number
        or pressed.order_id != order_id
    ):
        await query.answer(views.OUTDATED_FORM, show_alert=True)
        return IssuanceState.CONFIRM

    assert draft.reason is not None
    try:
        result = await cancel_issuance(
            services.database.unit_of_work(),
            telegram_user_id=user.id,
            order_id=order_id,
            reason=draft.reason,
            policy=services.policy,
            now=services.clock.now(),
        )
    except DomainError as error:
        await refuse(update, error)
        return _finish(context)

    logger.info(
        "issuance of order %s cancelled by user %s; %s licenses returned to dealer %s",
        order_id,
        user.id,
        result.licenses_returned,
        result.dealer.id,
    )
    context.user_data.setdefault(_CANCELLED_KEY, {})[draft.number] = result.order.po_number
    await query.answer("Issuance cancelled")
    await edit_html(update, views.cancelled(result))
    request_delivery(context)
    return _finish(context)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Leave the form at any step without cancelling anything."""
    await send_html(update, views.KEPT)
    return _finish(context)


async def remind_to_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> IssuanceState:
    await send_html(update, views.PRESS_A_BUTTON)
    return IssuanceState.CONFIRM


async def ask_for_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a photo, sticker or the like; the form stays where it was."""
    await send_html(update, views.SEND_TEXT)


async def timed_out(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    minutes = int(FORM_TIMEOUT.total_seconds() // 60)
    context.user_data.pop(_DRAFT_KEY, None)
    await send_html(update, views.TIMED_OUT.format(minutes=minutes))


async def closed_form_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a Yes or No press on a summary whose form has ended."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    pressed = _decode(query.data, user.id)
    cancelled = context.user_data.get(_CANCELLED_KEY, {})
    if isinstance(pressed, ConfirmCancelIssuance) and pressed.draft in cancelled:
        po_number = cancelled[pressed.draft]
        await query.answer(views.ALREADY_CANCELLED.format(po_number=po_number), show_alert=True)
        return
    await query.answer(views.FORM_CLOSED, show_alert=True)


async def _load_page(services: Services, telegram_user_id: int, page: int) -> Page[Issuance]:
    return await cancellable_issuances(
        services.database.unit_of_work(),
        telegram_user_id=telegram_user_id,
        page_number=page,
        policy=services.policy,
        now=services.clock.now(),
    )


def _decode(raw: str | None, telegram_user_id: int) -> object | None:
    try:
        return decode(raw)
    except InvalidCallbackData:
        logger.warning("user %s sent unknown issuance callback data", telegram_user_id)
        return None


def _draft(context: ContextTypes.DEFAULT_TYPE) -> IssuanceDraft:
    return context.user_data[_DRAFT_KEY]


def _keep_open_form(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """Return the state after a rejected press: an open form stays where it was.

    None keeps the conversation's state. With no form open, END is needed,
    because None would also start a timeout for a form that does not exist.
    """
    if _DRAFT_KEY in context.user_data:
        return None
    return ConversationHandler.END


def _finish(context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data.pop(_DRAFT_KEY, None)
    return ConversationHandler.END


def build_issuances_handlers() -> list[BaseHandler]:
    """Return the cancel form and the handlers of page buttons and of closed forms' buttons.

    python-telegram-bot warns that a CallbackQueryHandler in a conversation
    with ``per_message=False`` is not tracked per message. That is intended
    here, because the draft number in the button tells summaries apart.
    """
    conversation = _conversation()
    return [
        conversation,
        CallbackQueryHandler(press_page_button, pattern=ISSUANCES_PAGE_PATTERN),
        CallbackQueryHandler(closed_form_button, pattern=ISSUANCE_FORM_PATTERN),
    ]


def _conversation() -> ConversationHandler:
    return build_form_conversation(
        "issuances",
        entry_points=[
            CommandHandler("issuances", show_issuances, filters=PRIVATE_MESSAGE),
            CallbackQueryHandler(begin, pattern=ISSUANCE_CANCEL_PATTERN),
        ],
        states={
            IssuanceState.REASON: [MessageHandler(TEXT_ANSWER, receive_reason)],
            IssuanceState.CONFIRM: [
                CallbackQueryHandler(confirm, pattern=ISSUANCE_FORM_PATTERN),
                MessageHandler(TEXT_ANSWER, remind_to_press),
            ],
        },
        cancel=cancel,
        ask_for_text=ask_for_text,
        timed_out=timed_out,
    )
