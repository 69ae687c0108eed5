"""The /assign and /unassign forms: the user's e-mail address, then confirmation.

As in the order form, the draft lives in ``user_data`` and nothing changes
until Confirm, where the use case checks every rule again. Each summary
carries a draft number in its buttons, so a button of an older summary, a
second press after the change or a press after /cancel is recognised.
``/assign EMAIL`` and ``/unassign EMAIL`` skip the question.
"""

from __future__ import annotations

import enum
import logging
import re
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
    ASSIGN_FORM_PATTERN,
    UNASSIGN_FORM_PATTERN,
    CallbackData,
    ConfirmAssign,
    ConfirmUnassign,
    DiscardAssign,
    DiscardUnassign,
    InvalidCallbackData,
    decode,
)
from bot.handlers.chat_filters import PRIVATE_MESSAGE
from bot.handlers.forms import (
    FORM_TIMEOUT,
    TEXT_ANSWER,
    build_form_conversation,
    form_busy,
    other_open_form,
)
from bot.replies import edit_html, refuse, send_html
from bot.services import Services, get_services
from bot.views import inventory as views
from core.errors import DomainError, InvalidInput, LicenseNotAssignable
from core.use_cases.inventory import (
    LicenseCounts,
    assign_license,
    license_counts,
    preview_assign,
    preview_unassign,
    unassign_license,
)

logger = logging.getLogger(__name__)

# A customer's form is open exactly while its draft is in ``user_data``.
# "order_draft" is the key of bot/handlers/order.py.


class EmailFormState(enum.Enum):
    EMAIL = enum.auto()
    CONFIRM = enum.auto()


