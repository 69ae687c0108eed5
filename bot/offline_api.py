"""A stand-in for the Telegram Bot API server, for the tests and the offline demo.

``OfflineBotApi`` is a ``telegram.request.BaseRequest``. Every Bot API call that
python-telegram-bot makes through it is recorded and answered here with the JSON
that Telegram would return, so a real ``telegram.Bot`` and a real ``Application``
run unchanged without a network. The server keeps each private chat's messages,
so edits, replies and button presses see what the chat would contain. It knows
nothing about licensebot.

Wiring it into ``telegram.ext.ApplicationBuilder`` (python-telegram-bot 22.8)::

    api = OfflineBotApi()
    builder = (
        ApplicationBuilder()
        .token("123:offline")
        .request(api)
        .get_updates_request(api)
        .updater(None)
    )

``request()`` sets the object for every method except getUpdates. Without
``get_updates_request()`` the builder creates an ``HTTPXRequest`` for getUpdates,
with an httpx client that is never used because nothing polls. Passing
the same object twice is allowed, because ``initialize()`` and ``shutdown()`` here
are no-ops that may run more than once. Once ``request()`` is set, the builder
raises RuntimeError for every HTTP option, such as ``read_timeout()`` or
``get_updates_proxy()``. ``updater(None)`` builds the application without an Updater, so updates
come only from ``Application.process_update()``.
"""

from __future__ import annotations

import copy
import json
import re
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.clock import Clock, SystemClock
from bot.offline_html import HtmlParseError, parse_html

BOT_USER_ID = 7700011122
DEFAULT_BOT_USERNAME = "licensebot_demo_bot"
DEFAULT_BOT_FIRST_NAME = "Licensebot Demo"

# Bot API limits and the error descriptions that Telegram returns.
MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
CHAT_NOT_FOUND = "Bad Request: chat not found"
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API request as the offline server received it.

    ``params`` are the decoded request parameters. ``error`` is the description
    of the error returned instead of a result, or None when the call succeeded.
    """

    method: str
    params: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SentMessage:
    """The current state of a message that the bot sent.

    ``text`` and ``entities`` are what Telegram stores after applying
    ``parse_mode``. ``source_text`` is the text exactly as the bot sent it.
    ``reply_markup`` is the markup as sent, of any kind. Only an inline
    keyboard stays on the message, and a later edit replaces it.
    """

    chat_id: int
    message_id: int
    text: str
    source_text: str
    parse_mode: str | None
    entities: tuple[dict[str, Any], ...]
    reply_markup: dict[str, Any] | None
    date: int
    edit_date: int | None = None
    reply_to_message_id: int | None = None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons, empty when the message has none."""
        if self.reply_markup is None:
            return []
        return self.reply_markup.get("inline_keyboard", [])


