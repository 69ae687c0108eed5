"""Delivery of the outbox: the dispatcher and the jobs that run it."""

from bot.delivery.dispatcher import DeliveryReport, NotificationOutbox, deliver_due
from bot.delivery.jobs import (
    DEFAULT_DELIVERY_INTERVAL,
    request_delivery,
    schedule_delivery,
)

__all__ = [
    "DEFAULT_DELIVERY_INTERVAL",
    "DeliveryReport",
    "NotificationOutbox",
    "deliver_due",
    "request_delivery",
    "schedule_delivery",
]
