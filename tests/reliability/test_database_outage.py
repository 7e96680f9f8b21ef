"""Scenario 8 (found by the chaos run, seed 1): tasks that start while the database is unreachable.

Celery stores a task's STARTED state before it runs the task. With the database
unreachable that store failed outside the task's body, and Celery acknowledged the
message: the task never ran and nothing recorded it (the notification stayed pending
until the 15-minute sweep). Now the state is stored again on a new connection with
backoff, and the message goes back to its queue if the database stays away.
"""

import pytest

from notifications.models import Notification, NotificationStatus
from services.orders import OrderLine, order_create
from testing import servers
from tests.reliability.conftest import await_deliveries, expected_emails

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

OUTAGE_SECONDS = 4.0


def test_tasks_starting_while_the_database_is_unreachable_run_once_it_is_back(
    shop, empty_queues, smtp, report
):
    mailbox, smtp_port = smtp
    database = servers.TcpProxy(5432).start()
    worker = servers.WorkerProcess(
        "notifications",
        relay=False,  # this test publishes, from its own direct connection
        extra_env={
            "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:{database.port}/pro_platform_test",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "CELERY_RESULT_BACKEND_MAX_RETRIES": "3",  # past them, the message goes back to its queue
        },
    )
    with servers.running(worker):
        database.cut()
        order = order_create(customer=shop.customer, items=[OrderLine(p.pk, 1) for p in shop.products])
        servers.published()
        assert servers.wait_until(lambda: "Failed operation _store_result" in worker.log(), 20), worker.log()
        servers.wait_until(lambda: False, OUTAGE_SECONDS)  # the outage goes on
        database.restore()
        deliveries = await_deliveries(mailbox, expected_emails([order.pk]), timeout=60)
        log = worker.log()
    database.stop()

    assert deliveries.missing == set(), log[-4000:]
    assert deliveries.duplicated == {}
    notifications = Notification.objects.filter(order=order)
    assert set(notifications.values_list("status", flat=True)) == {NotificationStatus.SENT}
    assert "Exception raised outside body" not in log
    requeued = log.count("Retrying 0 more times")  # its retries spent, the message went back
    assert requeued >= 1, "the outage outlasted no task's retries: the scenario proved less than it says"
    report(
        "scenario 8, the database unreachable as tasks start",
        outage=f"the worker's database cut for about {OUTAGE_SECONDS + 1:.0f} s as 2 tasks arrive",
        emails=f"{len(deliveries.expected)} sent once, after the database came back",
        requeued=f"{requeued} time(s) a message went back to its queue (3 quick retries each, for the test)",
    )
