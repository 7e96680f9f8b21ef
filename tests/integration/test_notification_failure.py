"""SMTP unreachable for good: the worker retries with backoff, then records the failure."""

from collections.abc import Iterator

import pytest

from notifications.models import Notification, NotificationStatus
from services.orders import OrderLine, order_create
from testing import servers
from testing.servers import wait_until
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker_without_smtp(rabbitmq_vhost: str, django_db_setup: None) -> Iterator[servers.WorkerProcess]:
    servers.purge_queues()
    worker = servers.WorkerProcess(
        "notifications",
        extra_env={
            "EMAIL_URL": f"smtp://127.0.0.1:{servers.free_port()}",  # nothing listens there
            "NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS": "1",
        },
    ).start()
    yield worker
    worker.stop()


def test_the_final_failure_is_recorded_on_the_notification(worker_without_smtp):
    order = order_create(customer=UserFactory.create(), items=[OrderLine(ProductFactory.create().pk, 1)])
    notifications = Notification.objects.filter(order=order)

    assert wait_until(
        lambda: set(notifications.values_list("status", flat=True)) == {NotificationStatus.FAILED}, timeout=60
    ), worker_without_smtp.log()[-3000:]
    for notification in notifications:
        assert notification.attempts == 6  # the first try and 5 retries
        assert notification.last_error.startswith("ConnectionRefusedError")
        assert notification.sent_at is None
    assert "Retry in" in worker_without_smtp.log()
