"""Scenario 2: a worker SIGKILLed three times while it works through 300 notification tasks.

Kills one and two take a pool process (the one running tasks; the worker's main
process sees it lost and puts its message back), kill three takes the whole worker
with its pool, which is then started again. Every e-mail must be sent.

About "once": a task killed after the SMTP server accepted its e-mail and before
its transaction committed runs again and sends again. Each attempt carries the
notification's Message-ID, so such a copy is the same e-mail to the recipient's
mail system; the test counts distinct Message-IDs (one each, none missing) and
reports the raw copies, which only a kill in that window of about a millisecond
can cause, at most one per task that was running.
"""

import os
import signal

import pytest

from notifications.models import Notification, NotificationStatus
from services.orders import OrderLine, order_create
from testing import servers
from tests.reliability.conftest import Deliveries, expected_emails

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

ORDERS = 150  # a confirmation and a seller notice each: 300 notification tasks
CONCURRENCY = 2
SIGKILLED = "exited with 'signal 9 (SIGKILL)'"  # what the worker logs when a pool process is killed


def test_every_email_is_sent_though_the_worker_is_killed_three_times(shop, empty_queues, report):
    orders = [
        order_create(customer=shop.customer, items=[OrderLine(p.pk, 1) for p in shop.products])
        for _ in range(ORDERS)
    ]
    expected = expected_emails(o.pk for o in orders)
    assert len(expected) == 2 * ORDERS
    assert servers.queue_depth("notifications") == 2 * ORDERS

    kills: list[str] = []
    victims: list[int] = []
    with servers.smtp_server() as (mailbox, smtp_port):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
        worker = servers.WorkerProcess("notifications", concurrency=CONCURRENCY, extra_env=env).start()
        try:
            for number, fraction in enumerate((0.25, 0.5), start=1):
                assert servers.wait_until(lambda f=fraction: len(mailbox.accepted) >= f * len(expected), 120)
                victim = next(pid for pid in worker.pool_pids() if pid not in victims)
                os.kill(victim, signal.SIGKILL)
                victims.append(victim)
                kills.append(f"pool process at {len(mailbox.accepted)} sent")
                assert servers.wait_until(lambda n=number: worker.log().count(SIGKILLED) == n, 10)
            assert servers.wait_until(lambda: len(mailbox.accepted) >= 0.75 * len(expected), 120)
            worker.kill()
            kills.append(f"whole worker at {len(mailbox.accepted)} sent")
            first_log = worker.log()
            worker = servers.WorkerProcess("notifications", concurrency=CONCURRENCY, extra_env=env).start()
            # Every e-mail in and every row marked: a pool process killed between sending and
            # marking leaves its message to be redelivered while its e-mail may be in already.
            notifications = Notification.objects.filter(order__in=orders)
            servers.wait_until(
                lambda: (
                    expected <= set(mailbox.message_ids())
                    and not notifications.exclude(status=NotificationStatus.SENT).exists()
                ),
                120,
            )
            deliveries = Deliveries(expected, mailbox.message_ids(), 0)
        finally:
            worker.stop()

    assert first_log.count(SIGKILLED) == 2  # the worker noticed each, and put the message back
    assert deliveries.missing == set()
    assert deliveries.copies <= len(kills) * CONCURRENCY
    assert set(notifications.values_list("status", flat=True)) == {NotificationStatus.SENT}
    report(
        "scenario 2, worker SIGKILLed 3 times during 300 notification tasks",
        kills="; ".join(kills),
        emails=f"{len(set(deliveries.accepted) & expected)} of {len(expected)} sent",
        raw_copies=f"{deliveries.copies} (same Message-ID)",
    )
