import json
import uuid
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.models import CallbackStatus, OrderPaymentDetails
from services.webhooks import SIGNATURE_HEADER, sign


class Command(BaseCommand):
    help = "Sign a payment-provider callback for an order and send it to the running API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("order_id", type=int)
        parser.add_argument("--status", choices=CallbackStatus.values, default=CallbackStatus.SUCCEEDED)
        parser.add_argument("--amount", help="Defaults to the order's amount.")
        parser.add_argument("--currency", help="Defaults to the order's currency.")
        parser.add_argument(
            "--event-id", help="Defaults to a new random id; repeat one to see deduplication."
        )
        parser.add_argument("--failure-reason", default="")
        parser.add_argument("--url", default="http://127.0.0.1:8000/api/v1/payments/callback/")

    def handle(self, *args: Any, **options: Any) -> None:
        details = OrderPaymentDetails.objects.filter(order_id=options["order_id"]).first()
        if details is None:
            raise CommandError(f"order {options['order_id']} does not exist")
        event = {
            "event_id": options["event_id"] or f"evt_{uuid.uuid4().hex}",
            "payment_reference": details.reference,
            "status": options["status"],
            "amount": options["amount"] or str(details.amount),
            "currency": options["currency"] or details.currency,
            "failure_reason": options["failure_reason"],
        }
        body = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret=settings.PAYMENT_WEBHOOK_SECRETS[0], body=body),
        }
        try:
            response = httpx.post(options["url"], content=body, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise CommandError(f"could not reach {options['url']}: {exc} (is `make run` running?)") from exc
        self.stdout.write(f"{response.status_code} {response.text}")
        if response.status_code >= 400:
            raise CommandError("the API refused the callback")
