"""Scenario 3: the web process is killed after the commit and before the publish.

The order is committed, and the process dies at once, before it answers: with the outbox
the web process never publishes (the relay does, woken by the commit); with a plain
on_commit publish (the control) the publish would have come next. The outbox relay must
still deliver the e-mails, once; without the outbox they are never sent.
"""

import pytest

from orders.models import Order
from testing import servers
from tests.reliability.conftest import await_deliveries, expected_emails, place_orders

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def crash_after_commit(shop, *, outbox: bool, wait: float):
    env = {"TASK_PUBLISHING": "outbox" if outbox else "on_commit"}
    with servers.smtp_server() as (mailbox, smtp_port):
        web = servers.WebServer(
            wsgi_app="tests.reliability.crash_before_publish:application", workers=1, extra_env=env
        )
        worker = servers.WorkerProcess(
            "notifications", extra_env={**env, "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
        )
        relay = servers.RelayProcess(extra_env=env)
        with servers.running(web, worker, relay):
            (reply,) = place_orders(web.url, shop, 1, clients=1)
            order = Order.objects.get(customer=shop.customer)
            deliveries = await_deliveries(mailbox, expected_emails([order.pk]), timeout=wait)
            assert "was sent SIGKILL" in web.log(), web.log()[-2000:]  # gunicorn saw its worker die
    return reply, order, deliveries


def test_an_order_committed_by_a_process_that_died_before_publishing_is_confirmed_once(shop, report):
    reply, order, deliveries = crash_after_commit(shop, outbox=True, wait=30)

    # The process dies as the order commits, before it answers.
    assert reply.status in (201, 0)
    assert order.items.count() == 2
    assert len(deliveries.expected) == 2
    assert deliveries.missing == set()
    assert deliveries.duplicated == {}
    report(
        "scenario 3, web process killed between commit and publish",
        order=f"committed, answered {reply.status or 'nothing'}, then the process died before publishing",
        emails=f"2 of 2 sent by the relay {deliveries.seconds:.1f} s later, duplicates {deliveries.copies}",
    )


def test_control_without_the_outbox_a_crash_after_commit_loses_the_emails(shop, report):
    reply, _, deliveries = crash_after_commit(shop, outbox=False, wait=10)

    assert reply.status == 0  # the process died inside the request: no answer at all
    assert len(deliveries.expected) == 2
    assert deliveries.missing == deliveries.expected
    report("control for scenario 3, outbox off", order="committed", emails="0 of 2 sent, 10 s later")
