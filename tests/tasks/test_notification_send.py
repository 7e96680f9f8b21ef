"""notification_send and the retry decision, in-process against a real SMTP server."""

import pytest

from notifications.channels import TransientDeliveryError
from notifications.models import Audience, Event, Notification, NotificationStatus
from services.notifications.delivery import notification_give_up, notification_retry_delay, notification_send
from services.orders import OrderLine, order_create
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_settings(settings, smtp):
    sink, port = smtp
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    return sink


@pytest.fixture
def confirmation() -> Notification:
    customer = UserFactory.create(email="ann@example.com")
    order = order_create(customer=customer, items=[OrderLine(ProductFactory.create(stock=3).pk, 2)])
    return Notification.objects.get(order=order, event=Event.ORDER_CREATED, audience=Audience.CUSTOMER)


def test_sending_twice_delivers_once_with_text_and_html(smtp_settings, confirmation):
    assert notification_send(notification_id=confirmation.pk) == NotificationStatus.SENT
    assert notification_send(notification_id=confirmation.pk) == NotificationStatus.SENT

    mails = smtp_settings.wait_for(2, timeout=2)
    assert len(mails) == 1
    message = mails[0].message
    assert mails[0].recipients == ["ann@example.com"]
    assert message["Subject"] == f"Your order #{confirmation.order_id} is confirmed"
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    assert "Total: 20.00 USD" in text
    assert "<h1" in html
    assert "Total: 20.00 USD" in html
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts, confirmation.last_error) == ("sent", 1, "")
    assert confirmation.sent_at is not None


def test_a_transient_failure_is_recorded_and_raised(settings, confirmation):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    with pytest.raises(TransientDeliveryError):
        notification_send(notification_id=confirmation.pk)

    confirmation.refresh_from_db()
    assert confirmation.status == NotificationStatus.PENDING
    assert confirmation.attempts == 1
    assert confirmation.last_error.startswith("ConnectionRefusedError")


def test_the_retries_span_at_least_half_a_minute_with_the_defaults(settings, confirmation):
    """A provider outage shorter than that loses nothing (the chaos run saw five full-jitter
    retries all fall within a 15 s SMTP outage)."""
    settings.NOTIFICATION_MAX_RETRIES = 5
    settings.NOTIFICATION_RETRY_BACKOFF_SECONDS = 2
    settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = 600
    shortest = []
    for attempts in range(1, 6):
        Notification.objects.filter(pk=confirmation.pk).update(attempts=attempts)
        delays = [notification_retry_delay(notification_id=confirmation.pk) for _ in range(200)]
        shortest.append(min(d for d in delays if d is not None))
    assert sum(shortest) >= 31.0


def test_retry_delay_backs_off_honours_retry_after_and_gives_up(settings, confirmation):
    settings.NOTIFICATION_MAX_RETRIES = 5
    settings.NOTIFICATION_RETRY_BACKOFF_SECONDS = 2
    settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = 600
    settings.ADMINS = [("Ops", "ops@example.com")]

    for attempts in range(1, 7):
        Notification.objects.filter(pk=confirmation.pk).update(attempts=attempts, last_error="SMTP 421 busy")
        delay = notification_retry_delay(notification_id=confirmation.pk)
        assert delay is not None
        step = 2 * 2 ** (attempts - 1)
        assert max(1.0, step / 2) <= delay <= step  # equal jitter: at least half the exponential step
        confirmation.refresh_from_db()
        assert confirmation.next_retry_at is not None
        honoured = notification_retry_delay(notification_id=confirmation.pk, retry_after=30.0)
        assert honoured is not None
        assert honoured >= 30.0
        if attempts == 5:
            break

    Notification.objects.filter(pk=confirmation.pk).update(attempts=6)  # the first try and 5 retries
    assert notification_retry_delay(notification_id=confirmation.pk) is None
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.last_error) == ("failed", "SMTP 421 busy")
    alert = Notification.objects.get(event=Event.DELIVERY_FAILED)
    assert (alert.audience, alert.channel, alert.recipient) == ("admins", "email", "ops@example.com")
    assert alert.payload["failed"]["id"] == confirmation.pk


def test_giving_up_only_applies_to_pending_notifications(confirmation):
    Notification.objects.filter(pk=confirmation.pk).update(status=NotificationStatus.SENT)
    notification_give_up(notification_id=confirmation.pk, error="late")
    confirmation.refresh_from_db()
    assert confirmation.status == NotificationStatus.SENT
    assert not Notification.objects.filter(event=Event.DELIVERY_FAILED).exists()


def test_a_missing_notification_is_not_an_error():
    assert notification_send(notification_id=987654) == "missing"
