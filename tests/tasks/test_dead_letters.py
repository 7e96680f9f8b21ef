"""The dead-letter store: recording, collecting from RabbitMQ's dead-letter queue, replaying."""

import json
import logging

import pika
import pytest
from django.core.management import call_command
from django.urls import reverse

from messaging.dead_letters import dead_letter_record_failure, dead_letters_collect
from messaging.models import DeadLetter, DeadLetterSource, OutboxMessage
from messaging.outbox import enqueue
from services.dead_letters import DeadLetterAlreadyReplayed, DeadLetterNotReplayable, dead_letter_replay
from testing import servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_queues")]

CALLBACK_TASK = "orders.tasks.process_payment_callback"


def given_up(task_id: str = "t-1") -> DeadLetter:
    return DeadLetter.objects.create(
        source=DeadLetterSource.TASK,
        task_name=CALLBACK_TASK,
        task_id=task_id,
        queue="payments",
        kwargs={"callback_id": 7},
        retries=5,
        reason="OperationalError: the database is shutting down",
    )


def dead_letter_publish(headers: dict, body: bytes) -> None:
    with servers.amqp_channel() as channel:
        channel.basic_publish(
            "dead_letters",
            "payments",
            body,
            pika.BasicProperties(content_type="application/json", headers=headers),
        )


def test_replaying_publishes_the_task_again_through_the_outbox_once():
    dead_letter = given_up()

    assert dead_letter_replay(dead_letter_id=dead_letter.pk) == "t-1"

    dead_letter.refresh_from_db()
    assert dead_letter.replayed_at is not None
    (wire,) = servers.drain("payments")
    assert (wire.task, wire.headers["id"], wire.headers["retries"]) == (CALLBACK_TASK, "t-1", 0)
    assert json.loads(wire.body)[1] == {"callback_id": 7}
    assert OutboxMessage.objects.get().published_at is not None
    with pytest.raises(DeadLetterAlreadyReplayed):
        dead_letter_replay(dead_letter_id=dead_letter.pk)
    assert servers.queue_depth("payments") == 0


def test_a_message_that_was_never_a_task_cannot_be_replayed():
    garbage = DeadLetter.objects.create(source=DeadLetterSource.BROKER, reason="not a Celery task message")
    with pytest.raises(DeadLetterNotReplayable):
        dead_letter_replay(dead_letter_id=garbage.pk)
    garbage.refresh_from_db()
    assert garbage.replayed_at is None
    assert OutboxMessage.objects.count() == 0


def test_collecting_moves_rejected_messages_into_the_table_and_acknowledges_them():
    death = [{"queue": "payments", "reason": "rejected", "count": 1, "exchange": "payments"}]
    dead_letter_publish(
        {"task": CALLBACK_TASK, "id": "t-9", "retries": 2, "x-death": death}, b'[[], {"callback_id": 9}, {}]'
    )

    assert dead_letters_collect() == 1

    (dead_letter,) = DeadLetter.objects.all()
    assert (dead_letter.source, dead_letter.task_name, dead_letter.task_id) == (
        "broker",
        CALLBACK_TASK,
        "t-9",
    )
    assert (dead_letter.queue, dead_letter.retries, dead_letter.kwargs) == ("payments", 2, {"callback_id": 9})
    assert dead_letter.reason == "rejected by a worker"
    assert '"callback_id": 9' in dead_letter.detail
    assert servers.queue_depth("dead_letters") == 0
    assert dead_letters_collect() == 0


def test_the_relay_collects_dead_letters_unless_it_only_publishes():
    dead_letter_publish({"task": CALLBACK_TASK, "id": "t-8"}, b'[[], {"callback_id": 8}, {}]')
    task_id = enqueue("notifications.tasks.send_notification", kwargs={"notification_id": 1})

    call_command("outbox_relay", "--once", "--publish-only")
    assert OutboxMessage.objects.get(task_id=task_id).published_at is not None
    assert servers.queue_depth("dead_letters") == 1
    assert not DeadLetter.objects.exists()

    call_command("outbox_relay", "--once")
    assert servers.queue_depth("dead_letters") == 0
    assert DeadLetter.objects.get().task_id == "t-8"


def test_a_rejected_message_whose_failure_is_recorded_is_not_recorded_twice():
    given_up("t-2")
    dead_letter_publish({"task": CALLBACK_TASK, "id": "t-2"}, b'[[], {"callback_id": 7}, {}]')

    assert dead_letters_collect() == 1
    assert DeadLetter.objects.count() == 1
    assert servers.queue_depth("dead_letters") == 0


def test_a_failure_the_database_cannot_record_is_logged_in_full(monkeypatch, caplog):
    def database_down(**kwargs):
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(DeadLetter.objects, "create", database_down)
    with caplog.at_level(logging.CRITICAL, logger="messaging.dead_letters"):
        recorded = dead_letter_record_failure(
            task_name=CALLBACK_TASK,
            task_id="t-3",
            kwargs={"callback_id": 3},
            exception=ValueError("bad"),
            traceback="",
            retries=0,
            queue="payments",
        )
    assert recorded is None
    (record,) = caplog.records
    assert "t-3" in record.getMessage()
    assert "{'callback_id': 3}" in record.getMessage()
    assert "ValueError: bad" in record.getMessage()


def test_staff_replay_dead_letters_from_the_admin(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    replayable = given_up()
    garbage = DeadLetter.objects.create(source=DeadLetterSource.BROKER, reason="not a Celery task message")

    response = client.post(
        reverse("admin:outbox_deadletter_changelist"),
        {"action": "replay", "_selected_action": [replayable.pk, garbage.pk]},
        follow=True,
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert "1 dead letter(s) published again." in messages
    assert any(f"#{garbage.pk}: This message is not a task" in m for m in messages)
    assert len(servers.drain("payments")) == 1
    replayable.refresh_from_db()
    assert replayable.replayed_at is not None
    listing = client.get(reverse("admin:outbox_deadletter_changelist") + "?state=open")
    assert list(listing.context["cl"].queryset) == [garbage]
