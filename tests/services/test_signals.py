from decimal import Decimal

import pytest

from accounts.models import CustomerProfile
from orders.models import Order, OrderPaymentDetails
from services.accounts import user_register
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_order_gets_its_payment_details_once():
    order = Order.objects.create(customer=UserFactory.create(), total=Decimal("7.50"), currency="EUR")
    details = OrderPaymentDetails.objects.get(order=order)
    assert (details.amount, details.currency, details.status) == (Decimal("7.50"), "EUR", "pending")

    order.total = Decimal("8.00")
    order.save()  # not created: the receiver must not run again
    assert OrderPaymentDetails.objects.filter(order=order).count() == 1
    details.refresh_from_db()
    assert details.amount == Decimal("7.50")


def test_a_new_user_gets_a_customer_profile_once():
    user = user_register(email="new@example.com", password="a-long-enough-pass")
    assert CustomerProfile.objects.filter(user=user).count() == 1
    user.first_name = "Ann"
    user.save()
    assert CustomerProfile.objects.filter(user=user).count() == 1
