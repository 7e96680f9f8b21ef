"""Malformed messages, published straight to a queue with pika, as a buggy or hostile
publisher would (the poison-message scenario and the chaos run)."""

import json

import pika

from testing import servers

SEND = "notifications.tasks.send_notification"


def _task_message(task: str, task_id: str, body: bytes, content_type: str = "application/json") -> tuple:
    return {"task": task, "id": task_id, "retries": 0}, body, content_type


def poison_messages(tag: str) -> dict[str, tuple[dict, bytes, str]]:
    """One message of each kind a worker must dead-letter, as (headers, body, content type).

    Each carries `tag`: the task id `<tag>-<kind>`, or (no headers at all) in its body.
    """
    return {
        "not a task message": ({}, f"\x00\xff garbage {tag}".encode(), "application/octet-stream"),
        "invalid JSON": _task_message(SEND, f"{tag}-json", b'[[], {"notification_id": '),
        "unknown task": _task_message(
            "somewhere.tasks.unheard_of", f"{tag}-unknown", json.dumps([[], {"x": 1}, {}]).encode()
        ),
        "pickle": _task_message(SEND, f"{tag}-pickle", b"\x80\x04K\x01.", "application/x-python-serialize"),
        "wrong arguments": _task_message(
            SEND, f"{tag}-arguments", json.dumps([[], {"order": 1}, {}]).encode()
        ),
    }


def publish_raw(queue: str, headers: dict, body: bytes, content_type: str) -> None:
    """Publish to `queue` through its own exchange, persistent, bypassing Celery."""
    with servers.amqp_channel() as channel:
        channel.basic_publish(
            queue,
            queue,
            body,
            pika.BasicProperties(content_type=content_type, headers=headers, delivery_mode=2),
        )
