"""celery beat with the database scheduler: real beat processes, a real worker, the real broker.

The default schedules come from a data migration; here they are disabled and a
one-second schedule is added, so that beat -> RabbitMQ -> worker -> effect is seen
within seconds.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from orders.models import Order, OrderStatus
from services.orders import OrderLine, order_create
from testing import servers
from tests.factories import ProductFactory, UserFactory
from tests.schedules import create_default_schedules

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


@pytest.fixture
def every_second(empty_queues: None) -> PeriodicTask:
    """Only one schedule: expire unpaid orders every second."""
    PeriodicTask.objects.update(enabled=False)
    second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(
        name="test: expire unpaid orders every second",
        task="orders.tasks.expire_unpaid_orders",
        interval=second,
    )


def test_beat_publishes_on_schedule_and_a_worker_carries_it_out(every_second):
    product = ProductFactory.create(stock=4)
    order = order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 3)])
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    worker = servers.WorkerProcess("periodic", extra_env={"ORDER_PAYMENT_TIMEOUT_MINUTES": "1"})

    beat = servers.BeatProcess()
    with servers.running(worker, beat):
        assert servers.wait_until(
            lambda: Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED, timeout=30
        ), beat.log()[-3000:]
        assert servers.wait_until(lambda: worker.log().count("expire_unpaid_orders") >= 4, timeout=30)

    product.refresh_from_db()
    assert product.stock == 4
    assert "Task orders.tasks.expire_unpaid_orders" in worker.log()
    assert "succeeded in" in worker.log()


def test_only_one_beat_schedules_and_the_second_takes_over_when_the_first_dies(every_second):
    first = servers.BeatProcess().start()
    try:
        second = servers.BeatProcess(waiting=True).start()
        try:
            assert servers.wait_until(lambda: first.sent() >= 3, timeout=20), first.log()[-3000:]
            time.sleep(2)
            assert second.sent() == 0
            assert "beat lock acquired" not in second.log()
            before = servers.queue_depth("periodic")
            assert before >= first.sent() - 1  # nobody consumes: what one beat sent waits there

            first.kill()
            assert servers.wait_until(lambda: "beat lock acquired" in second.log(), timeout=15), second.log()
            assert servers.wait_until(lambda: second.sent() >= 2, timeout=15)
            assert servers.queue_depth("periodic") > before
            # Each periodic run has a request id of its own, for its log lines and its trace.
            request_ids = [message.headers["request_id"] for message in servers.drain("periodic")]
            assert all(request_ids)
            assert len(set(request_ids)) == len(request_ids)
        finally:
            second.stop()
    finally:
        first.stop()


def test_a_beat_restart_leaves_the_schedules_staff_changed(every_second):
    create_default_schedules()  # what the data migration did (this test's database was emptied since)
    cleanup = PeriodicTask.objects.get(name="celery.backend_cleanup")
    cleanup.crontab.hour = "5"
    cleanup.crontab.save()
    PeriodicTask.objects.filter(pk=cleanup.pk).update(enabled=True, description="moved to 05:00 by staff")

    with servers.running(servers.BeatProcess()):
        time.sleep(2)

    cleanup.refresh_from_db()
    assert (cleanup.crontab.hour, cleanup.description) == ("5", "moved to 05:00 by staff")
    assert PeriodicTask.objects.filter(task="celery.backend_cleanup").count() == 1
