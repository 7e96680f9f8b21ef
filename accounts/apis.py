from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import (
    TokenBlacklistSerializer,
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)

from accounts.auth import request_user
from pro_platform.openapi import error_response_serializer
from services.accounts import customer_profile_ensure, customer_profile_update, user_register
from services.exceptions import EmailTaken
from services.sign_in import sign_in_allowed_or_raise, sign_in_failed, sign_in_succeeded

from .serializers import (
    PASSWORD_POLICY_CODES,
    ProfileSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    SignInInputSerializer,
    TokenPairSerializer,
    UserOutputSerializer,
)

WRONG_CREDENTIALS = OpenApiResponse(
    error_response_serializer(401, ["no_active_account"], "SignIn"),
    description="No active account with this e-mail and password.",
)
REFRESH_TOKEN_REFUSED = OpenApiResponse(
    error_response_serializer(401, ["token_not_valid", "no_active_account"], "RefreshToken"),
    description="The refresh token is malformed, expired or revoked (rotated or signed out), "
    "or its account is gone or inactive.",
)


def client_address(request: Request) -> str:
    """The client's address as DRF's throttles see it (honouring NUM_PROXIES)."""
    return BaseThrottle().get_ident(request)


def refresh_token_used(request: Request, use: type[Serializer]) -> dict:
    """Check the body against the schema (else 400), then have simplejwt's `use` serializer
    act on its refresh token (rotate it, revoke it); any problem with the token is 401."""
    body = RefreshInputSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        return use().validate(body.validated_data)
    except TokenError as error:
        raise InvalidToken(error.args[0]) from error
    except ObjectDoesNotExist:  # the token's user was deleted
        raise AuthenticationFailed(
            "No active account found for the given token.", "no_active_account"
        ) from None


@extend_validation_errors([EmailTaken.code], field_name="email", methods=["post"])
@extend_validation_errors(PASSWORD_POLICY_CODES, field_name="password", methods=["post"])
class RegisterApi(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_scope = "auth"

    @extend_schema(
        operation_id="auth_register",
        request=RegisterInputSerializer,
        responses={201: UserOutputSerializer},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        """Create a customer account.

        E-mail addresses are unique whatever their case (400 email_taken); the password must
        pass the password policy described on the field. Then sign in for tokens.
        """
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    """The token endpoints: anyone may call them; credentials travel in the body."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'  # a refusal is 401 with this challenge (DRF makes it 403 without)


@extend_schema(tags=["auth"])
class TokenObtainApi(TokenApi):
    @extend_schema(
        operation_id="auth_token",
        request=SignInInputSerializer,
        responses={200: TokenPairSerializer, 401: WRONG_CREDENTIALS},
    )
    def post(self, request: Request) -> Response:
        """Sign in: an access and a refresh token for e-mail and password.

        Send the access token as `Authorization: Bearer <access>`; trade the refresh token for
        new tokens before the access token expires. Failed sign-ins are limited per account
        and per account from one address (429 with Retry-After), never per address alone.
        """
        serializer = SignInInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email, client = serializer.validated_data["email"].lower(), client_address(request)
        sign_in_allowed_or_raise(email=email, client=client)
        tokens = TokenObtainPairSerializer(
            data={**serializer.validated_data, "email": email}, context={"request": request}
        )
        try:
            tokens.is_valid(raise_exception=True)
        except AuthenticationFailed:
            sign_in_failed(email=email, client=client)
            raise
        sign_in_succeeded(email=email, client=client)
        return Response(TokenPairSerializer(tokens.validated_data).data)


@extend_schema(tags=["auth"])
class TokenRefreshApi(TokenApi):
    @extend_schema(
        operation_id="auth_token_refresh",
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, 401: REFRESH_TOKEN_REFUSED},
    )
    def post(self, request: Request) -> Response:
        """Trade a refresh token for a new access and refresh token.

        Refresh tokens rotate: the one sent is revoked by this call, so keep the new one. A
        revoked refresh token (used before, or signed out) is 401 token_not_valid.
        """
        return Response(TokenPairSerializer(refresh_token_used(request, TokenRefreshSerializer)).data)


@extend_schema(tags=["auth"])
class LogoutApi(TokenApi):
    @extend_schema(
        operation_id="auth_logout",
        request=RefreshInputSerializer,
        responses={204: None, 401: REFRESH_TOKEN_REFUSED},
    )
    def post(self, request: Request) -> Response:
        """Sign out: revoke a refresh token.

        The refresh token can no longer be traded for tokens; access tokens already issued
        stay valid until they expire (JWT_ACCESS_TOKEN_LIFETIME_SECONDS, 15 minutes).
        """
        refresh_token_used(request, TokenBlacklistSerializer)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class ProfileApi(APIView):
    """The signed-in user, and the Telegram chat their notifications also go to."""

    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request: Request) -> Response:
        """Show your account.

        Your id, e-mail address and the Telegram chat your notifications also go to.
        """
        return Response(ProfileSerializer(customer_profile_ensure(user=request_user(request))).data)

    @extend_schema(request=ProfileSerializer, responses={200: ProfileSerializer})
    def patch(self, request: Request) -> Response:
        """Link or unlink your Telegram chat.

        Set `telegram_chat_id` to your chat's numeric id to get notifications there too, or
        to an empty string to stop them.
        """
        serializer = ProfileSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = request_user(request)
        profile = customer_profile_ensure(user=user)
        if "telegram_chat_id" in serializer.validated_data:
            profile = customer_profile_update(user=user, **serializer.validated_data)
        return Response(ProfileSerializer(profile).data)
