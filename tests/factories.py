import uuid
from decimal import Decimal

import factory

from accounts.models import User
from notifications.models import Audience, Channel, Event, Notification
from orders.models import Currency, Order, Product, Seller
from pro_platform.celery import Priority, app


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    password = factory.django.Password("correct-horse-battery")


class SellerFactory(factory.django.DjangoModelFactory[Seller]):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"Seller {n}")
    email = factory.Sequence(lambda n: f"seller{n}@example.com")


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    seller = factory.SubFactory(SellerFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    price = Decimal("10.00")
    currency = Currency.USD
    stock = 10


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
                "notifications.tasks.send_notification",
                kwargs={"notification_id": notification.pk},
                task_id=notification.task_id,
                priority=notification.priority,
                producer=producer,
            )
    return notifications
