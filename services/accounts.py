from django.db import IntegrityError, transaction

from accounts.models import CustomerProfile, User
from services.exceptions import EmailTaken


def user_register(*, email: str, password: str) -> User:
    """Create a customer account; e-mail addresses are unique whatever their case."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken(field="email")
    try:
        with transaction.atomic():
            # The post_save signal gives the new user a customer profile (seed 000).
            return User.objects.create_user(email=email, password=password)
    except IntegrityError:  # registered concurrently since the check above
        raise EmailTaken(field="email") from None


def customer_profile_ensure(*, user: User) -> CustomerProfile:
    profile, _ = CustomerProfile.objects.get_or_create(user=user)
    return profile


def customer_profile_update(*, user: User, telegram_chat_id: str) -> CustomerProfile:
    """Link (or, with "", unlink) the Telegram chat the customer's notifications also go to."""
    profile = customer_profile_ensure(user=user)
    profile.telegram_chat_id = telegram_chat_id
    profile.save(update_fields=["telegram_chat_id"])
    profile.user = user  # and `user.customer_profile` is this one, not one read before
    return profile
