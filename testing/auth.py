from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User


def bearer(user: User) -> str:
    """An `Authorization` header value for `user`."""
    return f"Bearer {RefreshToken.for_user(user).access_token}"
