from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.request import Request
from rest_framework_simplejwt import authentication

from .models import User


class UsersWithProfiles:
    """What simplejwt's `get_user` reads as its user model: users, each with its customer profile."""

    DoesNotExist = User.DoesNotExist
    objects = User.objects.select_related("customer_profile")


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer tokens, with every check of its own, reading the user's customer
    profile in the same query: placing an order needs its Telegram chat id, and that is one
    query less on the platform's busiest path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = UsersWithProfiles  # type: ignore[assignment]  # duck-typed: objects, DoesNotExist


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt's class, for this one."""

    target_class = "accounts.auth.JWTAuthentication"


def request_user(request: Request) -> User:
    """The signed-in user of a view that requires authentication."""
    user = request.user
    assert isinstance(user, User), "view must require authentication"
    return user
