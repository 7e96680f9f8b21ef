from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from services.accounts import customer_profile_ensure

from .models import User


@receiver(post_save, sender=User, dispatch_uid="accounts.customer_profile_on_user_created")
def create_customer_profile(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    if created:
        customer_profile_ensure(user=instance)
