"""OfflineBotApi and UpdateFactory, driven through a real telegram.Bot and Application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext import filters as ext_filters

from bot.clock import ShiftedClock
from bot.offline_api import (
    BOT_USER_ID,
    DEFAULT_BOT_USERNAME,
    NOT_MODIFIED,
    QUERY_INVALID,
    ApiCall,
    OfflineBotApi,
)
from bot.offline_updates import OfflineUser, UpdateFactory, bot_command_entities

TOKEN = "123:offline"
AIKO = OfflineUser(5001, "Aiko", "Tanaka", username="aiko_t", language_code="de")
DANA = OfflineUser(6001, "Dana", "Weber")


def keyboard(*labels_and_data: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in labels_and_data]]
    )


@pytest.fixture
def api() -> OfflineBotApi:
    return OfflineBotApi()


@pytest.fixture
async def bot(api: OfflineBotApi) -> AsyncIterator[Bot]:
    bot = Bot(token=TOKEN, request=api, get_updates_request=api)
    await bot.initialize()
    yield bot
    await bot.shutdown()


@pytest.fixture
def factory(api: OfflineBotApi) -> UpdateFactory:
    return UpdateFactory(api)


# getMe and the BaseRequest contract


async def test_initialize_calls_get_me(api: OfflineBotApi, bot: Bot) -> None:
    assert bot.id == BOT_USER_ID
    assert bot.username == DEFAULT_BOT_USERNAME
    assert bot.bot.is_bot is True
    assert bot.bot.can_join_groups is True
    assert api.calls == [ApiCall("getMe", {})]


async def test_get_me_uses_configured_username() -> None:
    api = OfflineBotApi(bot_username="other_test_bot", bot_first_name="Other")
    async with Bot(token=TOKEN, request=api) as bot:
        assert bot.username == "other_test_bot"
        assert bot.first_name == "Other"


async def test_same_api_for_both_requests(api: OfflineBotApi) -> None:
    bot = Bot(token=TOKEN, request=api, get_updates_request=api)
    await bot.initialize()
    await bot.shutdown()
    await bot.initialize()
    assert await bot.get_updates() == ()
    await bot.shutdown()
    assert [call.method for call in api.calls] == ["getMe", "getMe", "getUpdates"]


# sendMessage


async def test_send_message_returns_full_message(api: OfflineBotApi, bot: Bot) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    markup = keyboard(("‹", "hp:1:2"), ("›", "hp:3:2"))

    message = await bot.send_message(5001, "Your orders", reply_markup=markup)

    assert message.message_id == 1
    assert message.chat.id == 5001
    assert message.chat.type == "private"
    assert message.from_user is not None
    assert message.from_user.id == BOT_USER_ID
    assert message.text == "Your orders"
    assert message.reply_markup == markup
    assert before <= message.date <= datetime.now(UTC)
    assert message.edit_date is None


async def test_send_message_records_call(api: OfflineBotApi, bot: Bot) -> None:
    await bot.send_message(5001, "Hello", reply_markup=keyboard(("OK", "ok:1")))

    [call] = api.calls_of("sendMessage")
    assert call.params == {
        "chat_id": 5001,
        "text": "Hello",
        "reply_markup": {"inline_keyboard": [[{"text": "OK", "callback_data": "ok:1"}]]},
    }
    assert call.error is None


async def test_message_ids_increase_per_chat(bot: Bot) -> None:
    first = await bot.send_message(5001, "one")
    second = await bot.send_message(5001, "two")
    other_chat = await bot.send_message(6001, "one")

    assert (first.message_id, second.message_id) == (1, 2)
    assert other_chat.message_id == 1


async def test_group_chat_types(bot: Bot) -> None:
    supergroup = await bot.send_message(-1001234567890, "hello")
    group = await bot.send_message(-4012345, "hello")

    assert supergroup.chat.type == "supergroup"
    assert group.chat.type == "group"


async def test_message_date_follows_clock() -> None:
    clock = ShiftedClock(timedelta(days=20))
    api = OfflineBotApi(clock=clock)
    async with Bot(token=TOKEN, request=api) as bot:
        message = await bot.send_message(5001, "later")
    assert message.date >= datetime.now(UTC) + timedelta(days=19)


async def test_html_becomes_text_and_entities(api: OfflineBotApi, bot: Bot) -> None:
    message = await bot.send_message(
        5001, "<b>PO</b> 4711 &amp; &lt;more&gt; 😀 <i>x</i>", parse_mode=ParseMode.HTML
    )

    assert message.text == "PO 4711 & <more> 😀 x"
    assert message.entities == (
        MessageEntity(MessageEntity.BOLD, 0, 2),
        # The emoji counts as two UTF-16 code units.
        MessageEntity(MessageEntity.ITALIC, 20, 1),
    )
    assert message.text_html == "<b>PO</b> 4711 &amp; &lt;more&gt; 😀 <i>x</i>"
    [sent] = api.messages_to(5001)
    assert sent.text == "PO 4711 & <more> 😀 x"
    assert sent.source_text == "<b>PO</b> 4711 &amp; &lt;more&gt; 😀 <i>x</i>"
    assert sent.parse_mode == "HTML"


@pytest.mark.parametrize(
    "text",
    [
        "PO <4711>",
        "a < b",
        "line<br>break",
        "<b>open",
        "<b>crossed</i>",
        "closed</b>",
        "<span>plain span</span>",
    ],
)
async def test_invalid_html_is_rejected(api: OfflineBotApi, bot: Bot, text: str) -> None:
    with pytest.raises(BadRequest, match=r"^Can't parse entities: "):
        await bot.send_message(5001, text, parse_mode=ParseMode.HTML)

    [call] = api.calls_of("sendMessage")
    assert call.error is not None
    assert call.error.startswith("Bad Request: can't parse entities: ")
    assert api.messages_to(5001) == []


async def test_unsupported_tag_names_offset(bot: Bot) -> None:
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(5001, "é <p>x</p>", parse_mode=ParseMode.HTML)
    assert str(raised.value) == 'Can\'t parse entities: unsupported start tag "p" at byte offset 3'


async def test_empty_text_is_rejected(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(5001, "<b> </b>", parse_mode=ParseMode.HTML)


async def test_too_long_text_is_rejected(bot: Bot) -> None:
    await bot.send_message(5001, "x" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(5001, "x" * 4097)


async def test_long_callback_data_is_rejected(bot: Bot) -> None:
    await bot.send_message(5001, "fits", reply_markup=keyboard(("ok", "x" * 64)))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(5001, "too long", reply_markup=keyboard(("ok", "x" * 65)))


async def test_force_reply_not_echoed(api: OfflineBotApi, bot: Bot) -> None:
    message = await bot.send_message(5001, "PO number?", reply_markup=ForceReply())

    assert message.reply_markup is None
    [sent] = api.messages_to(5001)
    assert sent.reply_markup == {"force_reply": True}
    assert sent.inline_keyboard == []


async def test_reply_to_message_is_included(bot: Bot) -> None:
    question = await bot.send_message(5001, "Question")
    answer = await bot.send_message(5001, "Answer", reply_to_message_id=question.message_id)

    assert answer.reply_to_message is not None
    assert answer.reply_to_message.message_id == question.message_id
    assert answer.reply_to_message.text == "Question"


async def test_reply_to_missing_message_is_rejected(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(5001, "Answer", reply_to_message_id=99)


# editMessageText and editMessageReplyMarkup


async def test_edit_text_updates_message(api: OfflineBotApi, bot: Bot) -> None:
    original = await bot.send_message(5001, "Page 1", reply_markup=keyboard(("›", "hp:2:1")))
    new_markup = keyboard(("‹", "hp:1:2"))

    edited = await bot.edit_message_text(
        "<b>Page 2</b>",
        chat_id=5001,
        message_id=original.message_id,
        parse_mode=ParseMode.HTML,
        reply_markup=new_markup,
    )

    assert isinstance(edited, type(original))
    assert edited.message_id == original.message_id
    assert edited.text == "Page 2"
    assert edited.reply_markup == new_markup
    assert edited.edit_date is not None
    [sent] = api.messages_to(5001)
    assert sent.text == "Page 2"
    assert sent.inline_keyboard == [[{"text": "‹", "callback_data": "hp:1:2"}]]
    assert sent.edit_date is not None


async def test_edit_text_without_markup_removes_keyboard(api: OfflineBotApi, bot: Bot) -> None:
    original = await bot.send_message(5001, "Cancel?", reply_markup=keyboard(("Yes", "y")))

    edited = await bot.edit_message_text("Cancelled", chat_id=5001, message_id=1)

    assert original.reply_markup is not None
    assert edited.reply_markup is None
    assert api.messages_to(5001)[0].reply_markup is None


async def test_edit_same_content_not_modified(api: OfflineBotApi, bot: Bot) -> None:
    markup = keyboard(("›", "hp:2:1"))
    await bot.send_message(5001, "<b>Page 1</b>", parse_mode=ParseMode.HTML, reply_markup=markup)

    with pytest.raises(BadRequest) as raised:
        await bot.edit_message_text(
            "<b>Page 1</b>",
            chat_id=5001,
            message_id=1,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )

    assert str(raised.value).startswith("Message is not modified: specified new message")
    assert api.calls[-1].error == NOT_MODIFIED
    assert api.messages_to(5001)[0].edit_date is None


async def test_edit_with_new_formatting_is_modified(bot: Bot) -> None:
    await bot.send_message(5001, "<b>Total</b>", parse_mode=ParseMode.HTML)

    edited = await bot.edit_message_text(
        "<i>Total</i>", chat_id=5001, message_id=1, parse_mode=ParseMode.HTML
    )

    assert edited.entities == (MessageEntity(MessageEntity.ITALIC, 0, 5),)


async def test_edit_markup_updates_keyboard(api: OfflineBotApi, bot: Bot) -> None:
    await bot.send_message(5001, "Order 7", reply_markup=keyboard(("Cancel", "oc?:7:1")))
    confirm = keyboard(("Yes, cancel", "oc!:7:1"), ("Keep", "hp:1:1"))

    edited = await bot.edit_message_reply_markup(chat_id=5001, message_id=1, reply_markup=confirm)

    assert edited.text == "Order 7"
    assert edited.reply_markup == confirm
    assert api.messages_to(5001)[0].text == "Order 7"
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_reply_markup(chat_id=5001, message_id=1, reply_markup=confirm)


async def test_edit_unknown_message_not_found(api: OfflineBotApi, bot: Bot) -> None:
    await bot.send_message(5001, "exists")

    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("new", chat_id=5001, message_id=42)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_reply_markup(chat_id=6001, message_id=1)
    assert api.calls[-1].error == "Bad Request: message to edit not found"


async def test_edit_user_message_is_rejected(bot: Bot, factory: UpdateFactory) -> None:
    update = Update.de_json(factory.message(AIKO, "hello"), bot)
    assert update.message is not None

    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_text("changed", chat_id=AIKO.id, message_id=update.message.id)


# Other methods


async def test_delete_message(api: OfflineBotApi, bot: Bot) -> None:
    await bot.send_message(5001, "one")
    await bot.send_message(5001, "two")

    assert await bot.delete_message(5001, 1) is True

    assert [sent.text for sent in api.messages_to(5001)] == ["two"]
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(5001, 1)


async def test_answer_callback_query(api: OfflineBotApi, bot: Bot) -> None:
    assert await bot.answer_callback_query("5001000001", text="Order cancelled") is True

    [call] = api.calls_of("answerCallbackQuery")
    assert call.params == {"callback_query_id": "5001000001", "text": "Order cancelled"}


async def test_second_callback_answer_rejected(api: OfflineBotApi, bot: Bot) -> None:
    await bot.answer_callback_query("5001000001")

    with pytest.raises(BadRequest, match=r"^Query is too old and response timeout expired"):
        await bot.answer_callback_query("5001000001", text="again")

    assert api.calls[-1].error == QUERY_INVALID
    assert await bot.answer_callback_query("5001000002") is True


async def test_commands_are_stored_per_scope(api: OfflineBotApi, bot: Bot) -> None:
    general = [BotCommand("start", "Link your account"), BotCommand("help", "List commands")]
    customer = [BotCommand("order", "Order licenses"), *general]

    assert await bot.set_my_commands(general) is True
    assert await bot.set_my_commands(customer, scope=BotCommandScopeChat(5001)) is True

    assert await bot.get_my_commands() == tuple(general)
    assert await bot.get_my_commands(scope=BotCommandScopeChat(5001)) == tuple(customer)
    assert await bot.get_my_commands(scope=BotCommandScopeChat(6001)) == ()
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(5001)) is True
    assert await bot.get_my_commands(scope=BotCommandScopeChat(5001)) == ()
    [call] = api.calls_of("deleteMyCommands")
    assert call.params == {"scope": {"type": "chat", "chat_id": 5001}}


async def test_invalid_command_name_is_rejected(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Order-Now", "Order licenses")])


async def test_chat_menu_button(api: OfflineBotApi, bot: Bot) -> None:
    assert await bot.set_chat_menu_button(chat_id=5001, menu_button=MenuButtonCommands()) is True

    assert await bot.get_chat_menu_button(chat_id=5001) == MenuButtonCommands()
    [call] = api.calls_of("setChatMenuButton")
    assert call.params == {"chat_id": 5001, "menu_button": {"type": "commands"}}


async def test_get_updates_is_empty(bot: Bot) -> None:
    assert await bot.get_updates(timeout=0) == ()


async def test_unmodelled_method_returns_true(api: OfflineBotApi, bot: Bot) -> None:
    assert await bot.send_chat_action(5001, "typing") is True

    assert api.calls[-1] == ApiCall("sendChatAction", {"chat_id": 5001, "action": "typing"})


# Scripted failures


async def test_fail_next_retry_after(
    api: OfflineBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, python-telegram-bot 22.8 warns with a
    # PTBDeprecationWarning while it builds RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 3",
        retry_after=3,
    )

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(5001, "first")

    assert raised.value.retry_after == timedelta(seconds=3)
    assert api.calls[-1].error == "Too Many Requests: retry after 3"
    assert api.messages_to(5001) == []
    sent = await bot.send_message(5001, "second")
    assert sent.text == "second"


async def test_fail_next_error_body(api: OfflineBotApi) -> None:
    api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 3",
        retry_after=3,
    )

    status, body = await api.do_request("https://api.telegram.org/bot1:x/sendMessage", "POST")

    assert status == 429
    assert api.parse_json_payload(body) == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


async def test_fail_next_forbidden(api: OfflineBotApi, bot: Bot) -> None:
    api.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )

    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(5001, "hello")


async def test_fail_next_counts_calls(api: OfflineBotApi, bot: Bot) -> None:
    api.fail_next(
        "sendMessage", error_code=400, description="Bad Request: chat not found", count=2
    )

    for _ in range(2):
        with pytest.raises(BadRequest, match=r"^Chat not found$"):
            await bot.send_message(5001, "hello")
    message = await bot.send_message(5001, "third")

    assert message.message_id == 1
    assert [call.error is None for call in api.calls_of("sendMessage")] == [False, False, True]


async def test_fail_next_only_affects_its_method(api: OfflineBotApi, bot: Bot) -> None:
    api.fail_next("editMessageText", error_code=400, description="Bad Request: chat not found")

    message = await bot.send_message(5001, "unaffected")

    assert message.text == "unaffected"
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.edit_message_text("new", chat_id=5001, message_id=message.message_id)


@pytest.mark.parametrize(
    ("error_code", "count"),
    [(200, 1), (302, 1), (600, 1), (400, 0)],
)
def test_fail_next_rejects_bad_arguments(error_code: int, count: int) -> None:
    api = OfflineBotApi()
    with pytest.raises(ValueError):
        api.fail_next("sendMessage", error_code=error_code, description="x", count=count)


# Helpers


async def test_calls_of_and_clear(api: OfflineBotApi, bot: Bot) -> None:
    await bot.send_message(5001, "one")
    api.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found")

    api.clear()

    assert api.calls == []
    second = await bot.send_message(5001, "two")
    assert second.message_id == 2
    assert [call.params["text"] for call in api.calls_of("sendMessage")] == ["two"]
    assert [sent.text for sent in api.messages_to(5001)] == ["one", "two"]


async def test_messages_to_returns_snapshots(api: OfflineBotApi, bot: Bot) -> None:
    await bot.send_message(5001, "before")
    snapshot = api.messages_to(5001)

    await bot.edit_message_text("after", chat_id=5001, message_id=1)

    assert snapshot[0].text == "before"
    assert api.messages_to(5001)[0].text == "after"
    assert api.messages_to(7001) == []


# UpdateFactory


async def test_text_message_update(bot: Bot, factory: UpdateFactory) -> None:
    data = factory.message(AIKO, "PO-4711")
    update = Update.de_json(data, bot)

    assert update.update_id == 1
    message = update.message
    assert message is not None
    assert message.text == "PO-4711"
    assert message.entities == ()
    assert message.chat.id == AIKO.id
    assert message.chat.type == "private"
    assert message.chat.first_name == "Aiko"
    assert message.from_user is not None
    assert message.from_user.id == AIKO.id
    assert message.from_user.full_name == "Aiko Tanaka"
    assert message.from_user.username == "aiko_t"
    assert message.from_user.language_code == "de"
    assert message.from_user.is_bot is False
    assert abs(message.date - datetime.now(UTC)) < timedelta(seconds=5)


async def test_command_with_argument(bot: Bot, factory: UpdateFactory) -> None:
    update = Update.de_json(factory.command(AIKO, "start", "Zx-81_code"), bot)

    assert update.message is not None
    assert update.message.text == "/start Zx-81_code"
    assert update.message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 6),)
    handler = CommandHandler("start", lambda update, context: None)
    match = handler.check_update(update)
    assert isinstance(match, tuple)
    assert match[0] == ["Zx-81_code"]


async def test_command_mentioning_bot(bot: Bot, factory: UpdateFactory) -> None:
    update = Update.de_json(factory.command(AIKO, "history", mention_bot=True), bot)

    assert update.message is not None
    assert update.message.text == f"/history@{DEFAULT_BOT_USERNAME}"
    assert update.message.entities == (
        MessageEntity(MessageEntity.BOT_COMMAND, 0, len(update.message.text)),
    )
    assert CommandHandler("history", lambda update, context: None).check_update(update)
    assert not CommandHandler("order", lambda update, context: None).check_update(update)


def test_command_entities_in_text() -> None:
    assert bot_command_entities("😀 /help now") == [
        {"type": "bot_command", "offset": 3, "length": 5}
    ]
    assert bot_command_entities("see /a/b or x/help or /help.") == [
        {"type": "bot_command", "offset": 22, "length": 5}
    ]
    assert bot_command_entities("no commands here") == []


async def test_user_and_bot_share_message_ids(
    api: OfflineBotApi, bot: Bot, factory: UpdateFactory
) -> None:
    first = Update.de_json(factory.message(AIKO, "hi"), bot)
    answer = await bot.send_message(AIKO.id, "hello")
    second = Update.de_json(factory.message(AIKO, "again"), bot)
    other = Update.de_json(factory.message(DANA, "hi"), bot)

    assert first.message is not None and second.message is not None
    assert other.message is not None
    assert (first.message.id, answer.message_id, second.message.id) == (1, 2, 3)
    assert other.message.id == 1
    assert [first.update_id, second.update_id, other.update_id] == [1, 2, 3]


async def test_bot_messages_carry_user_chat(bot: Bot, factory: UpdateFactory) -> None:
    factory.message(AIKO, "hi")

    answer = await bot.send_message(AIKO.id, "hello")

    assert answer.chat.first_name == "Aiko"
    assert answer.chat.username == "aiko_t"


async def test_callback_query_update(bot: Bot, factory: UpdateFactory) -> None:
    markup = keyboard(("‹", "hp:1:2"), ("›", "hp:3:2"))
    sent = await bot.send_message(
        AIKO.id, "<b>Orders</b>, page 2", parse_mode=ParseMode.HTML, reply_markup=markup
    )

    first = Update.de_json(factory.callback_query(AIKO, sent.message_id, "hp:3:2"), bot)
    second = Update.de_json(factory.callback_query(AIKO, sent.message_id, "hp:1:2"), bot)

    query = first.callback_query
    assert query is not None and second.callback_query is not None
    assert query.data == "hp:3:2"
    assert query.from_user.id == AIKO.id
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert query.message.text == "Orders, page 2"
    assert query.message.reply_markup == markup
    assert query.message.from_user is not None
    assert query.message.from_user.id == BOT_USER_ID
    assert query.id != second.callback_query.id
    assert query.chat_instance == second.callback_query.chat_instance
    assert CallbackQueryHandler(lambda update, context: None, pattern=r"^hp:").check_update(first)


async def test_callback_query_sees_edited_message(bot: Bot, factory: UpdateFactory) -> None:
    await bot.send_message(AIKO.id, "Page 1", reply_markup=keyboard(("›", "hp:2:1")))
    await bot.edit_message_text(
        "Page 2", chat_id=AIKO.id, message_id=1, reply_markup=keyboard(("‹", "hp:1:2"))
    )

    update = Update.de_json(factory.callback_query(AIKO, 1, "hp:1:2"), bot)

    assert update.callback_query is not None
    message = update.callback_query.message
    assert message is not None
    assert message.text == "Page 2"
    assert message.edit_date is not None


async def test_callback_query_on_missing_message(factory: UpdateFactory) -> None:
    with pytest.raises(LookupError, match="Message 3 does not exist in chat 5001"):
        factory.callback_query(AIKO, 3, "hp:1:1")


async def test_reply_to_latest_bot_message(bot: Bot, factory: UpdateFactory) -> None:
    await bot.send_message(AIKO.id, "Older")
    question = await bot.send_message(AIKO.id, "Send the PO number", reply_markup=ForceReply())

    update = Update.de_json(factory.reply(AIKO, "PO-1"), bot)

    message = update.message
    assert message is not None
    assert message.text == "PO-1"
    assert message.reply_to_message is not None
    assert message.reply_to_message.message_id == question.message_id
    assert message.reply_to_message.text == "Send the PO number"
    assert message.reply_to_message.from_user is not None
    assert message.reply_to_message.from_user.id == BOT_USER_ID
    assert ext_filters.REPLY.check_update(update)


async def test_reply_to_given_message(bot: Bot, factory: UpdateFactory) -> None:
    own = Update.de_json(factory.message(AIKO, "my note"), bot)
    await bot.send_message(AIKO.id, "Latest")
    assert own.message is not None

    update = Update.de_json(factory.reply(AIKO, "see above", to_message_id=own.message.id), bot)

    assert update.message is not None
    assert update.message.reply_to_message is not None
    assert update.message.reply_to_message.text == "my note"
    assert update.message.reply_to_message.from_user is not None
    assert update.message.reply_to_message.from_user.id == AIKO.id


async def test_reply_without_bot_message(factory: UpdateFactory) -> None:
    with pytest.raises(LookupError, match="no message to chat 5001"):
        factory.reply(AIKO, "anyone?")


async def test_bot_reply_to_user_message(bot: Bot, factory: UpdateFactory) -> None:
    incoming = Update.de_json(factory.message(AIKO, "/order"), bot)
    assert incoming.message is not None

    answer = await incoming.message.reply_text("Send the PO number", do_quote=True)

    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "/order"


# Application wiring


async def test_application_with_offline_api(api: OfflineBotApi, factory: UpdateFactory) -> None:
    async def echo(update: Update, context: object) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(api)
        .get_updates_request(api)
        .updater(None)
        .build()
    )
    application.add_handler(MessageHandler(ext_filters.TEXT, echo))

    async with application:
        await application.start()
        await application.process_update(
            Update.de_json(factory.message(AIKO, "hi"), application.bot)
        )
        await application.stop()

    assert application.updater is None
    assert [sent.text for sent in api.messages_to(AIKO.id)] == ["echo: hi"]
