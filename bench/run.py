"""`make bench`: the platform measured against references run side by side, in one invocation.

Each comparison runs its variants alternately (A, B, A, B, ...) so that drift of the
machine cancels out, and reports the median of the rounds. Everything runs on a
database and a RabbitMQ vhost of its own (bench/settings.py); the harness starts
what it measures: gunicorn (gunicorn.conf.py; 2 workers x 4 threads, pinned to CPU 0),
Celery workers, wrk (pinned to CPU 1), pgbench, an SMTP server and a Telegram Bot
API server. Results: bench/REPORT.md and bench/results.json (or --out DIR).

    python -m bench.run            # the full run, under 10 minutes
    python -m bench.run --smoke    # seconds: proves the harness works, measures nothing
"""

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django

django.setup()

import celery  # noqa: E402
import pika  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_celery_results.models import TaskResult  # noqa: E402

from accounts.models import CustomerProfile, User  # noqa: E402
from bench.references import CAPTURE_IDS, pgbench_script  # noqa: E402
from notifications.models import Notification, NotificationStatus  # noqa: E402
from orders.models import CallbackState, PaymentCallback, Product, Seller  # noqa: E402
from pro_platform.celery import app  # noqa: E402
from pro_platform.preflight import declare_broker_topology  # noqa: E402
from services.queue import enqueue  # noqa: E402
from testing import servers  # noqa: E402
from testing.backlog import queued_notifications  # noqa: E402
from testing.payments import callback_body, post_callback  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "GUNICORN_ACCESSLOG": "",
    "GUNICORN_MAX_REQUESTS": "0",
}
WEB_CPU, CLIENT_CPU = "0", "1"
SLOW_PROVIDER_SECONDS = 0.2
ORDERS = "/api/v1/orders/"


@dataclass(frozen=True)
class Plan:
    seconds: int  # per load round
    rounds: int  # of each variant, alternated
    concurrencies: tuple[int, ...]
    tasks: int  # per worker-throughput round
    backlog: int  # notifications waiting while callbacks are measured
    callbacks: int
    probes: int


FULL = Plan(
    seconds=4, rounds=3, concurrencies=(1, 8, 32), tasks=600, backlog=10_000, callbacks=25, probes=300
)
SMOKE = Plan(seconds=1, rounds=1, concurrencies=(8,), tasks=20, backlog=50, callbacks=2, probes=10)


@dataclass
class Row:
    metric: str
    ours: float
    reference: float
    unit: str
    reference_name: str
    target: str = ""
    passed: bool | None = None

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("nan")


@dataclass
class Report:
    machine: dict[str, Any]
    plan: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row, check: Callable[[float], bool] | None = None) -> Row:
        if check is not None:
            row.passed = check(row.ratio)
        self.rows.append(row)
        print(
            f"  {row.metric}: {row.ours:.3f} vs {row.reference:.3f} {row.unit} (x{row.ratio:.2f})", flush=True
        )
        return row


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")


