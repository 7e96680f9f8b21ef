from django.db import transaction

from accounts.models import CustomerProfile, User


@transaction.atomic
def user_register(*, email: str, password: str) -> User:
    # The post_save signal gives the new user a customer profile (seed 000).
    return User.objects.create_user(email=email, password=password)


def customer_profile_ensure(*, user: User) -> CustomerProfile:
    profile, _ = CustomerProfile.objects.get_or_create(user=user)
    return profile
