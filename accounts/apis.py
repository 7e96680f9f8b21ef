from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.auth import request_user
from services.accounts import customer_profile_ensure, customer_profile_update, user_register
from services.exceptions import EmailTaken

from .serializers import ProfileSerializer, RegisterInputSerializer, UserOutputSerializer


@extend_validation_errors([EmailTaken.code], field_name="email", methods=["post"])
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
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(TokenObtainPairView):
    """Exchange e-mail and password for an access and a refresh token."""

    throttle_scope = "auth"


class TokenRefreshApi(TokenRefreshView):
    """Exchange a refresh token for a new access token."""

    throttle_scope = "auth"


@extend_schema(tags=["auth"])
class ProfileApi(APIView):
    """The signed-in user, and the Telegram chat their notifications also go to."""

    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(customer_profile_ensure(user=request_user(request))).data)

    @extend_schema(request=ProfileSerializer, responses={200: ProfileSerializer})
    def patch(self, request: Request) -> Response:
        serializer = ProfileSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = request_user(request)
        profile = customer_profile_ensure(user=user)
        if "telegram_chat_id" in serializer.validated_data:
            profile = customer_profile_update(user=user, **serializer.validated_data)
        return Response(ProfileSerializer(profile).data)
