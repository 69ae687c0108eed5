"""Settings shared by every test."""

import os

# python-telegram-bot 22 returns durations such as RetryAfter.retry_after as
# timedelta only with PTB_TIMEDELTA set, and warns otherwise. The tests treat
# warnings as errors, so they opt in to the timedelta behaviour.
os.environ.setdefault("PTB_TIMEDELTA", "true")
