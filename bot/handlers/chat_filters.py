"""Filters shared by the handlers.

The bot works in private chats only, and reads new messages only: an
edited message is answered by the fallback handlers instead of being taken
as a second answer.
"""

from telegram.ext import filters

PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
GROUP_MESSAGE = ~filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
PRIVATE_EDIT = filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE
