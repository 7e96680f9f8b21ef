"""What RabbitMQ says of the routing table's queues: how many messages wait, how many consumers read."""

from dataclasses import dataclass
from typing import Any

from messaging.routing import QUEUES
from pro_platform.celery import app


@dataclass(frozen=True)
class QueueState:
    name: str
    messages: int
    consumers: int


def queue_states() -> list[QueueState] | None:
    """Every declared queue's depth and consumers, by passive declares (nothing is created).

    A queue that does not exist yet (no worker ever declared it) has no messages and no
    consumers. None when RabbitMQ does not answer: readiness, metrics and the dashboard
    say so instead of failing.
    """
    try:
        return _read_queues()
    except Exception:  # kombu's and the transport's connection errors share no base class
        return None


def _read_queues() -> list[QueueState]:
    states = []
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0)  # an answer now, not after retries
        for queue in QUEUES:
            channel: Any = connection.channel()  # py-amqp's Channel (the stub says StdChannel)
            try:
                _, messages, consumers = channel.queue_declare(queue=queue.name, passive=True)
            except connection.channel_errors:  # 404: not declared yet (and the channel is closed)
                messages, consumers = 0, 0
            else:
                channel.close()
            states.append(QueueState(queue.name, messages, consumers))
    return states
