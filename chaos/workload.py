"""The workload: customers, the payment provider and staff using the API, and the client's
own record of every answer (what the audit holds the database to).

Clients act as careful ones do: an order carries an Idempotency-Key and is sent again with
the same key after no answer, a timeout or a 5xx, on either web process; the provider
retries a callback until it gets a 2xx. Each actor draws its choices from a random
generator seeded from the run's seed.
"""

import heapq
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings

from accounts.models import User
from services.webhooks import sign
from testing.auth import bearer

RETRYABLE = {0, 500, 502, 503, 504}  # 0: no answer (refused, reset, timed out)
CLIENT_TIMEOUT_SECONDS = 10.0
ORDER_ATTEMPTS = 8
TOKEN_SECONDS = 300.0  # access tokens are minted again this often (they live 15 minutes)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    statuses: tuple[int, ...]  # every attempt's, 0 for no answer

    @property
    def code(self) -> str:
        try:
            return str(self.body["errors"][0]["code"])
        except (KeyError, IndexError, TypeError):
            return ""


@dataclass
class OrderRecord:
    key: str
    customer_id: int
    via: str  # "orders" or "checkout"
    lines: dict[int, int]  # product id -> quantity, as asked (checkout: the cart's lines)
    outcome: str = "unknown"  # acknowledged, rejected, unknown (no final answer)
    order_id: int | None = None
    code: str = ""
    statuses: tuple[int, ...] = ()
    payment: dict[str, str] = field(default_factory=dict)


@dataclass
class Record:
    """Everything the clients were told, appended from many threads."""

    orders: list[OrderRecord] = field(default_factory=list)
    replays: list[tuple[int, int | None, int]] = field(default_factory=list)  # order, replayed id, status
    cancels: list[tuple[int, Answer]] = field(default_factory=list)
    transitions: list[tuple[int, str, Answer]] = field(default_factory=list)  # order, ship/deliver
    callbacks: list[tuple[str, int, str, Answer]] = field(default_factory=list)  # event, order, status
    reports: list[Answer] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # answers no correct server gives
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, item: object) -> None:
        with self.lock:
            getattr(self, name).append(item)


class Api:
    """JSON calls against the web processes, retried on another process while it makes sense."""

    def __init__(self, urls: list[str], rng: random.Random) -> None:
        self.urls = urls
        self.rng = rng
        self.client = httpx.Client(timeout=CLIENT_TIMEOUT_SECONDS)
        self._tokens: dict[int, tuple[float, str]] = {}

    def authorization(self, user: User) -> str:
        minted, token = self._tokens.get(user.pk, (0.0, ""))
        if time.monotonic() - minted > TOKEN_SECONDS:
            token = bearer(user)
            self._tokens[user.pk] = (time.monotonic(), token)
        return token

    def call(
        self,
        method: str,
        path: str,
        *,
        user: User | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        attempts: int = 1,
        until: float | None = None,
    ) -> Answer:
        """Up to `attempts` tries (or until the monotonic `until`), with growing pauses, while
        the answer is none or a 5xx."""
        headers = dict(headers or {})
        if user is not None:
            headers["Authorization"] = self.authorization(user)
        statuses: list[int] = []
        start = self.rng.randrange(len(self.urls))
        attempt = 0
        while True:
            url = self.urls[(start + attempt) % len(self.urls)] + path
            try:
                response = self.client.request(method, url, json=body, content=content, headers=headers)
                status, payload = response.status_code, _json(response)
            except httpx.HTTPError as exc:
                status, payload = 0, {"error": repr(exc)}
            statuses.append(status)
            attempt += 1
            more = attempt < attempts if until is None else time.monotonic() < until
            if status not in RETRYABLE or not more:
                return Answer(status, payload, tuple(statuses))
            time.sleep(min(5.0, 0.25 * 2**attempt) * self.rng.uniform(0.5, 1.0))

    def close(self) -> None:
        self.client.close()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except json.JSONDecodeError:
        return {"not_json": response.text[:200]}


@dataclass
class World:
    """Who and what the workload acts with (made by chaos/run.py's set-up)."""

    customers: list[User]
    staff: User
    products: list[int]
    urls: list[str]
    record: Record = field(default_factory=Record)


