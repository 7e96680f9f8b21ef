"""The payment provider proves who it is by signing each callback's raw body."""

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from services.payments import payment_callback_verify
from services.webhooks import (
    SIGNATURE_HEADER,
    InvalidSignature,
    SignatureMalformed,
    SignatureMissing,
    TimestampOutOfTolerance,
)

PAYMENT_PROVIDER = "payment-provider"
SIGNATURE_ERROR_CODES = [
    e.code for e in (SignatureMissing, SignatureMalformed, TimestampOutOfTolerance, InvalidSignature)
]


class PaymentSignatureAuthentication(BaseAuthentication):
    """`X-Signature` checked on the raw body (services.webhooks); anything else is 401."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, str]:
        try:
            payment_callback_verify(raw_body=request.body, signature=request.headers.get(SIGNATURE_HEADER))
        except InvalidSignature as error:
            raise AuthenticationFailed(error.message, code=error.code) from None
        return AnonymousUser(), PAYMENT_PROVIDER

    def authenticate_header(self, request: Request) -> str:
        return 'Signature realm="payment-callbacks"'


class IsPaymentProvider(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.auth == PAYMENT_PROVIDER


class PaymentSignatureScheme(OpenApiAuthenticationExtension):
    target_class = PaymentSignatureAuthentication
    name = "paymentSignature"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": SIGNATURE_HEADER,
            "description": 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> with the shared secret',
        }
