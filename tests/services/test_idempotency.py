import pytest

from orders.models import IdempotencyRecord, Order
from services.idempotency import Answer, idempotent_call, request_fingerprint
from services.orders import OrderLine, order_create
from testing.servers import run_concurrently
from tests.factories import ProductFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_have_one_effect_and_one_answer(empty_queues):
    customer = UserFactory.create()
    product = ProductFactory.create(stock=50)

    def place() -> Answer:
        return idempotent_call(
            user=customer,
            key="retry-me",
            operation="POST /api/v1/orders/",
            fingerprint=request_fingerprint([{"product_id": product.pk, "quantity": 2}]),
            perform=lambda: Answer(
                201, {"id": order_create(customer=customer, items=[OrderLine(product.pk, 2)]).pk}
            ),
        )

    answers = run_concurrently([place] * 8)

    assert len({a.body["id"] for a in answers}) == 1, answers
    assert sorted(a.replayed for a in answers) == [False] + [True] * 7
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    product.refresh_from_db()
    assert product.stock == 48


def test_the_fingerprint_does_not_depend_on_key_order():
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})
