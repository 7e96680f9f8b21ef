"""Signed payment-provider callbacks, as the provider would send them (tests and benchmarks)."""

import json
import uuid
from typing import Any

from django.conf import settings
from django.test import Client

from orders.models import Order
from services.webhooks import sign


def callback_body(order: Order, **overrides: Any) -> bytes:
    event = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "payment_reference": order.payment.reference,
        "status": "succeeded",
        "amount": str(order.payment.amount),
        "currency": order.payment.currency,
        **overrides,
    }
    return json.dumps(event).encode()


def post_callback(
    client: Client, body: bytes, *, secret: str | None = None, header: str | None = None
) -> Any:  # the test client's response (with .json())
    signature = (
        header
        if header is not None
        else sign(secret=secret or settings.PAYMENT_WEBHOOK_SECRETS[0], body=body)
    )
    return client.generic(
        "POST",
        "/api/v1/payments/callback/",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=signature,
    )
