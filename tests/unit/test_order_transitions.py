import itertools

import pytest

from orders.models import Order, OrderStatus

S = OrderStatus
ALLOWED = {
    (S.PENDING_PAYMENT, S.PAID),
    (S.PAID, S.SHIPPED),
    (S.SHIPPED, S.DELIVERED),
    (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PAID, S.CANCELLED),
    (S.PENDING_PAYMENT, S.PAYMENT_FAILED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_only_the_documented_transitions_are_allowed(current, target):
    assert Order(status=current).can_become(target) is ((current, target) in ALLOWED)
