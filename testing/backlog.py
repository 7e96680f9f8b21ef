"""A backlog of notification tasks, published straight to the broker, for a worker to get through."""

import uuid

from messaging.routing import Priority, Tasks
from notifications.models import Audience, Channel, Event, Notification
from orders.models import Order
from pro_platform.celery import app


def queued_notifications(count: int, *, order: Order | None = None) -> list[Notification]:
    """`count` pending e-mail notifications (informational), each with its task published
    straight to the broker: a backlog for a worker to get through."""
    notifications = Notification.objects.bulk_create(
        Notification(
            event=Event.ORDER_SHIPPED,
            audience=Audience.CUSTOMER,
            channel=Channel.EMAIL,
            recipient=f"backlog{n}@example.com",
            priority=Priority.INFORMATIONAL,
            order=order,
            payload={"order": {"id": order.pk if order else n, "currency": "USD"}, "items": []},
            task_id=str(uuid.uuid4()),
        )
        for n in range(count)
    )
    with app.producer_or_acquire() as producer:
        for notification in notifications:
            app.send_task(
                Tasks.SEND_NOTIFICATION,
                kwargs={"notification_id": notification.pk},
                task_id=notification.task_id,
                priority=notification.priority,
                producer=producer,
            )
    return notifications