class Provider:
    """The payment provider: signed callbacks at their due times, some out of order, some more
    than once, each retried until it gets a 2xx."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.api = Api(world.urls, random.Random(rng.random()))
        self._due: list[tuple[float, int, str, int, bytes]] = []
        self._lock = threading.Condition()
        self._sequence = 0
        self.flush = False  # the workload is over: everything due goes out now

    def plan_for(self, record: OrderRecord, rng: random.Random) -> None:
        """What the provider will report about an acknowledged order (drawn from the customer's rng)."""
        payment = record.payment
        amount = Decimal(payment["amount"])
        roll = rng.random()
        events: list[tuple[str, Decimal, float]] = []  # status, amount, delay
        if roll < 0.55:
            events = [("succeeded", amount, rng.uniform(1, 20))]
        elif roll < 0.65:
            events = [("failed", amount, rng.uniform(1, 20))]
        elif roll < 0.75:  # a failure and then a success, delivered in either order
            events = [("failed", amount, rng.uniform(1, 20)), ("succeeded", amount, rng.uniform(1, 20))]
        elif roll < 0.80:
            events = [("succeeded", amount + 1, rng.uniform(1, 20))]  # the wrong amount: flagged
        elif roll < 0.85:
            events = [("succeeded", amount, rng.uniform(60, 90))]  # after the order expired
        for status, paid, delay in events:
            event = {
                "event_id": f"evt_{uuid.UUID(int=rng.getrandbits(128)).hex}",
                "payment_reference": payment["reference"],
                "status": status,
                "amount": str(paid),
                "currency": payment["currency"],
            }
            if status == "failed":
                event["failure_reason"] = "card_declined"
            body = json.dumps(event).encode()
            for copy in range(rng.choice((1, 1, 2, 3))):
                self._schedule(time.monotonic() + delay + copy * rng.uniform(0, 5), event, record, body)

    def _schedule(self, due: float, event: dict, record: OrderRecord, body: bytes) -> None:
        assert record.order_id is not None
        with self._lock:
            self._sequence += 1
            heapq.heappush(self._due, (due, self._sequence, event["event_id"], record.order_id, body))
            self._lock.notify()

    def run(self, stop: threading.Event) -> None:
        """Send callbacks as they fall due, until `stop` and nothing is left to send."""
        while True:
            with self._lock:
                if not self._due:
                    if stop.is_set():
                        return
                    self._lock.wait(0.2)
                    continue
                due, _, event_id, order_id, body = self._due[0]
                if due > time.monotonic() and not self.flush:
                    self._lock.wait(min(0.2, due - time.monotonic()))
                    continue
                heapq.heappop(self._due)
            self._deliver(event_id, order_id, body)

    def _deliver(self, event_id: str, order_id: int, body: bytes) -> None:
        secret = settings.PAYMENT_WEBHOOK_SECRETS[0]
        headers = {"Content-Type": "application/json", "X-Signature": sign(secret=secret, body=body)}
        answer = self.api.call(
            "POST",
            "/api/v1/payments/callback/",
            content=body,
            headers=headers,
            until=time.monotonic() + 120,
        )
        status = json.loads(body)["status"]
        self.world.record.add("callbacks", (event_id, order_id, status, answer))
        if answer.status not in (200, 202):
            self.world.record.add("unexpected", f"callback {event_id}: {answer.status} {answer.body}")


class Customer:
    """A client app used by a few customers in turn: places orders (sometimes through the cart),
    cancels some, repeats a request now and then."""

    def __init__(self, world: World, provider: Provider, users: list[User], rng: random.Random) -> None:
        self.world, self.provider, self.users, self.rng = world, provider, users, rng
        self.user = users[0]
        self.api = Api(world.urls, random.Random(rng.random()))
        self.acknowledged: list[OrderRecord] = []

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.rng.uniform(0.3, 3.0)):
            self.user = self.rng.choice(self.users)
            roll = self.rng.random()
            if roll < 0.55:
                self.order()
            elif roll < 0.70:
                self.checkout()
            elif roll < 0.80 and self._mine():
                self.cancel()
            elif roll < 0.85 and self._mine():
                self.replay()
            else:
                answer = self.api.call("GET", "/api/v1/orders/", user=self.user, attempts=3)
                self._expect(answer, {200, 0, 503}, "order list")  # the database away: 503
        self.api.close()

    def _lines(self) -> dict[int, int]:
        products = self.rng.sample(self.world.products, self.rng.randint(1, 3))
        return {product: self.rng.randint(1, 3) for product in products}

    def order(self) -> None:
        lines = self._lines()
        body = {"items": [{"product_id": p, "quantity": q} for p, q in lines.items()]}
        self._place(
            OrderRecord(str(uuid.UUID(int=self.rng.getrandbits(128))), self.user.pk, "orders", lines),
            "/api/v1/orders/",
            body,
        )

    def checkout(self) -> None:
        for product, quantity in self._lines().items():
            added = self.api.call(
                "POST",
                "/api/v1/cart/items/",
                user=self.user,
                body={"product_id": product, "quantity": quantity},
            )
            if added.status != 201:
                self._expect(added, {409, 0, 503}, "cart add")  # a full cart, or no answer
        cart = self.api.call("GET", "/api/v1/cart/", user=self.user, attempts=3)
        if cart.status != 200:
            self._expect(cart, {0, 503}, "cart")
            return
        if not cart.body["items"]:
            return
        lines = {item["product_id"]: item["quantity"] for item in cart.body["items"]}
        key = str(uuid.UUID(int=self.rng.getrandbits(128)))
        self._place(OrderRecord(key, self.user.pk, "checkout", lines), "/api/v1/cart/checkout/", None)

    def _place(self, record: OrderRecord, path: str, body: Any) -> None:
        answer = self.api.call(
            "POST",
            path,
            user=self.user,
            body=body,
            headers={"Idempotency-Key": record.key},
            attempts=ORDER_ATTEMPTS,
        )
        record.statuses = answer.statuses
        if answer.status == 201:
            record.outcome, record.order_id = "acknowledged", answer.body["id"]
            record.payment = {k: str(v) for k, v in answer.body["payment"].items()}
            self.acknowledged.append(record)
            self.provider.plan_for(record, self.rng)
        elif 400 <= answer.status < 500:
            record.outcome, record.code = "rejected", answer.code
            self._expect(answer, {409}, "order")  # out of stock, an empty cart
        self.world.record.add("orders", record)

    def _mine(self) -> list[OrderRecord]:
        return [r for r in self.acknowledged if r.customer_id == self.user.pk]

    def cancel(self) -> None:
        record = self.rng.choice(self._mine())
        answer = self.api.call(
            "POST", f"/api/v1/orders/{record.order_id}/cancel/", user=self.user, attempts=4
        )
        self._expect(answer, {200, 409, 0, 503}, "cancel")
        self.world.record.add("cancels", (record.order_id, answer))

    def replay(self) -> None:
        """The same order again with its key, as a client does that lost the first answer."""
        record = self.rng.choice([r for r in self._mine() if r.via == "orders"] or self._mine())
        body = {"items": [{"product_id": p, "quantity": q} for p, q in record.lines.items()]}
        path = "/api/v1/orders/" if record.via == "orders" else "/api/v1/cart/checkout/"
        answer = self.api.call(
            "POST",
            path,
            user=self.user,
            body=body if record.via == "orders" else None,
            headers={"Idempotency-Key": record.key},
            attempts=ORDER_ATTEMPTS,
        )
        replayed = answer.body.get("id") if answer.status == 201 else None
        assert record.order_id is not None
        self.world.record.add("replays", (record.order_id, replayed, answer.status))

    def _expect(self, answer: Answer, statuses: set[int], what: str) -> None:
        if answer.status not in statuses:
            self.world.record.add("unexpected", f"{what}: {answer.status} {str(answer.body)[:300]}")


