import pytest

from notifications.models import Event, Notification, NotificationStatus
from notifications.tasks import send_order_confirmation
from services.notifications import notification_mark_failed, notification_send
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
def confirmation():
    customer = UserFactory.create(email="ann@example.com")
    order = order_create(customer=customer, items=[OrderLine(ProductFactory.create(stock=3).pk, 2)])
    return Notification.objects.get(order=order, event=Event.ORDER_CONFIRMATION)


def test_sending_twice_delivers_once(smtp_settings, confirmation):
    assert notification_send(notification_id=confirmation.pk) == NotificationStatus.SENT
    assert notification_send(notification_id=confirmation.pk) == NotificationStatus.SENT

    mails = smtp_settings.wait_for(2, timeout=2)
    assert len(mails) == 1
    assert mails[0].recipients == ["ann@example.com"]
    assert mails[0].message["Subject"] == f"Your order #{confirmation.order_id} is confirmed"
    assert "Total: 20.00 USD" in mails[0].message.get_payload()
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts, confirmation.last_error) == ("sent", 1, "")
    assert confirmation.sent_at is not None


def test_a_failed_attempt_is_recorded_and_raised(settings, confirmation):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    with pytest.raises(ConnectionRefusedError):
        notification_send(notification_id=confirmation.pk)

    confirmation.refresh_from_db()
    assert confirmation.status == NotificationStatus.PENDING
    assert confirmation.attempts == 1
    assert confirmation.last_error.startswith("ConnectionRefusedError")


def test_giving_up_marks_failed_only_if_still_pending(confirmation):
    notification_mark_failed(notification_id=confirmation.pk, error="SMTPRecipientsRefused: 550")
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.last_error) == ("failed", "SMTPRecipientsRefused: 550")

    Notification.objects.filter(pk=confirmation.pk).update(status=NotificationStatus.SENT)
    notification_mark_failed(notification_id=confirmation.pk, error="late")
    confirmation.refresh_from_db()
    assert confirmation.status == NotificationStatus.SENT


def test_a_missing_notification_is_not_an_error():
    assert notification_send(notification_id=987654) == "missing"


def test_tasks_declare_bounded_retries_with_backoff_and_jitter():
    assert send_order_confirmation.max_retries == 5
    assert send_order_confirmation.retry_backoff
    assert send_order_confirmation.retry_jitter is True
    assert any(issubclass(ConnectionRefusedError, e) for e in send_order_confirmation.autoretry_for)
