"""The objects every handler needs, kept in ``Application.bot_data``."""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram.ext import CallbackContext

from bot.clock import Clock
from core.policy import LicensingPolicy
from core.reminders import ReminderPolicy
from storage.database import Database

SERVICES_KEY = "services"


@dataclass(frozen=True, slots=True)
class Services:
    """Database, clock and rules, made once at start-up."""

    database: Database
    clock: Clock
    policy: LicensingPolicy
    default_timezone: str
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)


def get_services(context: CallbackContext) -> Services:
    return context.bot_data[SERVICES_KEY]