@dataclass(slots=True)
class EmailDraft:
    """The values gathered so far. ``number`` ties the summary's buttons to this draft."""

    number: int
    email: str | None = None
    license_id: int | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class EmailForm:
    """The parts that differ between the /assign and the /unassign form."""

    command: str
    confirm_type: type
    discard_type: type
    discarded: str
    send_text: str
    timed_out: str
    form_closed: str
    already_done: str

    @property
    def draft_key(self) -> str:
        return f"{self.command}_draft"

    @property
    def done_key(self) -> str:
        """The ``user_data`` key of the drafts carried out, mapped to their e-mail address."""
        return f"{self.command}_done_drafts"

    def open_draft(self, context: ContextTypes.DEFAULT_TYPE) -> EmailDraft:
        draft = EmailDraft(number=secrets.randbelow(2**31))
        context.user_data[self.draft_key] = draft
        return draft

    def draft(self, context: ContextTypes.DEFAULT_TYPE) -> EmailDraft | None:
        return context.user_data.get(self.draft_key)

    def other_form_open(self, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """Return whether another of the customer's forms waits for an answer.

        ``other_form_fallback`` covers this only when the open form's
        conversation is registered before this one, so the entry point checks
        again.
        """
        return other_open_form(context, self.command) is not None

    def finish(self, context: ContextTypes.DEFAULT_TYPE) -> int:
        context.user_data.pop(self.draft_key, None)
        return ConversationHandler.END

    def remember_done(self, context: ContextTypes.DEFAULT_TYPE, draft: EmailDraft) -> None:
        context.user_data.setdefault(self.done_key, {})[draft.number] = draft.email

    def done_email(
        self, context: ContextTypes.DEFAULT_TYPE, pressed: CallbackData | None
    ) -> str | None:
        """Return the address of the draft that ``pressed`` confirmed earlier, if any."""
        if not isinstance(pressed, self.confirm_type):
            return None
        return context.user_data.get(self.done_key, {}).get(pressed.draft)

    async def check_press(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> tuple[EmailDraft, CallbackData] | None:
        """Return the open draft and the press if the press belongs to it.

        Otherwise answer the callback query with the reason and return None.
        """
        query = update.callback_query
        assert query is not None and update.effective_user is not None
        try:
            pressed: CallbackData | None = decode(query.data)
        except InvalidCallbackData:
            logger.warning(
                "user %s sent unknown %s-form callback data",
                update.effective_user.id,
                self.command,
            )
            pressed = None
        draft = self.draft(context)
        done = self.done_email(context, pressed)
        if done is not None:
            await query.answer(self.already_done.format(email=done))
            return None
        if (
            draft is None
            or not isinstance(pressed, self.confirm_type | self.discard_type)
            or pressed.draft != draft.number
        ):
            await query.answer(views.OUTDATED_FORM, show_alert=True)
            return None
        return draft, pressed

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Leave the form at any step without changing anything."""
        await send_html(update, self.discarded)
        return self.finish(context)

    async def ask_for_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Reply to a photo, sticker or the like. The conversation stays where it was."""
        await send_html(update, self.send_text)

    async def remind_to_press(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> EmailFormState:
        await send_html(update, views.PRESS_A_BUTTON)
        return EmailFormState.CONFIRM

    async def end_after_timeout(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        minutes = int(FORM_TIMEOUT.total_seconds() // 60)
        context.user_data.pop(self.draft_key, None)
        await send_html(update, self.timed_out.format(minutes=minutes))

    async def closed_form_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a Confirm or Cancel press on a summary whose conversation has ended."""
        query = update.callback_query
        assert query is not None
        try:
            pressed: CallbackData | None = decode(query.data)
        except InvalidCallbackData:
            pressed = None
        done = self.done_email(context, pressed)
        if done is not None:
            await query.answer(self.already_done.format(email=done))
            return
        await query.answer(self.form_closed, show_alert=True)


ASSIGN = EmailForm(
    command="assign",
    confirm_type=ConfirmAssign,
    discard_type=DiscardAssign,
    discarded=views.ASSIGN_DISCARDED,
    send_text=views.ASSIGN_SEND_TEXT,
    timed_out=views.ASSIGN_TIMED_OUT,
    form_closed=views.ASSIGN_FORM_CLOSED,
    already_done=views.ALREADY_ASSIGNED,
)
UNASSIGN = EmailForm(
    command="unassign",
    confirm_type=ConfirmUnassign,
    discard_type=DiscardUnassign,
    discarded=views.UNASSIGN_DISCARDED,
    send_text=views.UNASSIGN_SEND_TEXT,
    timed_out=views.UNASSIGN_TIMED_OUT,
    form_closed=views.UNASSIGN_FORM_CLOSED,
    already_done=views.ALREADY_UNASSIGNED,
)


# /assign


async def begin_assign(update: Update, context: ContextTypes.DEFAULT_TYPE) -> EmailFormState | int:
    """Open a draft and ask for the address, or go on with ``/assign EMAIL``."""
    if ASSIGN.other_form_open(context):
        await form_busy(update, context)
        return ConversationHandler.END
    services = get_services(context)
    assert update.effective_user is not None
    try:
        counts = await _load_counts(services, update.effective_user.id)
    except DomainError as error:
        await refuse(update, error)
        return ASSIGN.finish(context)
    if counts.unused == 0:
        await send_html(update, views.NO_UNUSED_LICENSE)
        return ASSIGN.finish(context)
    draft = ASSIGN.open_draft(context)
    if context.args:
        return await _preview_assign(update, context, draft, " ".join(context.args))
    await send_html(update, views.ask_assign_email(counts))
    return EmailFormState.EMAIL


async def receive_assign_email(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> EmailFormState | int:
    assert update.message is not None
    draft = ASSIGN.draft(context)
    assert draft is not None
    return await _preview_assign(update, context, draft, update.message.text or "")


async def _preview_assign(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: EmailDraft, email: str
) -> EmailFormState | int:
    """Show the license that would be assigned, or repeat the question with the reason."""
    services = get_services(context)
    assert update.effective_user is not None
    try:
        preview = await preview_assign(
            services.database.unit_of_work(),
            telegram_user_id=update.effective_user.id,
            email=email,
            now=services.clock.now(),
        )
    except (InvalidInput, LicenseNotAssignable) as error:
        await send_html(update, views.retry_question(str(error), views.ASK_ASSIGN_EMAIL))
        return EmailFormState.EMAIL
    except DomainError as error:
        await refuse(update, error)
        return ASSIGN.finish(context)
    draft.email = preview.email
    draft.license_id = preview.license.id
    draft.timezone = preview.customer.timezone
    await send_html(update, *views.assign_summary(preview, draft.number))
    return EmailFormState.CONFIRM


async def confirm_assign(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> EmailFormState | int:
    """Assign the previewed license, or discard the draft."""
    services = get_services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    checked = await ASSIGN.check_press(update, context)
    if checked is None:
        return EmailFormState.CONFIRM
    draft, pressed = checked

    if isinstance(pressed, DiscardAssign):
        await query.answer()
        await edit_html(update, views.ASSIGN_DISCARDED)
        return ASSIGN.finish(context)

    assert draft.email is not None
    assert draft.license_id is not None
    assert draft.timezone is not None
    try:
        license = await assign_license(
            services.database.unit_of_work(),
            telegram_user_id=user.id,
            email=draft.email,
            license_id=draft.license_id,
            now=services.clock.now(),
        )
    except DomainError as error:
        await refuse(update, error)
        return ASSIGN.finish(context)

    logger.info(
        "license %s of customer %s assigned by user %s", license.id, license.customer_id, user.id
    )
    ASSIGN.remember_done(context, draft)
    await query.answer("License assigned")
    await edit_html(update, views.assigned(license, draft.timezone))
    return ASSIGN.finish(context)


# /unassign


async def begin_unassign(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> EmailFormState | int:
    """Open a draft and ask for the address, or go on with ``/unassign EMAIL``."""
    if UNASSIGN.other_form_open(context):
        await form_busy(update, context)
        return ConversationHandler.END
    services = get_services(context)
    assert update.effective_user is not None
    try:
        counts = await _load_counts(services, update.effective_user.id)
    except DomainError as error:
        await refuse(update, error)
        return UNASSIGN.finish(context)
    if counts.assigned == 0:
        await send_html(update, views.NOTHING_ASSIGNED)
        return UNASSIGN.finish(context)
    draft = UNASSIGN.open_draft(context)
    if context.args:
        return await _preview_unassign(update, context, draft, " ".join(context.args))
    await send_html(update, views.ask_unassign_email(counts.customer))
    return EmailFormState.EMAIL


async def receive_unassign_email(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> EmailFormState | int:
    assert update.message is not None
    draft = UNASSIGN.draft(context)
    assert draft is not None
    return await _preview_unassign(update, context, draft, update.message.text or "")


async def _preview_unassign(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: EmailDraft, email: str
) -> EmailFormState | int:
    """Show the license that would be taken back, or repeat the question with the reason."""
    services = get_services(context)
    assert update.effective_user is not None
    try:
        preview = await preview_unassign(
            services.database.unit_of_work(),
            telegram_user_id=update.effective_user.id,
            email=email,
        )
    except (InvalidInput, LicenseNotAssignable) as error:
        await send_html(update, views.retry_question(str(error), views.ASK_UNASSIGN_EMAIL))
        return EmailFormState.EMAIL
    except DomainError as error:
        await refuse(update, error)
        return UNASSIGN.finish(context)
    draft.email = preview.email
    draft.license_id = preview.license.id
    draft.timezone = preview.customer.timezone
    summary = views.unassign_summary(preview, services.clock.now(), draft.number)
    await send_html(update, *summary)
    return EmailFormState.CONFIRM


async def confirm_unassign(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> EmailFormState | int:
    """Take the license back from the previewed address, or discard the draft."""
    services = get_services(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    checked = await UNASSIGN.check_press(update, context)
    if checked is None:
        return EmailFormState.CONFIRM
    draft, pressed = checked

    if isinstance(pressed, DiscardUnassign):
        await query.answer()
        await edit_html(update, views.UNASSIGN_DISCARDED)
        return UNASSIGN.finish(context)

    assert draft.email is not None
    assert draft.timezone is not None
    now = services.clock.now()
    try:
        # NOTE: unassign_license takes the address, not the previewed license
        # id, so if that address was unassigned and assigned again since the
        # preview, the newer license is taken back.
        license = await unassign_license(
            services.database.unit_of_work(),
            telegram_user_id=user.id,
            email=draft.email,
            now=now,
        )
    except DomainError as error:
        await refuse(update, error)
        return UNASSIGN.finish(context)

    logger.info(
        "license %s of customer %s unassigned by user %s", license.id, license.customer_id, user.id
    )
    UNASSIGN.remember_done(context, draft)
    await query.answer("License taken back")
    await edit_html(update, views.unassigned(draft.email, license, draft.timezone, now))
    return UNASSIGN.finish(context)


async def _load_counts(services: Services, telegram_user_id: int) -> LicenseCounts:
    """Load the counts, which also checks that the person is a customer administrator."""
    return await license_counts(
        services.database.unit_of_work(),
        telegram_user_id=telegram_user_id,
        now=services.clock.now(),
    )


# Building the conversations


def build_assign_handlers() -> list[BaseHandler]:
    """Return both conversations and the handlers for their buttons after they ended.

    python-telegram-bot warns that a CallbackQueryHandler in a conversation
    with ``per_message=False`` is not tracked per message. That is intended
    here, because the draft number in each button identifies its summary.
    """
    assign = _conversation(
        ASSIGN, begin_assign, receive_assign_email, confirm_assign, ASSIGN_FORM_PATTERN
    )
    unassign = _conversation(
        UNASSIGN,
        begin_unassign,
        receive_unassign_email,
        confirm_unassign,
        UNASSIGN_FORM_PATTERN,
    )
    return [
        assign,
        unassign,
        CallbackQueryHandler(ASSIGN.closed_form_button, pattern=ASSIGN_FORM_PATTERN),
        CallbackQueryHandler(UNASSIGN.closed_form_button, pattern=UNASSIGN_FORM_PATTERN),
    ]


def _conversation(
    form: EmailForm, begin, receive_email, confirm, pattern: re.Pattern[str]
) -> ConversationHandler:
    return build_form_conversation(
        form.command,
        entry_points=[CommandHandler(form.command, begin, filters=PRIVATE_MESSAGE)],
        states={
            EmailFormState.EMAIL: [MessageHandler(TEXT_ANSWER, receive_email)],
            EmailFormState.CONFIRM: [
                CallbackQueryHandler(confirm, pattern=pattern),
                MessageHandler(TEXT_ANSWER, form.remind_to_press),
            ],
        },
        cancel=form.cancel,
        ask_for_text=form.ask_for_text,
        timed_out=form.end_after_timeout,
    )
