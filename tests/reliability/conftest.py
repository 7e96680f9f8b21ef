"""The fault-injection suite's shared parts: the shop it sells from, the load, and the oracle.

The oracle: every order the API acknowledged (201) has all of its side effects,
each exactly once. For e-mail that is one accepted message per notification,
counted by its Message-ID at a real SMTP server.
"""

import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from accounts.models import User
from notifications.channels import message_id
from notifications.models import Channel, Notification
from orders.models import Product
from services.notifications.delivery import render
from testing import servers
from testing.auth import bearer
from tests.factories import ProductFactory, SellerFactory, UserFactory


@dataclass(frozen=True)
class Shop:
    customer: User
    products: tuple[Product, Product]

    @property
    def authorization(self) -> str:
        return bearer(self.customer)

    def order_body(self) -> dict:
        return {"items": [{"product_id": p.pk, "quantity": 1} for p in self.products]}


@pytest.fixture
def shop(db: None) -> Shop:
    """A customer and two products of one seller: an order e-mails the customer and the seller."""
    seller = SellerFactory.create()
    stock = 10_000
    return Shop(
        customer=UserFactory.create(),
        products=(
            ProductFactory.create(seller=seller, stock=stock),
            ProductFactory.create(seller=seller, stock=stock),
        ),
    )


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict
    seconds: float
    idempotency_key: str


def post_order(client: httpx.Client, shop: Shop, idempotency_key: str) -> Reply:
    headers = {"Authorization": shop.authorization, "Idempotency-Key": idempotency_key}
    started = time.monotonic()
    try:
        response = client.post("/api/v1/orders/", json=shop.order_body(), headers=headers)
    except httpx.HTTPError as exc:  # the server died mid-request: no answer at all
        return Reply(0, {"error": repr(exc)}, time.monotonic() - started, idempotency_key)
    return Reply(response.status_code, response.json(), time.monotonic() - started, idempotency_key)


def place_orders(
    base_url: str,
    shop: Shop,
    count: int,
    *,
    clients: int = 8,
    spread: float = 0.0,
    keys: list[str] | None = None,
) -> list[Reply]:
    """POST `count` orders from `clients` concurrent clients, spread evenly over `spread` seconds.

    Each order has its own Idempotency-Key (`keys`, or new ones), as a careful client sends.
    """
    keys = keys or [str(uuid.uuid4()) for _ in range(count)]
    start = time.monotonic()

    def place(index: int, client: httpx.Client) -> Reply:
        time.sleep(max(0.0, start + spread * index / count - time.monotonic()))
        return post_order(client, shop, keys[index])

    client = httpx.Client(base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=clients))
    with client, ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda i: place(i, client), range(count)))


def acknowledged(replies: Iterable[Reply]) -> list[int]:
    return [reply.body["id"] for reply in replies if reply.status == 201]


def expected_emails(order_ids: Iterable[int]) -> set[str]:
    """The Message-ID of every e-mail these orders call for."""
    notifications = Notification.objects.filter(order_id__in=list(order_ids), channel=Channel.EMAIL)
    return {message_id(render(notification=n).key) for n in notifications}


@dataclass(frozen=True)
class Deliveries:
    expected: set[str]
    accepted: Counter[str]
    seconds: float

    @property
    def missing(self) -> set[str]:
        return self.expected - set(self.accepted)

    @property
    def duplicated(self) -> dict[str, int]:
        return {key: n for key, n in self.accepted.items() if key in self.expected and n > 1}

    @property
    def copies(self) -> int:
        """Accepted messages beyond the first of each."""
        return sum(n - 1 for n in self.duplicated.values())


def await_deliveries(sink: servers.SmtpSink, expected: set[str], timeout: float = 120.0) -> Deliveries:
    """Wait until every expected e-mail was accepted (or `timeout`), then a little more for copies."""
    started = time.monotonic()
    servers.wait_until(lambda: expected <= set(sink.message_ids()), timeout)
    seconds = time.monotonic() - started
    time.sleep(1.0)  # a duplicate would arrive right behind its original
    return Deliveries(expected, sink.message_ids(), seconds)


def latency_figures(replies: list[Reply]) -> str:
    ms = sorted(reply.seconds * 1000 for reply in replies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms"
