"""Scenario 4: the SMTP server down, then back; and down for longer than the retry horizon.

Retries are quick here (backoff capped at one second) so the horizon (the first try
and five retries) passes in seconds.
"""

import pytest

from notifications.models import Audience, Channel, Event, Notification, NotificationStatus
from services.orders import OrderLine, order_create
from testing import servers
from tests.reliability.conftest import await_deliveries, expected_emails

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

FAST_RETRIES = {"NOTIFICATION_RETRY_BACKOFF_SECONDS": "1", "NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS": "1"}
MANAGERS_CHAT = "-1000"


def test_emails_wait_for_a_smtp_server_that_comes_back_and_are_sent_once(shop, empty_queues, report):
    smtp_port = servers.free_port()  # nothing listens here yet
    worker = servers.WorkerProcess(
        "notifications", extra_env={**FAST_RETRIES, "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
    )
    with servers.running(worker):
        order = order_create(customer=shop.customer, items=[OrderLine(p.pk, 1) for p in shop.products])
        notifications = Notification.objects.filter(order=order)
        assert servers.wait_until(lambda: min(notifications.values_list("attempts", flat=True)) >= 2, 30)
        assert set(notifications.values_list("status", flat=True)) == {NotificationStatus.PENDING}

        with servers.smtp_server(port=smtp_port) as (mailbox, _):
            deliveries = await_deliveries(mailbox, expected_emails([order.pk]), timeout=30)

    assert deliveries.missing == set()
    assert deliveries.duplicated == {}
    assert set(notifications.values_list("status", flat=True)) == {NotificationStatus.SENT}
    attempts = sorted(notifications.values_list("attempts", flat=True))
    assert all(3 <= n <= 6 for n in attempts)
    report(
        "scenario 4a, SMTP down then back",
        emails=f"2 of 2 sent once after {attempts} attempts",
    )


def test_emails_undeliverable_past_the_retry_horizon_fail_and_are_alerted(shop, empty_queues, report):
    with servers.telegram_server() as bot:
        worker = servers.WorkerProcess(
            "notifications",
            extra_env={
                **FAST_RETRIES,
                "EMAIL_URL": f"smtp://127.0.0.1:{servers.free_port()}",  # never answers
                "DJANGO_ADMINS": "ops@example.com",
                "TELEGRAM_BOT_TOKEN": "123:test",
                "TELEGRAM_API_BASE_URL": bot.base_url,
                "TELEGRAM_MANAGERS_CHAT_ID": MANAGERS_CHAT,
            },
        )
        with servers.running(worker):
            order = order_create(customer=shop.customer, items=[OrderLine(p.pk, 1) for p in shop.products])
            failed = Notification.objects.filter(order=order)
            assert servers.wait_until(
                lambda: set(failed.values_list("status", flat=True)) == {NotificationStatus.FAILED}, 60
            ), worker.log()[-3000:]
            assert servers.wait_until(lambda: len(bot.for_chat(MANAGERS_CHAT)) == 2, 30)
            alerts = Notification.objects.filter(event=Event.DELIVERY_FAILED)
            assert servers.wait_until(
                lambda: alerts.exclude(status=NotificationStatus.PENDING).count() == 4, 30
            )

    for notification in failed:
        assert notification.attempts == 6  # the first try and 5 retries
        assert notification.alerted_at is not None
        assert notification.last_error.startswith("ConnectionRefusedError")
    texts = sorted(request.text for request in bot.for_chat(MANAGERS_CHAT))
    assert [text.splitlines()[0] for text in texts] == [
        f"Notification #{n.pk} could not be delivered" for n in sorted(failed, key=lambda n: str(n.pk))
    ]
    assert all("failed after 6 attempts" in text for text in texts)
    # The alert e-mails to DJANGO_ADMINS fail too (same SMTP server); that is not alerted again.
    assert sorted(alerts.values_list("channel", "status")) == [
        (Channel.EMAIL, NotificationStatus.FAILED),
        (Channel.EMAIL, NotificationStatus.FAILED),
        (Channel.TELEGRAM, NotificationStatus.SENT),
        (Channel.TELEGRAM, NotificationStatus.SENT),
    ]
    assert set(alerts.values_list("audience", flat=True)) == {Audience.ADMINS}
    assert Notification.objects.filter(event=Event.DELIVERY_FAILED).count() == 4
    assert "failed for good" in worker.log()
    report(
        "scenario 4b, SMTP down past the retry horizon",
        emails="2 of 2 failed after 6 attempts each, recorded on the rows",
        alerts="2 to the managers' Telegram chat (sent), 2 e-mails to DJANGO_ADMINS (failed, not re-alerted)",
    )


def test_an_outage_shorter_than_the_retry_horizon_loses_no_email(shop, empty_queues, report):
    """Found by the chaos run: with retries after a delay anywhere below the exponential step,
    all five could fall within a 15 s SMTP outage, and e-mails failed for good. Here the
    backoff factor is 1 s, so the five retries span at least 1 + 1 + 2 + 4 + 8 = 16 s."""
    orders, outage = 10, 10.0
    smtp_port = servers.free_port()  # nothing listens here yet
    worker = servers.WorkerProcess(
        "notifications",
        concurrency=2,
        extra_env={"NOTIFICATION_RETRY_BACKOFF_SECONDS": "1", "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"},
    )
    with servers.running(worker):
        placed = [
            order_create(customer=shop.customer, items=[OrderLine(p.pk, 1) for p in shop.products])
            for _ in range(orders)
        ]
        notifications = Notification.objects.filter(order__in=placed)
        servers.wait_until(lambda: False, outage)
        failed_during_outage = notifications.filter(status=NotificationStatus.FAILED).count()
        with servers.smtp_server(port=smtp_port) as (mailbox, _):
            deliveries = await_deliveries(mailbox, expected_emails([o.pk for o in placed]), timeout=30)

    assert failed_during_outage == 0
    assert deliveries.missing == set()
    assert deliveries.duplicated == {}
    assert set(notifications.values_list("status", flat=True)) == {NotificationStatus.SENT}
    attempts = sorted(notifications.values_list("attempts", flat=True))
    report(
        "scenario 4c, SMTP down 10 s, shorter than the retry horizon",
        emails=f"{len(deliveries.expected)} of {2 * orders} sent once, none failed, after {attempts[0]} to "
        f"{attempts[-1]} attempts",
    )
