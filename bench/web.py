"""Measurements of the web process: bare requests, order creation, notifications in or out of the request."""

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench import setup  # noqa: F401  (first: Django set up with the bench settings)

# isort: split
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.load import pgbench, unrelayed, web_cpu_to_itself, with_cpu, wrk
from bench.references import CAPTURE_IDS, pgbench_script
from bench.report import Plan, Report, Row, alternate
from bench.setup import (
    FIRST_PRODUCT_ID,
    HALF,
    ORDERS,
    SLOW_PROVIDER_SECONDS,
    Shop,
    purge,
    relay,
    running,
    web_server,
    worker,
)
from testing import servers

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
                f"bare_request.drf_vs_{reference}.rps",
                f"DRF constant endpoint, {c} clients",
                medians["drf"]["rps"],
                medians[reference]["rps"],
                "req/s",
                name,
            )
        )


# Rows of section 2, per concurrency: (key, label, figure, unit, reference variant, its name, target).
ORDER_CREATE_ROWS = (
    (
        "vs_publishing_off.rps",
        "req/s",
        "rps",
        "req/s",
        "no_publish",
        "same endpoint, publishing off",
        "≥ 0.92",
    ),
    ("vs_bare_drf.rps", "req/s", "rps", "req/s", "drf", "bare DRF endpoint", ""),
    ("vs_pgbench.rps", "req/s", "rps", "req/s", "pgbench", "pgbench, the same SQL", "≥ 0.40"),
    ("vs_pgbench.p50", "p50", "p50_ms", "ms", "pgbench", "pgbench, the same SQL", ""),
    ("vs_pgbench.p99", "p99", "p99_ms", "ms", "pgbench", "pgbench, the same SQL", ""),
)
TARGETS: dict[str, Callable[[float], bool]] = {
    "≥ 0.92": lambda r: r >= 0.92,
    "≥ 0.40": lambda r: r >= 0.40,
}
# The pgbench target is set for 1 and 8 clients: at 32, pgbench's own clients share its CPU.
PGBENCH_TARGET_CLIENTS = (1, 8)


def order_create_throughput(report: Report, plan: Plan, shop: Shop) -> None:
    """2. POST /orders/ with publishing vs without, vs the bare DRF endpoint, vs pgbench's floor.

    With publishing on, an outbox relay publishes what the orders commit, on the load
    generator's CPU with PostgreSQL and RabbitMQ: the web server's CPU is the request's alone.
    """
    print("2. order creation", flush=True)
    script = Path(tempfile.mkstemp(suffix=".sql")[1])
    script.write_text(
        pgbench_script(
            *capture_order_request(shop), products=(FIRST_PRODUCT_ID, FIRST_PRODUCT_ID + HALF, HALF)
        )
    )
    publishing, silent, relayed = web_server(), web_server(TASK_PUBLISHING="off"), relay()
    with running(publishing, silent, relayed), web_cpu_to_itself():
        post = partial(wrk, method="POST", body=shop.order_body(), token=shop.token, seconds=plan.seconds)
        for c in plan.concurrencies:
            medians = alternate(
                {
                    "ours": partial(
                        with_cpu, publishing, partial(post, publishing.url + ORDERS, connections_=c), relayed
                    ),
                    "no_publish": partial(
                        with_cpu, silent, partial(post, silent.url + ORDERS, connections_=c), relayed
                    ),
                    "drf": partial(
                        wrk, f"{publishing.url}/bench/drf-constant/", connections_=c, seconds=plan.seconds
                    ),
                    "pgbench": partial(
                        unrelayed, relayed, partial(pgbench, script, clients=c, seconds=plan.seconds)
                    ),
                },
                plan.rounds,
            )
            purge("notifications")  # nobody consumes here: only the cost of publishing is measured
            report.raw[f"order_create_c{c}"] = medians
            for key, label, figure, unit, reference, name, target in ORDER_CREATE_ROWS:
                if reference == "pgbench" and c not in PGBENCH_TARGET_CLIENTS:
                    target = ""
                report.add(
                    Row(
                        f"order_create.c{c}.{key}",
                        f"POST /orders/ {label}, {c} clients",
                        medians["ours"][figure],
                        medians[reference][figure],
                        unit,
                        name,
                        target,
                    ),
                    TARGETS.get(target),
                )
        busiest = report.raw[f"order_create_c{plan.concurrencies[-1]}"]
        clients = f"{plan.concurrencies[-1]} clients"
        for part, label in CPU_PARTS:
            report.add(
                Row(
                    f"order_create.cpu_ms.{part}",
                    f"CPU per order ({label}), {clients}",
                    busiest["ours"][f"{part}_cpu_ms"],
                    busiest["no_publish"][f"{part}_cpu_ms"],
                    "ms",
                    "same endpoint, publishing off",
                )
            )
        report.add(
            Row(
                "order_create.cpu_ms.web_vs_database",
                f"CPU per order, web server vs PostgreSQL, {clients}",
                busiest["ours"]["web_cpu_ms"],
                busiest["ours"]["database_cpu_ms"],
                "ms",
                "PostgreSQL's CPU per order",
                "≤ 1.5",
            ),
            lambda r: r <= 1.5,
        )
    script.unlink()


CPU_PARTS = (
    ("web", "web server"),
    ("relay", "outbox relay"),
    ("broker", "RabbitMQ"),
    ("database", "PostgreSQL"),
)


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
        with running(ours, inline, relay(), worker("notifications", **providers)):
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
            "order_create.p50.vs_sending_inline",
            "POST /orders/ p50, notifications by workers",
            medians["ours"]["p50_ms"],
            medians["inline"]["p50_ms"],
            "ms",
            f"sent inside the request ({SLOW_PROVIDER_SECONDS * 1000:.0f} ms providers)",
            "≤ 0.10",
        ),
        lambda r: r <= 0.10,
    )
