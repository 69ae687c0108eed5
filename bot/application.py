"""Building the python-telegram-bot Application from the settings."""

from __future__ import annotations

import logging

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import BaseRequest

from bot.clock import Clock
from bot.config import Settings, require_token
from bot.delivery import schedule_delivery
from bot.handlers import register_handlers
from bot.menus import publish_default_menu
from bot.scheduling import log_jobs_stopped, schedule_scans
from bot.services import SERVICES_KEY, Services
from storage.database import Database
from storage.outbox import Outbox

logger = logging.getLogger(__name__)

# python-telegram-bot needs a token even when no request reaches Telegram.
OFFLINE_TOKEN = "0:offline"


def build_application(
    settings: Settings,
    *,
    database: Database,
    clock: Clock,
    request: BaseRequest | None = None,
) -> Application:
    """Return an Application with every handler registered.

    With ``request`` set, every Bot API call goes to that object instead of
    the network and the Application has no Updater: the caller feeds updates
    itself (the tests and the offline demo do). Without it, the token from
    the settings is required.
    """
    token = OFFLINE_TOKEN if request is not None else require_token(settings)
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(
            AIORateLimiter(
                # A bucket of one request refilled max_messages_per_second
                # times a second: aiolimiter would otherwise let a full
                # second's worth out at once on top of the steady rate.
                overall_max_rate=1,
                overall_time_period=1 / settings.delivery.max_messages_per_second,
                max_retries=settings.telegram.flood_control_retries,
            )
        )
        .post_init(_post_init)
        .post_stop(log_jobs_stopped)
        .post_shutdown(_post_shutdown)
    )
    if settings.telegram.base_url:
        builder = builder.base_url(settings.telegram.base_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request).updater(None)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = Services(
        database=database,
        clock=clock,
        policy=settings.policy,
        default_timezone=settings.bot.default_timezone,
        reminders=settings.reminders,
    )
    register_handlers(application)
    schedule_delivery(application, Outbox(database), settings.delivery, database.unit_of_work)
    schedule_scans(application, settings.scheduler)
    return application


async def _post_init(application: Application) -> None:
    services: Services = application.bot_data[SERVICES_KEY]
    await services.database.create_schema()
    await publish_default_menu(application.bot)
    logger.info("bot started with database %s", services.database.url)


async def _post_shutdown(application: Application) -> None:
    services: Services = application.bot_data[SERVICES_KEY]
    await services.database.dispose()
    logger.info("bot stopped")
