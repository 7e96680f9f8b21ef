from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from services.accounts import user_register
from services.exceptions import EmailTaken

from .serializers import RegisterInputSerializer, UserOutputSerializer


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
