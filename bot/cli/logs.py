"""Logging set-up of ``licensebot run`` that keeps the bot token out of every log line."""

from __future__ import annotations

import logging
from typing import Any

TOKEN_MASK = "***"

# httpx logs every request URL at INFO and python-telegram-bot 22.8 logs the
# Bot API URL at DEBUG. Both URLs contain the bot token.
_TOKEN_LOGGING_LOGGERS = ("httpx", "httpcore", "telegram.Bot")


def configure_logging(token: str) -> None:
    """Log INFO and above to stderr and mask ``token`` in every record.

    Raising the httpx loggers to WARNING keeps request URLs out of the log.
    The token mask covers what remains: python-telegram-bot 22.8 logs a
    rejected token in the message of InvalidToken, with a traceback.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in _TOKEN_LOGGING_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.setLogRecordFactory(TokenMaskingRecordFactory(token, logging.getLogRecordFactory()))


class TokenMaskingRecordFactory:
    """A log record factory that replaces the token in the message and traceback.

    Masking at record creation covers every handler, including handlers that
    are added later. Each handler's Formatter reuses the masked ``exc_text``
    instead of formatting the exception again.
    """

    def __init__(self, token: str, wrapped: Any) -> None:
        self.token = token
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.wrapped(*args, **kwargs)
        if not self.token:
            return record
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # Leave a malformed record to the handler, which reports it.
            return record
        if self.token in message:
            record.msg = message.replace(self.token, TOKEN_MASK)
            record.args = None
        if record.exc_info:
            exception_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = exception_text.replace(self.token, TOKEN_MASK)
        return record
