from django.urls import path

from .apis import LogoutApi, ProfileApi, RegisterApi, TokenObtainApi, TokenRefreshApi

urlpatterns = [
    path("auth/register/", RegisterApi.as_view(), name="auth-register"),
    path("auth/token/", TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh/", TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", LogoutApi.as_view(), name="auth-logout"),
    path("auth/me/", ProfileApi.as_view(), name="auth-me"),
]
