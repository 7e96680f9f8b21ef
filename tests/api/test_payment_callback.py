import json

import pytest
from django.test import Client

from messaging.routing import Priority
from orders.models import CallbackState, Order, OrderStatus, PaymentCallback
from services.orders import OrderLine, order_create
from services.webhooks import sign
from testing import servers
from testing.payments import callback_body, post_callback
from testing.servers import run_concurrently
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer) -> Order:
    return order_create(customer=customer, items=[OrderLine(ProductFactory.create(stock=5).pk, 2)])


def test_a_valid_callback_is_stored_and_accepted_before_processing(client, order):
    body = callback_body(order, event_id="evt_1")

    response = post_callback(client, body)

    assert response.status_code == 202
    callback = PaymentCallback.objects.get()
    assert response.json() == {
        "status": "accepted",
        "event_id": "evt_1",
        "callback_id": callback.pk,
        "state": "received",
        "task_id": callback.task_id,
        "status_url": f"/api/v1/tasks/{callback.task_id}/",
    }
    assert (callback.order_id, callback.status, str(callback.amount)) == (order.pk, "succeeded", "20.00")
    assert callback.raw_body == body.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT  # applied later, by the worker


def test_the_same_event_again_is_a_duplicate(client, order):
    body = callback_body(order, event_id="evt_dup")
    first = post_callback(client, body)
    again = post_callback(client, body)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert again.json()["callback_id"] == first.json()["callback_id"]
    assert PaymentCallback.objects.count() == 1


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("", "signature_missing"),
        ("nonsense", "signature_malformed"),
        ("t=1,v1=00", "timestamp_out_of_tolerance"),
    ],
)
def test_bad_signature_headers_are_refused(client, order, header, code):
    response = post_callback(client, callback_body(order), header=header)
    assert response.status_code == 401  # the signature is how the provider authenticates
    assert response["WWW-Authenticate"] == 'Signature realm="payment-callbacks"'
    assert response.json()["errors"] == [
        {"code": code, "detail": response.json()["errors"][0]["detail"], "attr": None}
    ]
    assert PaymentCallback.objects.count() == 0


def test_a_forged_callback_changes_nothing(client, order):
    response = post_callback(client, callback_body(order), secret="whsec_guess")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_signature"
    assert PaymentCallback.objects.count() == 0


def test_a_callback_signed_with_the_previous_secret_is_accepted(client, order):
    assert post_callback(client, callback_body(order), secret="whsec_test_previous").status_code == 202


def test_a_tampered_body_is_refused(client, order):
    body = callback_body(order)
    header = sign(secret="whsec_test_current", body=body)
    response = post_callback(client, body.replace(b'"20.00"', b'"2.00"'), header=header)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_signature"
    assert PaymentCallback.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        (b"{not json", None, "parse_error"),
        (b"[1, 2]", "non_field_errors", "invalid"),
        (json.dumps({"event_id": "e"}).encode(), "payment_reference", "required"),
        ("status", "status", "invalid_choice"),
        ("amount", "amount", "invalid"),
        ("reference", "payment_reference", "unknown_payment_reference"),
    ],
)
def test_malformed_or_unknown_callbacks_are_refused(client, order, body, attr, code):
    if body == "status":
        body = callback_body(order, status="refunded")
    elif body == "amount":
        body = callback_body(order, amount="ten")
    elif body == "reference":
        body = callback_body(order, payment_reference="pay_unknown")
    response = post_callback(client, body)
    assert response.status_code == 400, response.json()
    error = response.json()["errors"][0]
    assert (error["attr"], error["code"]) == (attr, code)
    assert PaymentCallback.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_callback_is_published_to_the_payments_queue_at_the_highest_priority(empty_queues, customer):
    order = order_create(customer=customer, items=[OrderLine(ProductFactory.create().pk, 1)])
    response = post_callback(Client(), callback_body(order))
    assert response.status_code == 202
    assert (
        response["Location"]
        == response.json()["status_url"]
        == f"/api/v1/tasks/{response.json()['task_id']}/"
    )
    assert response["Retry-After"] == "1"
    (message,) = servers.drain("payments")
    assert (message.task, message.priority) == ("orders.tasks.process_payment_callback", Priority.PAYMENT)
    assert message.headers["id"] == response.json()["task_id"]
    assert json.loads(message.body)[1] == {"callback_id": response.json()["callback_id"]}


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_copies_of_one_event_store_it_once(empty_queues, customer):
    order = order_create(customer=customer, items=[OrderLine(ProductFactory.create().pk, 1)])
    body = callback_body(order, event_id="evt_storm")
    statuses = run_concurrently([lambda: post_callback(Client(), body).status_code] * 50)

    assert sorted(statuses) == [200] * 49 + [202]
    assert PaymentCallback.objects.filter(event_id="evt_storm").count() == 1
    assert len(servers.drain("payments")) == 1
    assert PaymentCallback.objects.get().state == CallbackState.RECEIVED
