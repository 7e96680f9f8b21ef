"""Who hears of each event, and over which channels: the business's decision.

How urgently, and by which task, is messaging/routing.py's (NOTIFICATION_ROUTES): the one
routing table.
"""

from dataclasses import dataclass

from django.conf import settings

from messaging.routing import NOTIFICATION_ROUTES
from notifications.models import Audience, Channel, Event

EMAIL_AND_TELEGRAM = (Channel.EMAIL, Channel.TELEGRAM)


@dataclass(frozen=True)
class Route:
    audience: str
    channels: tuple[str, ...]


EVENT_ROUTES: dict[str, tuple[Route, ...]] = {
    Event.ORDER_CREATED: (
        Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM),
        Route(Audience.SELLER, EMAIL_AND_TELEGRAM),
        Route(Audience.MANAGERS, (Channel.TELEGRAM,)),
    ),
    Event.ORDER_PAID: (
        Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM),
        Route(Audience.SELLER, EMAIL_AND_TELEGRAM),
    ),
    Event.ORDER_PAYMENT_FAILED: (
        Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM),
        Route(Audience.SELLER, EMAIL_AND_TELEGRAM),
    ),
    Event.ORDER_CANCELLED: (
        Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM),
        Route(Audience.SELLER, EMAIL_AND_TELEGRAM),
    ),
    Event.ORDER_SHIPPED: (Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM),),
    Event.ORDER_DELIVERED: (Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM),),
    Event.DELIVERY_FAILED: (Route(Audience.ADMINS, EMAIL_AND_TELEGRAM),),
    Event.DELIVERY_FAILURES: (Route(Audience.ADMINS, EMAIL_AND_TELEGRAM),),
    Event.PAYMENT_FLAGGED: (Route(Audience.ADMINS, EMAIL_AND_TELEGRAM),),
    Event.REVIEW_REMINDER: (Route(Audience.CUSTOMER, EMAIL_AND_TELEGRAM),),
    Event.DAILY_REPORT: (Route(Audience.STAFF, (Channel.EMAIL,)),),
}


def task_and_priority(*, event: str, audience: str) -> tuple[str, int]:
    """The task that delivers `event`'s notification for `audience`, and its message priority."""
    return NOTIFICATION_ROUTES[(event, audience)]


def telegram_enabled() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


def addresses(channel: str, *, email: str, chat_id: str) -> list[str]:
    if channel == Channel.EMAIL:
        return [email] if email else []
    return [chat_id] if chat_id and telegram_enabled() else []
