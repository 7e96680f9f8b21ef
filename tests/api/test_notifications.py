import pytest
from django.contrib.admin.sites import site
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import CustomerProfile
from messaging.models import OutboxMessage
from messaging.routing import MAX_PRIORITY, NOTIFICATION_ROUTES, ROUTES
from notifications.models import Audience, Channel, Event, Notification, NotificationStatus
from services.accounts import customer_profile_update
from services.notifications.delivery import render
from services.notifications.routes import EVENT_ROUTES
from services.orders import OrderLine, order_create
from services.payments import CallbackData, payment_callback_process, payment_callback_receive
from testing.auth import bearer
from tests.factories import ProductFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer, settings):
    settings.TELEGRAM_BOT_TOKEN = "123:test"
    customer_profile_update(user=customer, telegram_chat_id="555")
    seller = SellerFactory.create(telegram_chat_id="777")
    return order_create(customer=customer, items=[OrderLine(ProductFactory.create(seller=seller).pk, 1)])


def test_my_notifications_are_listed_and_filtered(customer_client, customer, order):
    order_create(customer=UserFactory.create(), items=[OrderLine(ProductFactory.create().pk, 1)])

    body = customer_client.get("/api/v1/notifications/").json()
    assert body["count"] == 2
    assert {(n["channel"], n["recipient"], n["status"]) for n in body["results"]} == {
        ("email", customer.email, "pending"),
        ("telegram", "555", "pending"),
    }
    telegram = customer_client.get("/api/v1/notifications/?channel=telegram").json()["results"]
    assert [n["recipient"] for n in telegram] == ["555"]
    assert customer_client.get("/api/v1/notifications/?status=sent").json()["count"] == 0
    assert customer_client.get("/api/v1/notifications/?channel=pigeon").status_code == 400


def test_the_order_timeline_shows_the_customer_their_own_side_effects(customer_client, order):
    Notification.objects.filter(order=order, channel=Channel.TELEGRAM, audience=Audience.CUSTOMER).update(
        attempts=2, last_error="Telegram 502: Bad Gateway"
    )
    events = customer_client.get(f"/api/v1/orders/{order.pk}/events/").json()
    assert [(e["kind"], e["event"], e["audience"], e["channel"]) for e in events] == [
        ("notification", "order_created", "customer", "email"),
        ("notification", "order_created", "customer", "telegram"),
    ]
    assert (events[1]["state"], events[1]["attempts"], events[1]["detail"]) == (
        "pending",
        2,
        "Telegram 502: Bad Gateway",
    )
    assert "next_retry_at" in events[1]


def test_staff_see_every_side_effect_of_an_order(staff_client, order):
    events = staff_client.get(f"/api/v1/orders/{order.pk}/events/").json()
    assert sorted((e["audience"], e["channel"]) for e in events) == [
        ("customer", "email"),
        ("customer", "telegram"),
        ("seller", "email"),
        ("seller", "telegram"),
    ]


