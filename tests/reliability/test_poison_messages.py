"""Scenario 5: malformed messages published straight to a queue with pika.

Each must end in the dead-letter store with its reason, and the worker must keep
consuming: an order placed afterwards is still confirmed.
"""

import pytest

from messaging.dead_letters import dead_letters_collect
from messaging.models import DeadLetter, DeadLetterSource
from orders.models import Order
from testing import servers
from testing.poison import poison_messages, publish_raw
from tests.reliability.conftest import await_deliveries, expected_emails, place_orders

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

POISON = poison_messages("poison")


def test_poison_messages_are_dead_lettered_with_their_reason_and_the_worker_keeps_going(
    shop, empty_queues, report
):
    with servers.smtp_server() as (mailbox, smtp_port):
        worker = servers.WorkerProcess(
            "notifications", extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
        )
        web = servers.WebServer(workers=1)
        with servers.running(worker, web):
            for headers, body, content_type in POISON.values():
                publish_raw("notifications", headers, body, content_type)
            assert servers.wait_until(lambda: servers.queue_depth("notifications") == 0, timeout=30)

            (reply,) = place_orders(web.url, shop, 1, clients=1)
            deliveries = await_deliveries(mailbox, expected_emails([reply.body["id"]]), timeout=30)
            assert worker.alive(), worker.log()[-3000:]
            worker_log = worker.log()

    assert reply.status == 201
    assert deliveries.missing == set()
    assert Order.objects.count() == 1
    assert servers.wait_until(lambda: servers.queue_depth("dead_letters") == 4, timeout=10)
    assert dead_letters_collect() == 4
    assert servers.queue_depth("dead_letters") == 0

    by_task_id = {str(headers.get("id", "")): name for name, (headers, _, _) in POISON.items()}
    reasons = {by_task_id[d.task_id]: d for d in DeadLetter.objects.all()}
    assert set(reasons) == set(POISON)
    assert reasons["not a task message"].reason.startswith("not a Celery task message")
    assert reasons["invalid JSON"].reason.startswith("the body is not valid JSON")
    assert reasons["unknown task"].reason == "NotRegistered: somewhere.tasks.unheard_of"
    assert reasons["unknown task"].kwargs == {"x": 1}
    assert (
        reasons["pickle"].reason
        == "content type 'application/x-python-serialize' is not accepted (JSON only)"
    )
    wrong = reasons["wrong arguments"]
    assert wrong.source == DeadLetterSource.TASK  # recorded by the task's failure, with its traceback
    assert wrong.reason.startswith("TypeError:")
    assert "Traceback" in wrong.detail
    assert {d.source for d in reasons.values() if d is not wrong} == {DeadLetterSource.BROKER}
    assert "garbage" in reasons["not a task message"].detail
    assert worker_log.count("dead-lettered") >= 1
    report(
        "scenario 5, poison messages",
        published=len(POISON),
        dead_letters=", ".join(f"{name}: {d.reason[:60]}" for name, d in reasons.items()),
        worker="alive, confirmed the next order",
    )
