"""Delivery of the outbox: the dispatcher and the jobs that run it."""

from bot.delivery.dispatcher import (
    DeliveryPolicy,
    DeliveryReport,
    Dispatcher,
    NotificationOutbox,
    deliver_due,
)
from bot.delivery.jobs import (
    DEFAULT_DELIVERY_INTERVAL,
    request_delivery,
    schedule_delivery,
    scheduled_dispatcher,
)
from bot.delivery.quiet_hours import QuietHours

__all__ = [
    "DEFAULT_DELIVERY_INTERVAL",
    "DeliveryPolicy",
    "DeliveryReport",
    "Dispatcher",
    "NotificationOutbox",
    "QuietHours",
    "deliver_due",
    "request_delivery",
    "schedule_delivery",
    "scheduled_dispatcher",
]
