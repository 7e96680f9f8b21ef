"""Measurements of the workers: commit to task start, throughput, payment callbacks behind a
backlog, memory."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from bench import setup  # noqa: F401  (first: Django set up with the bench settings)

# isort: split
import pika
from django.db import transaction
from django.test import Client
from django_celery_results.models import TaskResult

from bench.load import wrk
from bench.report import Plan, Report, Row, alternate, median, percentile
from bench.setup import BENCH_ENV, ROOT, Shop, children, purge, relay, rss_kib, running, web_server, worker
from bench.tasks import probe
from messaging.outbox import enqueue
from notifications.models import Notification, NotificationStatus
from orders.models import CallbackState, PaymentCallback
from pro_platform.celery import app
from testing import servers
from testing.backlog import queued_notifications
from testing.payments import callback_body, post_callback


def commit_to_start(report: Report, plan: Plan, shop: Shop) -> None:
    """4. From the commit of an enqueue to the start of the task, vs a bare Celery `.delay()`
    to the start of the same no-op task on the same worker (Celery's own floor), probes
    alternated; and vs raw pika publish -> consume.

    Also measured: the same probe on a worker that stores no task state (no STARTED, no
    result).
    """
    print("4. commit -> task start", flush=True)
    ours, delay = probe_latencies(plan.probes)
    bare, _ = probe_latencies(
        plan.probes, CELERY_TASK_TRACK_STARTED="false", CELERY_TASK_IGNORE_RESULT="true"
    )
    raw = raw_pika_latencies(plan.probes)
    report.raw["commit_to_start_ms"] = {
        "ours": [s * 1000 for s in ours],
        "celery_delay": [s * 1000 for s in delay],
        "celery_storing_nothing": [s * 1000 for s in bare],
        "pika": [s * 1000 for s in raw],
    }
    celery_floor = "bare Celery .delay() -> start, same worker"
    for p, target in ((50, "≤ 1.2"), (99, "")):
        report.add(
            Row(
                f"commit_to_start.p{p}.vs_celery_delay",
                f"commit -> task start p{p}",
                percentile(ours, p) * 1000,
                percentile(delay, p) * 1000,
                "ms",
                celery_floor,
                target,
            ),
            (lambda r: r <= 1.2) if target else None,
        )
    pika_p50 = percentile(raw, 50) * 1000
    reference = "raw pika publish -> consume p50"
    report.add(
        Row(
            "commit_to_start.p50.vs_pika",
            "commit -> task start p50",
            percentile(ours, 50) * 1000,
            pika_p50,
            "ms",
            reference,
            "≤ 2",
        ),
        lambda r: r <= 2,
    )
    report.add(
        Row(
            "commit_to_start.p99.vs_pika",
            "commit -> task start p99",
            percentile(ours, 99) * 1000,
            pika_p50,
            "ms",
            reference,
            "≤ 10",
        ),
        lambda r: r <= 10,
    )
    report.add(
        Row(
            "commit_to_start.storing_nothing.p50.vs_pika",
            "commit -> task start p50, worker storing no task state",
            percentile(bare, 50) * 1000,
            pika_p50,
            "ms",
            reference,
        )
    )


def probe_latencies(count: int, **worker_env: str) -> tuple[list[float], list[float]]:
    """Probes one at a time, alternately enqueued in a transaction (timed from the end of
    its commit: the relay publishes it) and sent with a bare `.delay()` (timed from the
    call); each reports by UDP when it started. Returns both lists of latencies."""
    outbox: list[float] = []
    delay: list[float] = []
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as inbox,
        running(relay(), worker("default", **worker_env)),
    ):
        inbox.bind(("127.0.0.1", 0))
        inbox.settimeout(10)
        port = inbox.getsockname()[1]
        for _ in range(count):
            with transaction.atomic():
                enqueue("bench.tasks.probe", kwargs={"port": port})
            committed_at = time.time()
            outbox.append(float(inbox.recv(64)) - committed_at)
            time.sleep(0.05)  # let the task finish and acknowledge: the next probe finds the worker idle
            called_at = time.time()
            probe.delay(port=port)
            delay.append(float(inbox.recv(64)) - called_at)
            time.sleep(0.05)
    return outbox, delay


def raw_pika_latencies(count: int) -> list[float]:
    """Publish a timestamp, consume it in another thread on its own connection; one at a time."""
    latencies: list[float] = []
    received = threading.Semaphore(0)
    ready = threading.Event()
    name = "bench_pika_latency"

    def consume() -> None:
        with servers.amqp_channel() as channel:
            channel.queue_declare(name, auto_delete=True)
            channel.basic_qos(prefetch_count=1)

            def on_message(ch: Any, method: Any, props: Any, body: bytes) -> None:
                latencies.append(time.time() - float(body))
                ch.basic_ack(method.delivery_tag)
                received.release()
                if len(latencies) == count:
                    ch.stop_consuming()

            channel.basic_consume(name, on_message)
            ready.set()
            channel.start_consuming()

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    ready.wait(10)
    with servers.amqp_channel() as channel:
        channel.confirm_delivery()
        for _ in range(count):
            channel.basic_publish("", name, repr(time.time()).encode(), pika.BasicProperties(delivery_mode=2))
            received.acquire(timeout=10)
    consumer.join(10)
    return latencies


def worker_throughput(report: Report, plan: Plan, shop: Shop) -> None:
    """5. Notification tasks per second per worker process, vs a no-op task, vs a raw pika consume loop."""
    print("5. worker throughput", flush=True)
    with servers.smtp_server(keep=False) as (_, smtp_port):
        email = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
        medians = alternate(
            {
                "notifications": lambda: drain_rate(plan.tasks, queue_notifications, "notifications", email),
                "noop": lambda: drain_rate(plan.tasks, queue_noops, "default", email),
                "pika": lambda: {"per_second": raw_pika_consume_rate(plan.tasks)},
            },
            plan.rounds,
        )
    report.raw["worker_throughput"] = medians
    report.add(
        Row(
            "worker.notifications_per_second.vs_noop",
            "notification tasks per second, 1 worker process",
            medians["notifications"]["per_second"],
            medians["noop"]["per_second"],
            "tasks/s",
            "no-op Celery task",
            "≥ 0.5",
        ),
        lambda r: r >= 0.5,
    )
    report.add(
        Row(
            "worker.noop_per_second.vs_pika",
            "no-op Celery tasks per second, 1 worker process",
            medians["noop"]["per_second"],
            medians["pika"]["per_second"],
            "tasks/s",
            "raw pika consume-and-ack loop",
        )
    )


def queue_notifications(count: int) -> Callable[[], bool]:
    ids = [notification.pk for notification in queued_notifications(count)]
    pending = Notification.objects.filter(pk__in=ids, status=NotificationStatus.PENDING)
    return lambda: not pending.exists()


def queue_noops(count: int) -> Callable[[], bool]:
    ids = [f"noop-{time.time()}-{n}" for n in range(count)]
    with app.producer_or_acquire() as producer:
        for task_id in ids:
            app.send_task("bench.tasks.noop", task_id=task_id, producer=producer)
    done = TaskResult.objects.filter(task_id__in=ids, status="SUCCESS")
    return lambda: done.count() == count


def drain_rate(
    count: int, fill: Callable[[int], Callable[[], bool]], queue: str, env: dict[str, str]
) -> dict:
    """Queue `count` tasks with no worker running, start one worker process, time until all are done."""
    done = fill(count)
    process = worker(queue, **env).start()
    started = time.monotonic()
    try:
        if not servers.wait_until(done, timeout=600, interval=0.05):
            raise RuntimeError("the worker did not finish:\n" + process.log()[-3000:])
        elapsed = time.monotonic() - started
    finally:
        process.stop()
    return {"per_second": count / elapsed}


def raw_pika_consume_rate(count: int) -> float:
    name = "bench_pika_throughput"
    with servers.amqp_channel() as channel:
        channel.queue_declare(name, durable=True)
        channel.queue_purge(name)
        for n in range(count):
            channel.basic_publish("", name, str(n).encode(), pika.BasicProperties(delivery_mode=2))
        channel.basic_qos(prefetch_count=1)
        started = time.monotonic()
        for _ in range(count):
            method, _, _ = next(channel.consume(name))
            channel.basic_ack(method.delivery_tag)
        elapsed = time.monotonic() - started
        channel.cancel()
        channel.queue_delete(name)
    return count / elapsed


def callback_latency(report: Report, plan: Plan, shop: Shop) -> None:
    """6. A payment callback's time to apply, behind a 10,000-notification backlog vs an empty broker."""
    print("6. payment callback latency", flush=True)
    with servers.smtp_server(keep=False) as (_, smtp_port):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
        with running(relay(), worker("payments", **env), worker("notifications", **env)):
            idle = [apply_callback_seconds(shop) for _ in range(plan.callbacks)]
            queue_notifications(plan.backlog)
            waiting = servers.queue_depth("notifications")
            behind = [apply_callback_seconds(shop) for _ in range(plan.callbacks)]
            still_waiting = servers.queue_depth("notifications")
        purge("notifications")
    report.raw["callback_latency_ms"] = {
        "idle": [s * 1000 for s in idle],
        "backlog": [s * 1000 for s in behind],
        "backlog_at_start": waiting,
        "backlog_at_end": still_waiting,
    }
    report.add(
        Row(
            "callback.p50.behind_backlog",
            f"payment callback applied, p50, {waiting} notifications queued",
            median(behind) * 1000,
            median(idle) * 1000,
            "ms",
            "the same with an empty broker",
            "≤ 1.5",
        ),
        lambda r: r <= 1.5,
    )


def apply_callback_seconds(shop: Shop) -> float:
    from services.orders import OrderLine, order_create

    with transaction.atomic():
        order = order_create(customer=shop.customer, items=[OrderLine(shop.products[0].pk, 1)])
    started = time.monotonic()
    response = post_callback(Client(), callback_body(order))
    assert response.status_code == 202, response.content
    callback = PaymentCallback.objects.filter(order=order)
    if not servers.wait_until(
        lambda: callback.filter(state=CallbackState.APPLIED).exists(), timeout=60, interval=0.002
    ):
        raise RuntimeError("callback not applied")
    return time.monotonic() - started


def memory(report: Report, plan: Plan, shop: Shop) -> None:
    """7. Resident memory of web and worker processes vs a bare django.setup() process."""
    print("7. memory", flush=True)
    bare = int(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import django, resource; django.setup(); "
                "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])",
            ],
            env={**os.environ, **BENCH_ENV},
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    )
    web, celery = web_server(), worker("notifications")
    with running(web, relay(), celery):
        wrk(
            f"{web.url}/api/v1/orders/",
            connections_=8,
            seconds=plan.seconds,
            method="POST",
            body=shop.order_body(),
            token=shop.token,
        )  # warm: every import done, caches filled
        assert web.process is not None
        assert celery.process is not None
        web_rss = max(rss_kib(pid) for pid in children(web.process.pid))
        worker_main = rss_kib(celery.process.pid)
        pool = max(rss_kib(pid) for pid in children(celery.process.pid))
    purge("notifications")
    report.raw["memory_kib"] = {"bare": bare, "web": web_rss, "worker_main": worker_main, "worker_pool": pool}
    report.add(
        Row("memory.web", "gunicorn worker RSS", web_rss / 1024, bare / 1024, "MiB", "bare django.setup()")
    )
    for key, name, rss in (
        ("memory.worker_main", "Celery worker main process RSS", worker_main),
        ("memory.worker_pool", "Celery pool process RSS", pool),
    ):
        report.add(
            Row(key, name, rss / 1024, bare / 1024, "MiB", "bare django.setup()", "≤ 1.5"), lambda r: r <= 1.5
        )
