"""Settings shared by every test."""

import os

# python-telegram-bot 22 returns durations such as RetryAfter.retry_after as
# timedelta only with PTB_TIMEDELTA set, and warns otherwise; the tests treat
# warnings as errors and expect the timedelta behaviour that the bot uses.
os.environ.setdefault("PTB_TIMEDELTA", "true")
