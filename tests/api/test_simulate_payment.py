"""`manage.py simulate_payment` signs a callback and sends it to a running server."""

import pytest
from django.core.management import CommandError, call_command

from orders.models import PaymentCallback
from services.orders import OrderLine, order_create
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_simulate_payment_walks_an_order_to_a_stored_callback(live_server, capsys, empty_queues):
    order = order_create(customer=UserFactory.create(), items=[OrderLine(ProductFactory.create().pk, 1)])

    call_command("simulate_payment", order.pk, "--url", f"{live_server.url}/api/v1/payments/callback/")

    assert capsys.readouterr().out.startswith("202 ")
    callback = PaymentCallback.objects.get(order=order)
    assert (callback.status, callback.amount, callback.state) == ("succeeded", order.total, "received")


def test_simulate_payment_can_send_a_failure_with_another_amount(live_server, capsys, empty_queues):
    order = order_create(customer=UserFactory.create(), items=[OrderLine(ProductFactory.create().pk, 1)])
    call_command(
        "simulate_payment",
        order.pk,
        "--status",
        "failed",
        "--amount",
        "1.00",
        "--url",
        f"{live_server.url}/api/v1/payments/callback/",
    )
    callback = PaymentCallback.objects.get(order=order)
    assert (callback.status, str(callback.amount)) == ("failed", "1.00")


def test_simulate_payment_for_a_missing_order_says_so():
    with pytest.raises(CommandError, match="order 999999 does not exist"):
        call_command("simulate_payment", 999999)
