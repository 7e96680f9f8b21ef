from rest_framework.request import Request

from .models import User


def request_user(request: Request) -> User:
    """The signed-in user of a view that requires authentication."""
    user = request.user
    assert isinstance(user, User), "view must require authentication"
    return user
