"""The bench's own world: Django on the bench settings, a fresh database and vhost, a shop to
sell from, and the processes it measures."""

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django

django.setup()

# isort: split

from django.core.management import call_command  # noqa: E402

from accounts.models import User  # noqa: E402
from orders.models import Product, Seller  # noqa: E402
from services.accounts import customer_profile_update  # noqa: E402
from testing import fresh, servers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "GUNICORN_ACCESSLOG": "",
    "GUNICORN_MAX_REQUESTS": "0",
}
WEB_CPU, CLIENT_CPU = "0", "1"
WEB_WORKERS = 2 * (os.cpu_count() or 1) + 1  # gunicorn.conf.py's default: production's
SLOW_PROVIDER_SECONDS = 0.2
ORDERS = "/api/v1/orders/"


# --- Set-up ------------------------------------------------------------------------------------


def fresh_database() -> None:
    fresh.fresh_database()
    call_command("collectstatic", interactive=False, verbosity=0)  # as a production deploy does


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
    customer_profile_update(user=customer, telegram_chat_id="100")
    return Shop(customer, products, bearer(customer).removeprefix("Bearer "))


# --- Processes ------------------------------------------------------------------------------------


def web_server(wsgi_app: str = "pro_platform.wsgi:application", **env: str) -> servers.WebServer:
    """gunicorn as gunicorn.conf.py runs it in production: sync workers, 2 x CPUs + 1."""
    server = servers.WebServer(
        wsgi_app=wsgi_app, workers=WEB_WORKERS, threads=1, extra_env={**BENCH_ENV, **env}
    )
    server.argv = ["taskset", "-c", WEB_CPU, *server.argv]
    return server


def worker(queues: str, **env: str) -> servers.WorkerProcess:
    """One worker process; without the tests' relay beside it (the harness starts `relay()`)."""
    return servers.WorkerProcess(queues, concurrency=1, relay=False, extra_env={**BENCH_ENV, **env})


def relay(**env: str) -> servers.RelayProcess:
    """`manage.py outbox_relay` as deployed, on the load generator's CPU: never the web server's."""
    process = servers.RelayProcess(extra_env={**BENCH_ENV, **env})
    process.argv = ["taskset", "-c", CLIENT_CPU, sys.executable, "manage.py", "outbox_relay"]
    return process


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