def alternate(
    variants: dict[str, Callable[[], dict[str, float]]], rounds: int
) -> dict[str, dict[str, float]]:
    """Run the variants A, B, A, B, ...; return each one's median of every measured figure."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            results[name].append(run())
    return {name: {k: median([r[k] for r in runs]) for k in runs[0]} for name, runs in results.items()}


# --- Set-up ------------------------------------------------------------------------------------


def fresh_database() -> None:
    name = settings.DATABASES["default"]["NAME"]
    connection.close()
    with connections["default"]._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as a production deploy does


def fresh_vhost() -> None:
    servers.reset_vhost(servers.test_vhost())
    declare_broker_topology()


@dataclass(frozen=True)
class Shop:
    """A catalogue of 2 x HALF products; an order takes one from each half, at random under load,
    so that concurrent orders rarely wait for each other's row locks (a real catalogue's case)."""

    customer: User
    products: tuple[Product, Product]  # the first of each half: what one-off orders take
    token: str

    def order_body(self) -> str:
        return json.dumps({"items": [{"product_id": p.pk, "quantity": 1} for p in self.products]})


FIRST_PRODUCT_ID, HALF = 9_000_001, 100  # distinctive ids: the pgbench script finds and varies them


def open_shop() -> Shop:
    from testing.auth import bearer

    seller = Seller.objects.create(name="Bench seller", email="seller@bench.local", telegram_chat_id="200")
    Product.objects.bulk_create(
        Product(
            id=FIRST_PRODUCT_ID + n,
            seller=seller,
            name=f"Bench {n}",
            sku=f"BENCH-{n}",
            price="9.99",
            stock=10**9,
        )
        for n in range(2 * HALF)
    )
    products = (Product.objects.get(pk=FIRST_PRODUCT_ID), Product.objects.get(pk=FIRST_PRODUCT_ID + HALF))
    customer = User.objects.create_user(email="customer@bench.local", password="bench-password-123")
    CustomerProfile.objects.filter(user=customer).update(telegram_chat_id="100")
    return Shop(customer, products, bearer(customer).removeprefix("Bearer "))


# --- Load generators --------------------------------------------------------------------------------


def wrk(
    url: str, *, connections_: int, seconds: int, method: str = "GET", body: str = "", token: str = ""
) -> dict:
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_BODY": body,
        "BENCH_TOKEN": token,
        "BENCH_PRODUCTS": f"{FIRST_PRODUCT_ID},{HALF}",
    }
    argv = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections_}", f"-d{seconds}s", "--latency"]
    argv.append("--timeout=30s")
    out = subprocess.run(
        [*argv, "-s", str(ROOT / "bench" / "wrk.lua"), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    result = json.loads(out.split("BENCH ", 1)[1])
    if result["errors"]:
        raise RuntimeError(f"wrk saw {result['errors']} errors against {url}:\n{out}")
    return result


def cpu_seconds(pids: list[int]) -> float:
    """CPU time of the processes and of their children that have ended (PostgreSQL's backends)."""
    ticks = 0
    for pid in pids:
        with suppress(FileNotFoundError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def pids_of(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in found.split()]


@contextmanager
def web_cpu_to_itself() -> Iterator[None]:
    """Move PostgreSQL's and RabbitMQ's threads to the load generator's CPU while the web
    server is measured, and back.

    On two CPUs they would otherwise share the web server's CPU, and a figure like the
    cost of publishing would measure where the broker happens to run, not the web server.
    """
    moved: list[int] = []
    try:
        for pid in pids_of("beam.smp") + pids_of("postgres"):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with suppress(OSError):
                    os.sched_setaffinity(int(task.name), {int(CLIENT_CPU)})
                    moved.append(int(task.name))
        yield
    finally:
        everywhere = set(range(os.cpu_count() or 1))
        for tid in moved + pids_of("postgres"):  # backends born meanwhile inherited CPU 1
            with suppress(OSError):
                os.sched_setaffinity(tid, everywhere)


def with_cpu(server: servers.WebServer, load: Callable[[], dict]) -> dict:
    """`load`'s figures, with the CPU time each order cost the web server, RabbitMQ and PostgreSQL."""
    assert server.process is not None
    web_pid = server.process.pid

    def groups() -> dict[str, list[int]]:
        return {"web": children(web_pid), "broker": pids_of("beam.smp"), "database": pids_of("postgres")}

    started = groups()
    before = {name: cpu_seconds(pids) for name, pids in started.items()}
    result = load()
    for name, pids in groups().items():  # with the backends that started meanwhile, counted whole
        spent = cpu_seconds(sorted(set(pids) | set(started[name]))) - before[name]
        result[f"{name}_cpu_ms"] = spent / max(result["requests"], 1) * 1000
    return result


def pgbench(script: Path, *, clients: int, seconds: int) -> dict:
    db = settings.DATABASES["default"]
    with tempfile.TemporaryDirectory() as logs:
        prefix = Path(logs) / "tx"
        subprocess.run(
            [
                "pgbench",
                "-n",
                f"-c{clients}",
                f"-j{min(clients, 2)}",
                f"-T{seconds}",
                "-f",
                str(script),
                "-l",
                f"--log-prefix={prefix}",
                "-h",
                db["HOST"],
                "-p",
                str(db["PORT"]),
                "-U",
                db["USER"],
                db["NAME"],
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
        latencies_ms = [
            int(line.split()[2]) / 1000
            for log in Path(logs).iterdir()
            for line in log.read_text().splitlines()
        ]
    return {
        "rps": len(latencies_ms) / seconds,
        "p50_ms": percentile(latencies_ms, 50),
        "p99_ms": percentile(latencies_ms, 99),
    }


# --- Processes ------------------------------------------------------------------------------------


def web_server(wsgi_app: str = "pro_platform.wsgi:application", **env: str) -> servers.WebServer:
    server = servers.WebServer(wsgi_app=wsgi_app, workers=2, threads=4, extra_env={**BENCH_ENV, **env})
    server.argv = ["taskset", "-c", WEB_CPU, *server.argv]
    return server


def worker(queues: str, **env: str) -> servers.WorkerProcess:
    return servers.WorkerProcess(queues, concurrency=1, extra_env={**BENCH_ENV, **env})


@contextmanager
def running(*processes: servers.ChildProcess) -> Iterator[None]:
    with servers.running(*processes):
        yield


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def purge(*queues: str) -> None:
    with servers.amqp_channel() as channel:
        for name in queues:
            channel.queue_purge(name)


# --- The measurements --------------------------------------------------------------------------------


def bare_request_cost(report: Report, plan: Plan, shop: Shop) -> None:
    """1. DRF constant vs plain Django view vs raw WSGI hello, same gunicorn configuration."""
    print("1. bare request cost", flush=True)
    api, hello = web_server(), web_server("bench.hello:hello")
    with running(api, hello), web_cpu_to_itself():
        c = 8
        medians = alternate(
            {
                "drf": lambda: wrk(f"{api.url}/bench/drf-constant/", connections_=c, seconds=plan.seconds),
                "django": lambda: wrk(
                    f"{api.url}/bench/django-constant/", connections_=c, seconds=plan.seconds
                ),
                "wsgi": lambda: wrk(f"{hello.url}/", connections_=c, seconds=plan.seconds),
            },
            plan.rounds,
        )
    report.raw["bare_request"] = medians
    for reference, name in (("django", "plain Django view"), ("wsgi", "raw WSGI hello")):
        report.add(
            Row(
                f"DRF constant endpoint, {c} clients",
                medians["drf"]["rps"],
                medians[reference]["rps"],
                "req/s",
                name,
            )
        )


# Rows of section 2, per concurrency: (label, figure, unit, reference variant, its name, target).
ORDER_CREATE_ROWS = (
    ("req/s", "rps", "req/s", "no_publish", "same endpoint, publishing off", "≥ 0.90"),
    ("req/s", "rps", "req/s", "drf", "bare DRF endpoint", "≥ 0.35"),
    ("req/s", "rps", "req/s", "pgbench", "pgbench, the same SQL", ""),
    ("p50", "p50_ms", "ms", "pgbench", "pgbench, the same SQL", ""),
    ("p99", "p99_ms", "ms", "pgbench", "pgbench, the same SQL", ""),
)
TARGETS: dict[str, Callable[[float], bool]] = {"≥ 0.90": lambda r: r >= 0.90, "≥ 0.35": lambda r: r >= 0.35}


def order_create_throughput(report: Report, plan: Plan, shop: Shop) -> None:
    """2. POST /orders/ with publishing vs without, vs the bare DRF endpoint, vs pgbench's floor."""
    print("2. order creation", flush=True)
    script = Path(tempfile.mkstemp(suffix=".sql")[1])
    script.write_text(
        pgbench_script(
            *capture_order_request(shop), products=(FIRST_PRODUCT_ID, FIRST_PRODUCT_ID + HALF, HALF)
        )
    )
    publishing, silent = web_server(), web_server(TASK_PUBLISHING="off")
    with running(publishing, silent), web_cpu_to_itself():
        post = partial(wrk, method="POST", body=shop.order_body(), token=shop.token, seconds=plan.seconds)
        for c in plan.concurrencies:
            medians = alternate(
                {
                    "ours": partial(
                        with_cpu, publishing, partial(post, publishing.url + ORDERS, connections_=c)
                    ),
                    "no_publish": partial(
                        with_cpu, silent, partial(post, silent.url + ORDERS, connections_=c)
                    ),
                    "drf": partial(
                        wrk, f"{publishing.url}/bench/drf-constant/", connections_=c, seconds=plan.seconds
                    ),
                    "pgbench": partial(pgbench, script, clients=c, seconds=plan.seconds),
                },
                plan.rounds,
            )
            purge("notifications")  # nobody consumes here: only the cost of publishing is measured
            report.raw[f"order_create_c{c}"] = medians
            for label, figure, unit, reference, name, target in ORDER_CREATE_ROWS:
                report.add(
                    Row(
                        f"POST /orders/ {label}, {c} clients",
                        medians["ours"][figure],
                        medians[reference][figure],
                        unit,
                        name,
                        target,
                    ),
                    TARGETS.get(target),
                )
        busiest = f"order_create_c{plan.concurrencies[-1]}"
        for part, label in (("web", "web server"), ("broker", "RabbitMQ"), ("database", "PostgreSQL")):
            report.add(
                Row(
                    f"CPU per order ({label}), {plan.concurrencies[-1]} clients",
                    report.raw[busiest]["ours"][f"{part}_cpu_ms"],
                    report.raw[busiest]["no_publish"][f"{part}_cpu_ms"],
                    "ms",
                    "same endpoint, publishing off",
                )
            )
    script.unlink()


def capture_order_request(shop: Shop) -> tuple[list[str], dict[str, int]]:
    """The SQL of one POST /orders/, in order, and the first id each table gave out in it.

    Sequences are moved to distinctive numbers first, so that the script can find every
    later use of a created row's id.
    """
    first_ids = {}
    with connection.cursor() as cursor:
        for table, start in CAPTURE_IDS.items():
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f'GREATEST(%s, (SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}")), false)',
                [table, start],
            )
            first_ids[table] = cursor.fetchone()[0]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {shop.token}")
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/orders/", shop.order_body(), content_type="application/json")
    assert response.status_code == 201, response.content
    return [query["sql"] for query in captured.captured_queries], first_ids


def asynchronous_vs_inline(report: Report, plan: Plan, shop: Shop) -> None:
    """3. POST /orders/ answering at once vs sending the e-mails and Telegram messages inside the request."""
    print("3. asynchronous notifications vs sent inline", flush=True)
    with (
        servers.smtp_server(delay=SLOW_PROVIDER_SECONDS, keep=False) as (_, smtp_port),
        servers.telegram_server(reply_delay=SLOW_PROVIDER_SECONDS) as bot,
    ):
        providers = {
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "TELEGRAM_BOT_TOKEN": "1:bench",
            "TELEGRAM_API_BASE_URL": bot.base_url,
            # Telegram's per-chat pace would make the inline variant wait, or fail, for slots.
            "TELEGRAM_CHAT_INTERVAL_SECONDS": "0",
            "TELEGRAM_MAX_MESSAGES_PER_SECOND": "100000",
        }
        ours = web_server(**providers)
        inline = web_server(TASK_PUBLISHING="off", **providers)
        with running(ours, inline, worker("notifications", **providers)):
            post = {"method": "POST", "body": shop.order_body(), "token": shop.token}
            medians = alternate(
                {
                    "ours": lambda: wrk(
                        f"{ours.url}/api/v1/orders/", connections_=1, seconds=plan.seconds, **post
                    ),
                    "inline": lambda: wrk(
                        f"{inline.url}/bench/orders-sending-inline/",
                        connections_=1,
                        seconds=max(plan.seconds, 3),
                        **post,
                    ),
                },
                plan.rounds,
            )
        purge("notifications")
    report.raw["async_vs_inline"] = medians
    report.add(
        Row(
            "POST /orders/ p50, notifications by workers",
            medians["ours"]["p50_ms"],
            medians["inline"]["p50_ms"],
            "ms",
            f"sent inside the request ({SLOW_PROVIDER_SECONDS * 1000:.0f} ms providers)",
            "≤ 0.10",
        ),
        lambda r: r <= 0.10,
    )


def commit_to_start(report: Report, plan: Plan, shop: Shop) -> None:
    """4. From the commit of an enqueue to the start of the task, vs raw pika publish -> consume.

    Also measured: the same probe on a worker that stores no task state (no STARTED, no
    result), which is Celery's own floor on this machine.
    """
    print("4. commit -> task start", flush=True)
    ours = probe_latencies(plan.probes)
    bare = probe_latencies(plan.probes, CELERY_TASK_TRACK_STARTED="false", CELERY_TASK_IGNORE_RESULT="true")
    raw = raw_pika_latencies(plan.probes)
    report.raw["commit_to_start_ms"] = {
        "ours": [s * 1000 for s in ours],
        "celery_storing_nothing": [s * 1000 for s in bare],
        "pika": [s * 1000 for s in raw],
    }
    pika_p50 = percentile(raw, 50) * 1000
    reference = "raw pika publish -> consume p50"
    report.add(
        Row("commit -> task start p50", percentile(ours, 50) * 1000, pika_p50, "ms", reference, "≤ 2"),
        lambda r: r <= 2,
    )
    report.add(
        Row("commit -> task start p99", percentile(ours, 99) * 1000, pika_p50, "ms", reference, "≤ 10"),
        lambda r: r <= 10,
    )
    report.add(
        Row(
            "commit -> task start p50, worker storing no task state",
            percentile(bare, 50) * 1000,
            pika_p50,
            "ms",
            reference,
        )
    )


def probe_latencies(count: int, **worker_env: str) -> list[float]:
    """Enqueue a probe in a transaction, one at a time; each reports when it started.

    Timed from the end of the commit, as the raw pika reference is timed from the publish."""
    latencies = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as inbox, running(worker("default", **worker_env)):
        inbox.bind(("127.0.0.1", 0))
        inbox.settimeout(10)
        port = inbox.getsockname()[1]
        for _ in range(count):
            with transaction.atomic():
                enqueue("bench.tasks.probe", kwargs={"port": port})
            committed_at = time.time()  # the publisher thread already has the message
            latencies.append(float(inbox.recv(64)) - committed_at)
            time.sleep(0.05)  # let the task finish and acknowledge: the next probe finds the worker idle
    return latencies


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
        with running(worker("payments", **env), worker("notifications", **env)):
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
    with running(web, celery):
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
    report.add(Row("gunicorn worker RSS", web_rss / 1024, bare / 1024, "MiB", "bare django.setup()"))
    for name, rss in (("Celery worker main process RSS", worker_main), ("Celery pool process RSS", pool)):
        report.add(
            Row(name, rss / 1024, bare / 1024, "MiB", "bare django.setup()", "≤ 1.5"), lambda r: r <= 1.5
        )


MEASUREMENTS = (
    bare_request_cost,
    order_create_throughput,
    asynchronous_vs_inline,
    commit_to_start,
    worker_throughput,
    callback_latency,
    memory,
)


# --- The report ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    def version(*argv: str) -> str:
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
            return (result.stdout or result.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "not found"

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "celery": celery.__version__,
        "postgresql": postgres,
        "rabbitmq": version("rabbitmqctl", "version"),
        "wrk": version("wrk", "--version"),
        "pgbench": version("pgbench", "--version"),
        "gunicorn": "2 workers x 4 threads (gthread) on CPU 0; wrk on CPU 1, with PostgreSQL and RabbitMQ "
        "while the web server is measured",
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def write(report: Report, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(
        json.dumps(
            {**asdict(report), "rows": [{**asdict(r), "ratio": r.ratio} for r in report.rows]}, indent=2
        )
    )
    m, plan = report.machine, report.plan
    lines = [
        "# Benchmark report",
        "",
        f"Run with `make bench` on {m['when']}. Machine: {m['cpus']} CPUs ({m['cpu_model']}), "
        f"{m['memory_gib']} GiB; Python {m['python']}, Django {m['django']}, Celery {m['celery']}, "
        f"PostgreSQL {m['postgresql']}, RabbitMQ {m['rabbitmq']}, {m['wrk']}; gunicorn {m['gunicorn']}.",
        "",
        f"Each figure is the median of {plan['rounds']} rounds of {plan['seconds']} s, the variants "
        "alternated (A, B, A, B) in the same invocation. Ratio = ours / reference; targets apply to it.",
        "",
        "| metric | ours | reference | ratio | target | pass |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in report.rows:
        verdict = {True: "pass", False: "**fail**", None: ""}[row.passed]
        cells = (
            row.metric,
            f"{row.ours:.2f} {row.unit}",
            f"{row.reference:.2f} {row.unit} ({row.reference_name})",
            f"{row.ratio:.2f}",
            row.target,
            verdict,
        )
        lines.append("| " + " | ".join(cells) + " |")
    (out / "REPORT.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--smoke", action="store_true", help="a few seconds: check the harness, measure nothing"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench", help="where REPORT.md and results.json go"
    )
    args = parser.parse_args()
    plan = SMOKE if args.smoke else FULL
    started = time.monotonic()
    fresh_database()
    fresh_vhost()
    shop = open_shop()
    report = Report(machine=machine(), plan=asdict(plan))
    for measure in MEASUREMENTS:
        measure(report, plan, shop)
    write(report, args.out)
    print(f"wrote {args.out / 'REPORT.md'} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
