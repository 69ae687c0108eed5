"""Telegram updates built offline, shaped like the JSON that Telegram delivers.

``UpdateFactory`` plays the user's side of private chats with the bot. Each
method returns one ``Update`` as a JSON dict. Pass it to
``telegram.Update.de_json(data, bot)`` and then to
``Application.process_update()``. The factory shares the chats of an
``OfflineBotApi``, so user and bot messages draw their ids from one sequence
per chat, and button presses and replies carry the bot's message as the API
stored it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.offline_api import OfflineBotApi
from bot.offline_html import utf16_length

# A bot command as Telegram's clients mark it: "/" and up to 32 letters,
# digits or underscores, optionally followed by "@" and a bot username, at the
# start of the text or after whitespace.
_BOT_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?(?![\w@/])")


@dataclass(frozen=True, slots=True)
class OfflineUser:
    """A Telegram user who chats with the bot in a private chat."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def user_json(self) -> dict[str, Any]:
        """Return the ``User`` JSON that Telegram puts in ``from``."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_json(self) -> dict[str, Any]:
        """Return the ``Chat`` JSON of the user's private chat with the bot."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


def bot_command_entities(text: str) -> list[dict[str, Any]]:
    """Return a ``bot_command`` entity for each command in ``text``, in UTF-16 units."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_length(text[: match.start()]),
            "length": utf16_length(match.group(0)),
        }
        for match in _BOT_COMMAND.finditer(text)
    ]


class UpdateFactory:
    """Builder of updates from users, numbered from ``first_update_id`` upwards."""

    def __init__(self, api: OfflineBotApi, *, first_update_id: int = 1) -> None:
        self.api = api
        self._next_update_id = first_update_id
        self._next_callback_query_id = 1

    def message(
        self, user: OfflineUser, text: str, *, reply_to_message_id: int | None = None
    ) -> dict[str, Any]:
        """Build a text message from ``user``, with ``bot_command`` entities for its commands.

        Raises LookupError when ``reply_to_message_id`` names no message in the
        user's chat.
        """
        self.api.remember_chat(user.chat_json())
        message: dict[str, Any] = {
            "message_id": self.api.next_message_id(user.id),
            "from": user.user_json(),
            "chat": user.chat_json(),
            "date": self.api.now_timestamp(),
            "text": text,
        }
        entities = bot_command_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to_message_id is not None:
            replied = self._stored_message(user, reply_to_message_id)
            # Telegram nests reply_to_message one level deep only.
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        self.api.store_incoming_message(message)
        return self._update("message", message)

    def command(
        self,
        user: OfflineUser,
        command: str,
        argument: str = "",
        *,
        mention_bot: bool = False,
    ) -> dict[str, Any]:
        """Build ``/command argument``, or ``/command@botname argument`` with ``mention_bot``.

        ``command`` is given without the leading "/", for example ``"start"``.
        """
        text = f"/{command.removeprefix('/')}"
        if mention_bot:
            text += f"@{self.api.bot_username}"
        if argument:
            text += f" {argument}"
        return self.message(user, text)

    def reply(
        self, user: OfflineUser, text: str, *, to_message_id: int | None = None
    ) -> dict[str, Any]:
        """Build a reply to ``to_message_id``, or to the bot's latest message in the chat.

        Raises LookupError when the chat has no such message.
        """
        if to_message_id is None:
            sent = self.api.messages_to(user.id)
            if not sent:
                raise LookupError(f"The bot has sent no message to chat {user.id} to reply to.")
            to_message_id = sent[-1].message_id
        return self.message(user, text, reply_to_message_id=to_message_id)

    def callback_query(self, user: OfflineUser, message_id: int, data: str) -> dict[str, Any]:
        """Build the press of an inline button with ``data`` on the bot's message.

        ``data`` is sent as given, even if no button of the message carries
        it, so that tests can also send forged or outdated callback data.
        Raises LookupError when the message is not in the user's chat.
        """
        query = {
            "id": f"{user.id}{self._next_callback_query_id:06d}",
            "from": user.user_json(),
            "message": self._stored_message(user, message_id),
            # Telegram sends an opaque identifier that stays the same for every
            # button press in one chat.
            "chat_instance": str(-(10**18) - user.id),
            "data": data,
        }
        self._next_callback_query_id += 1
        return self._update("callback_query", query)

    def _stored_message(self, user: OfflineUser, message_id: int) -> dict[str, Any]:
        stored = self.api.message_json(user.id, message_id)
        if stored is None:
            raise LookupError(f"Message {message_id} does not exist in chat {user.id}.")
        return stored

    def _update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        return update