class Staff:
    """Ships what was paid, delivers what was shipped, asks for the daily report."""

    def __init__(self, world: World, rng: random.Random, report_times: tuple[float, ...]) -> None:
        self.world, self.rng = world, rng
        self.api = Api(world.urls, random.Random(rng.random()))
        self.report_times = list(report_times)
        self._done: set[int] = set()

    def run(self, stop: threading.Event, started: float) -> None:
        shipped: list[tuple[float, int]] = []
        while not stop.wait(self.rng.uniform(0.5, 1.5)):
            if self.report_times and time.monotonic() - started >= self.report_times[0]:
                self.report_times.pop(0)
                answer = self.api.call(
                    "POST",
                    "/api/v1/reports/daily/",
                    user=self.world.staff,
                    body={"date": date.today().isoformat()},
                    attempts=4,
                )
                self.world.record.add("reports", answer)
            paid = self._paid_a_while_ago()
            if paid is not None and self._transition(paid, "ship"):
                shipped.append((time.monotonic() + self.rng.uniform(2, 10), paid))
            if shipped and shipped[0][0] <= time.monotonic():
                self._transition(shipped.pop(0)[1], "deliver")
        self.api.close()

    def _paid_a_while_ago(self) -> int | None:
        with self.world.record.lock:
            candidates = [
                order
                for _, order, status, answer in self.world.record.callbacks
                if status == "succeeded" and answer.status == 202 and order not in self._done
            ]
        if not candidates:
            return None
        order = self.rng.choice(candidates)
        self._done.add(order)
        return order

    def _transition(self, order: int, action: str) -> bool:
        answer = self.api.call("POST", f"/api/v1/orders/{order}/{action}/", user=self.world.staff, attempts=4)
        self.world.record.add("transitions", (order, action, answer))
        if answer.status not in (200, 409, 0, 503):
            self.world.record.add("unexpected", f"{action} {order}: {answer.status} {answer.body}")
        return answer.status == 200