class _ApiError(Exception):
    """Error response of the Bot API: HTTP status, description and optional retry delay."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, description)


@dataclass(slots=True)
class _ChatHistory:
    """Messages of one private chat. User and bot messages share one id sequence."""

    chat: dict[str, Any]
    last_message_id: int = 0
    sent: dict[int, SentMessage] = field(default_factory=dict)
    incoming: dict[int, dict[str, Any]] = field(default_factory=dict)


class OfflineBotApi(BaseRequest):
    """In-memory Bot API server that records every call and responds as Telegram would.

    Supported methods: getMe, sendMessage, editMessageText,
    editMessageReplyMarkup, deleteMessage, answerCallbackQuery, setMyCommands,
    getMyCommands, deleteMyCommands, setChatMenuButton, getChatMenuButton and
    getUpdates (always empty). Any other method is recorded and returns true.
    A chat introduced with ``remember_chat`` keeps that ``Chat`` JSON. Any
    other chat is private for a positive id, a supergroup for an id that
    starts with -100, and a basic group for another negative id, as
    Telegram numbers them.
    """

    def __init__(
        self,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = DEFAULT_BOT_FIRST_NAME,
        clock: Clock | None = None,
    ) -> None:
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.clock: Clock = clock or SystemClock()
        self.calls: list[ApiCall] = []
        self._failures: dict[str, deque[_ApiError]] = {}
        self._chats: dict[int, _ChatHistory] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._answered_queries: set[str] = set()
        self._handlers = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getUpdates": self._get_updates,
        }

    # BaseRequest interface

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Do nothing: there is no connection to open."""

    async def shutdown(self) -> None:
        """Do nothing: there is no connection to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Handle one Bot API call and return the HTTP status and the JSON body."""
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params = _decode_parameters(request_data)
        try:
            result = self._answer(api_method, params)
        except _ApiError as error:
            self.calls.append(ApiCall(api_method, params, error=error.description))
            return error.error_code, json.dumps(error.to_json()).encode()
        self.calls.append(ApiCall(api_method, params))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # Scripted failures and inspection

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` return a Bot API error.

        For example ``error_code=429, description="Too Many Requests: retry
        after 3", retry_after=3`` makes python-telegram-bot raise RetryAfter,
        403 raises Forbidden and 400 raises BadRequest. The failing calls are
        recorded with their error and change no chat.
        """
        if not 400 <= error_code <= 599:
            raise ValueError(
                f"error_code must be an HTTP error status (400-599), not {error_code}"
            )
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        queue = self._failures.setdefault(method, deque())
        queue.extend(_ApiError(error_code, description, retry_after) for _ in range(count))

    def calls_of(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def clear(self) -> None:
        """Forget the recorded calls and any scripted failures not yet used.

        Chats and their messages stay, so message ids keep increasing.
        """
        self.calls.clear()
        self._failures.clear()

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Return the current state of the bot's undeleted messages in a chat, oldest first."""
        history = self._chats.get(chat_id)
        if history is None:
            return []
        return [history.sent[message_id] for message_id in sorted(history.sent)]

    # Chat state shared with UpdateFactory, which plays the user's side

    def remember_chat(self, chat: dict[str, Any]) -> None:
        """Store the ``Chat`` JSON that the bot's messages in that chat carry."""
        self._history(int(chat["id"])).chat = copy.deepcopy(chat)

    def next_message_id(self, chat_id: int) -> int:
        """Allocate the next message id of a chat, as user and bot messages share one sequence."""
        history = self._history(chat_id)
        history.last_message_id += 1
        return history.last_message_id

    def store_incoming_message(self, message: dict[str, Any]) -> None:
        """Keep a user's message so that replies and deleteMessage can find it."""
        history = self._history(int(message["chat"]["id"]))
        history.incoming[int(message["message_id"])] = copy.deepcopy(message)

    def message_json(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Return a message of either side as Telegram's ``Message`` JSON, or None."""
        history = self._chats.get(chat_id)
        if history is None:
            return None
        if message_id in history.sent:
            return self._sent_message_json(history, history.sent[message_id])
        message = history.incoming.get(message_id)
        return copy.deepcopy(message) if message is not None else None

    def now_timestamp(self) -> int:
        """Return the clock's time as Unix seconds, the unit of every Bot API date."""
        return int(self.clock.now().timestamp())

    def bot_user_json(self) -> dict[str, Any]:
        """Return the bot's ``User`` JSON as it appears in the ``from`` of its messages."""
        return {
            "id": BOT_USER_ID,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # Dispatch

    def _answer(self, api_method: str, params: dict[str, Any]) -> Any:
        failures = self._failures.get(api_method)
        if failures:
            raise failures.popleft()
        handler = self._handlers.get(api_method)
        if handler is None:
            # Methods that this stand-in does not model succeed with true, which
            # most Bot API setters return. A getter expecting an object would
            # fail to parse in python-telegram-bot, so a test notices it.
            return True
        return handler(params)

    def _history(self, chat_id: int) -> _ChatHistory:
        history = self._chats.get(chat_id)
        if history is None:
            history = _ChatHistory(chat=_default_chat(chat_id))
            self._chats[chat_id] = history
        return history

    def _sent_message_json(
        self, history: _ChatHistory, sent: SentMessage, *, include_reply: bool = True
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": sent.message_id,
            "from": self.bot_user_json(),
            "chat": copy.deepcopy(history.chat),
            "date": sent.date,
            "text": sent.text,
        }
        if sent.entities:
            data["entities"] = copy.deepcopy(list(sent.entities))
        if sent.edit_date is not None:
            data["edit_date"] = sent.edit_date
        inline_markup = _inline_markup(sent.reply_markup)
        if inline_markup is not None:
            data["reply_markup"] = copy.deepcopy(inline_markup)
        if include_reply and sent.reply_to_message_id is not None:
            replied = self._replied_json(history, sent.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = replied
        return data

    def _replied_json(self, history: _ChatHistory, message_id: int) -> dict[str, Any] | None:
        # Telegram nests reply_to_message one level deep only.
        if message_id in history.sent:
            return self._sent_message_json(history, history.sent[message_id], include_reply=False)
        message = history.incoming.get(message_id)
        if message is None:
            return None
        replied = copy.deepcopy(message)
        replied.pop("reply_to_message", None)
        return replied

    # Methods

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        history = self._history(_chat_id(params))
        text, entities = _message_text(params)
        reply_markup = _checked_reply_markup(params.get("reply_markup"))
        reply_to = _reply_to_message_id(params)
        if reply_to is not None and self._replied_json(history, reply_to) is None:
            if not _allows_missing_reply(params):
                raise _bad_request(REPLY_NOT_FOUND)
            reply_to = None
        sent = SentMessage(
            chat_id=int(history.chat["id"]),
            message_id=self.next_message_id(int(history.chat["id"])),
            text=text,
            source_text=params["text"],
            parse_mode=params.get("parse_mode"),
            entities=entities,
            reply_markup=reply_markup,
            date=self.now_timestamp(),
            reply_to_message_id=reply_to,
        )
        history.sent[sent.message_id] = sent
        return self._sent_message_json(history, sent)

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        history, current = self._message_to_edit(params)
        text, entities = _message_text(params)
        changed = replace(
            current,
            text=text,
            source_text=params["text"],
            parse_mode=params.get("parse_mode"),
            entities=entities,
            # An edit without reply_markup removes the inline keyboard.
            reply_markup=_checked_inline_markup(params.get("reply_markup")),
            edit_date=self.now_timestamp(),
        )
        return self._store_edit(history, current, changed)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        history, current = self._message_to_edit(params)
        changed = replace(
            current,
            reply_markup=_checked_inline_markup(params.get("reply_markup")),
            edit_date=self.now_timestamp(),
        )
        return self._store_edit(history, current, changed)

    def _message_to_edit(self, params: dict[str, Any]) -> tuple[_ChatHistory, SentMessage]:
        if "inline_message_id" in params:
            # NOTE: messages sent via inline mode are never stored here.
            raise _bad_request("Bad Request: MESSAGE_ID_INVALID")
        history = self._chats.get(_chat_id(params))
        message_id = _int_param(params, "message_id")
        if history is None or message_id is None:
            raise _bad_request(EDIT_NOT_FOUND)
        if message_id in history.incoming:
            raise _bad_request("Bad Request: message can't be edited")
        current = history.sent.get(message_id)
        if current is None:
            raise _bad_request(EDIT_NOT_FOUND)
        return history, current

    def _store_edit(
        self, history: _ChatHistory, current: SentMessage, changed: SentMessage
    ) -> dict[str, Any]:
        before = (current.text, current.entities, _inline_markup(current.reply_markup))
        after = (changed.text, changed.entities, _inline_markup(changed.reply_markup))
        if before == after:
            raise _bad_request(NOT_MODIFIED)
        history.sent[changed.message_id] = changed
        return self._sent_message_json(history, changed)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        history = self._chats.get(_chat_id(params))
        message_id = _int_param(params, "message_id")
        if history is None or message_id is None:
            raise _bad_request(DELETE_NOT_FOUND)
        if history.sent.pop(message_id, None) is None and (
            history.incoming.pop(message_id, None) is None
        ):
            raise _bad_request(DELETE_NOT_FOUND)
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        # Telegram accepts one answer per callback query and rejects a second
        # one like an unknown id.
        if not query_id or query_id in self._answered_queries:
            raise _bad_request(QUERY_INVALID)
        self._answered_queries.add(query_id)
        return True

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise _bad_request("Bad Request: BOT_COMMAND_INVALID")
        self._commands[_commands_key(params)] = copy.deepcopy(commands)
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return copy.deepcopy(self._commands.get(_commands_key(params), []))

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    def _set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        chat_id = _int_param(params, "chat_id")
        button = params.get("menu_button") or {"type": "default"}
        self._menu_buttons[chat_id] = copy.deepcopy(button)
        return True

    def _get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int_param(params, "chat_id")
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "default"})

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return []


def _decode_parameters(request_data: RequestData | None) -> dict[str, Any]:
    """Return the request's parameters as plain JSON values (lists, dicts, str, int)."""
    if request_data is None:
        return {}
    return json.loads(json.dumps(request_data.parameters))


def _default_chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}


def _int_param(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return None


def _chat_id(params: dict[str, Any]) -> int:
    # NOTE: "@channelusername" chat ids are not modelled and return chat not found.
    chat_id = _int_param(params, "chat_id")
    if chat_id is None:
        raise _bad_request(CHAT_NOT_FOUND)
    return chat_id


def _message_text(params: dict[str, Any]) -> tuple[str, tuple[dict[str, Any], ...]]:
    """Apply ``parse_mode`` to the ``text`` parameter as Telegram does, or raise _ApiError."""
    source = params.get("text")
    if not isinstance(source, str) or not source.strip():
        raise _bad_request(TEXT_EMPTY)
    parse_mode = params.get("parse_mode")
    if parse_mode is None:
        text, entities = source, tuple(params.get("entities") or ())
    elif str(parse_mode).upper() == "HTML":
        try:
            parsed = parse_html(source)
        except HtmlParseError as error:
            raise _bad_request(error.description) from None
        text, entities = parsed.text, parsed.entities
    elif parse_mode in ("Markdown", "MarkdownV2"):
        # NOTE: Markdown and MarkdownV2 are not parsed, so the text is stored with its markup.
        text, entities = source, ()
    else:
        raise _bad_request("Bad Request: unsupported parse_mode")
    if not text.strip():
        raise _bad_request(TEXT_EMPTY)
    if len(text) > MAX_MESSAGE_LENGTH:
        raise _bad_request(TEXT_TOO_LONG)
    return text, entities


def _checked_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Return the markup of a new message, or raise _ApiError for invalid buttons."""
    if markup is None:
        return None
    if isinstance(markup, str):
        markup = json.loads(markup)
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request(BUTTON_DATA_INVALID)
    return markup


def _checked_inline_markup(markup: Any) -> dict[str, Any] | None:
    """Return the markup of an edit, which may only be an inline keyboard."""
    checked = _checked_reply_markup(markup)
    if checked is not None and "inline_keyboard" not in checked:
        # NOTE: the wording of this description is not taken from Telegram.
        raise _bad_request("Bad Request: inline keyboard expected")
    return checked


def _inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    if markup is None or "inline_keyboard" not in markup:
        return None
    return markup


def _reply_to_message_id(params: dict[str, Any]) -> int | None:
    reply_parameters = params.get("reply_parameters")
    if isinstance(reply_parameters, dict):
        return _int_param(reply_parameters, "message_id")
    return _int_param(params, "reply_to_message_id")


def _allows_missing_reply(params: dict[str, Any]) -> bool:
    reply_parameters = params.get("reply_parameters")
    if isinstance(reply_parameters, dict) and reply_parameters.get("allow_sending_without_reply"):
        return True
    return bool(params.get("allow_sending_without_reply"))


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")