def test_another_customer_cannot_see_the_timeline(order):

    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=bearer(UserFactory.create()))
    response = stranger.get(f"/api/v1/orders/{order.pk}/events/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_linking_a_telegram_chat(customer_client, customer):
    assert customer_client.get("/api/v1/auth/me/").json() == {
        "id": customer.pk,
        "email": customer.email,
        "telegram_chat_id": "",
    }
    response = customer_client.patch("/api/v1/auth/me/", {"telegram_chat_id": "123456789"})
    assert response.status_code == 200
    assert CustomerProfile.objects.get(user=customer).telegram_chat_id == "123456789"

    bad = customer_client.patch("/api/v1/auth/me/", {"telegram_chat_id": "@someone; DROP"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "telegram_chat_id"
    assert CustomerProfile.objects.get(user=customer).telegram_chat_id == "123456789"

    assert (
        customer_client.patch("/api/v1/auth/me/", {"telegram_chat_id": ""}).json()["telegram_chat_id"] == ""
    )


def test_admin_resends_failed_notifications_only(client, staff, order):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    failed, sent = Notification.objects.filter(order=order, audience=Audience.CUSTOMER).order_by("id")
    Notification.objects.filter(pk=failed.pk).update(
        status=NotificationStatus.FAILED, attempts=6, last_error="SMTP 550", task_id="old"
    )
    Notification.objects.filter(pk=sent.pk).update(status=NotificationStatus.SENT)

    queued_before = OutboxMessage.objects.count()
    response = client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )

    assert response.status_code == 200
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 0, "SMTP 550")
    assert failed.task_id != "old"
    assert sent.status == "sent"
    assert OutboxMessage.objects.count() == queued_before + 1
    assert OutboxMessage.objects.filter(task_id=failed.task_id).count() == 1
    messages = [str(m) for m in response.context["messages"]]
    assert "1 notification(s) queued again." in messages
    assert any("1 skipped" in m for m in messages)
    assert Notification in site._registry


def test_every_event_and_audience_has_a_message(order):
    for event, routes in EVENT_ROUTES.items():
        for route in routes:
            payload = {
                "order": {
                    "id": 7,
                    "total": "1.00",
                    "currency": "USD",
                    "payment_reference": "pay_x",
                    "customer_email": "a@example.com",
                    "status": "Paid",
                },
                "items": [{"name": "Mug", "sku": "M", "quantity": 1, "line_total": "1.00"}],
                "seller": {"id": 1, "name": "Acme"},
                "failed": {
                    "id": 9,
                    "event": "Order paid",
                    "audience": "customer",
                    "channel": "email",
                    "recipient": "a@example.com",
                    "attempts": 6,
                    "error": "boom",
                    "order_id": 7,
                },
                "count": 3,
                "failures": [],
            }
            message = render(
                notification=Notification(
                    event=event, audience=route.audience, channel=Channel.EMAIL, payload=payload
                )
            )
            assert message.subject, (event, route.audience)
            assert message.text, (event, route.audience)
            assert "{{" not in message.text
            assert message.subject in message.html
    assert set(EVENT_ROUTES) == set(Event)


def test_every_notification_has_one_route_in_the_routing_table():
    routed = {(event, route.audience) for event, routes in EVENT_ROUTES.items() for route in routes}
    assert routed == set(NOTIFICATION_ROUTES)
    for task, priority in NOTIFICATION_ROUTES.values():
        assert ROUTES[task][0] == "notifications"
        assert 0 <= priority <= MAX_PRIORITY


def test_the_timeline_shows_payment_callbacks_and_their_outcome(customer_client, order):
    data = CallbackData(
        event_id="evt_timeline",
        payment_reference=order.payment.reference,
        status="succeeded",
        amount=order.payment.amount,
        currency=order.payment.currency,
    )
    callback = payment_callback_receive(data=data, raw_body=b"{}").callback
    payment_callback_process(callback_id=callback.pk)

    events = customer_client.get(f"/api/v1/orders/{order.pk}/events/").json()
    (entry,) = [e for e in events if e["kind"] == "payment_callback"]
    assert (entry["event"], entry["state"], entry["detail"]) == (
        "payment_succeeded",
        "applied",
        f"order {order.pk} paid (10.00 USD)",
    )
    assert entry["done_at"] is not None
    assert [e["event"] for e in events if e["kind"] == "notification"] == [
        "order_created",
        "order_created",
        "order_paid",
        "order_paid",
    ]


@pytest.mark.parametrize("query", ["status=", "channel=", "status=lost"])
def test_a_filter_given_empty_or_unknown_is_400_not_ignored(customer_client, query):
    response = customer_client.get(f"/api/v1/notifications/?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0] | {"detail": ""} == {
        "code": "invalid_choice",
        "detail": "",
        "attr": query.split("=")[0],
    }
