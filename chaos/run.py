"""`make chaos`: the whole stack under a workload and random combined faults, then an audit.

Starts, on a database and a RabbitMQ vhost of its own (chaos/settings.py): two web
processes, a Celery worker for every queue (two for notifications), two outbox relays,
beat, local SMTP and Telegram Bot API servers, and TCP proxies in front of PostgreSQL and
RabbitMQ. Customers, the payment provider and staff use the API while the nemesis
injects the seed's faults; then every fault is healed, the system drains, everything
stops and the audit holds the database and the servers' logs to what the clients were
told. Writes REPORT.md and results.json; exits 1 if an invariant is broken.

    python -m chaos.run                         # CHAOS_SECONDS (180) of workload
    python -m chaos.run --seconds 600 --seed 7  # a run reproducible from its seed
    python -m chaos.run --smoke                 # under two minutes: the harness works
"""

import argparse
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ["DJANGO_SETTINGS_MODULE"] = "chaos.settings"

import django

django.setup()

# isort: split

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_celery_beat.models import IntervalSchedule, PeriodicTask  # noqa: E402

from accounts.models import User  # noqa: E402
from chaos import nemesis  # noqa: E402
from chaos.audit import audit, queue_depths  # noqa: E402
from chaos.report import Run, write  # noqa: E402
from chaos.stack import Stack  # noqa: E402
from chaos.workload import Customer, Provider, Staff, World  # noqa: E402
from messaging.models import OutboxMessage  # noqa: E402
from notifications.models import Notification, NotificationStatus  # noqa: E402
from orders.models import CallbackState, PaymentCallback, Product, Seller  # noqa: E402
from reports.models import DailyReport, ReportStatus  # noqa: E402
from services.accounts import customer_profile_update  # noqa: E402
from testing import servers  # noqa: E402
from testing.fresh import fresh_database, fresh_vhost  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = 12
CUSTOMER_THREADS = 4
SCARCE_PRODUCTS, SCARCE_STOCK = 2, 40  # they run out now and then: orders refused, cancels refill
EXPIRY_CHECK_SECONDS = 10  # expire-unpaid-orders, every 5 minutes in production


def populate(urls: list[str]) -> tuple[World, dict[int, int]]:
    sellers = [
        Seller.objects.create(name=f"Seller {n}", email=f"seller{n}@chaos.example", telegram_chat_id=chat)
        for n, chat in enumerate(("-200", "-201", ""))
    ]
    products = Product.objects.bulk_create(
        Product(
            seller=sellers[n % len(sellers)],
            name=f"Chaos product {n}",
            sku=f"CHAOS-{n}",
            price=f"{5 + n}.50",
            stock=SCARCE_STOCK if n < SCARCE_PRODUCTS else 100_000,
        )
        for n in range(12)
    )
    customers = []
    for n in range(CUSTOMERS):
        customer = User.objects.create_user(email=f"customer{n}@chaos.example", password="chaos-password-123")
        if n % 2 == 0:
            customer_profile_update(user=customer, telegram_chat_id=str(1000 + n))
        customers.append(User.objects.select_related("customer_profile").get(pk=customer.pk))
    staff = User.objects.create_user(
        email="staff@chaos.example", password="chaos-password-123", is_staff=True
    )
    every, _ = IntervalSchedule.objects.get_or_create(every=EXPIRY_CHECK_SECONDS, period="seconds")
    PeriodicTask.objects.filter(name="expire-unpaid-orders").update(interval=every, expire_seconds=None)
    world = World(customers, staff, [p.pk for p in products], urls)
    return world, {p.pk: p.stock for p in products}


class StockWatch:
    """The lowest stock of any product, sampled every second over the run."""

    def __init__(self) -> None:
        self.lowest = min(Product.objects.values_list("stock", flat=True))

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(1.0):
            self.lowest = min(self.lowest, *Product.objects.values_list("stock", flat=True))


def settled() -> dict[str, int]:
    """What is still on its way; all zero once the run has drained."""
    return {
        "unpublished outbox messages": OutboxMessage.objects.filter(published_at=None).count(),
        "pending notifications": Notification.objects.filter(status=NotificationStatus.PENDING).count(),
        "unprocessed callbacks": PaymentCallback.objects.filter(state=CallbackState.RECEIVED).count(),
        "reports being generated": DailyReport.objects.filter(status=ReportStatus.PENDING).count(),
        **{f"messages in {name}": depth for name, depth in queue_depths().items()},
    }


def thread(target: Callable[..., object], *args: object) -> threading.Thread:
    def run() -> None:
        try:
            target(*args)
        finally:
            connection.close()

    started = threading.Thread(target=run, daemon=True)
    started.start()
    return started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("CHAOS_SECONDS", 180)))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", 0)) or None)
    parser.add_argument("--smoke", action="store_true", help="30 s, every kind of fault, short ones")
    parser.add_argument("--drain-seconds", type=float, help="longest wait to drain (300 s, smoke 90 s)")
    parser.add_argument("--out", type=Path, default=ROOT / "chaos")
    args = parser.parse_args()
    seed = args.seed or random.SystemRandom().randrange(1, 10**6)
    seconds = nemesis.SMOKE_SECONDS if args.smoke else args.seconds
    drain_seconds = args.drain_seconds or (90.0 if args.smoke else 300.0)
    rng = random.Random(seed)
    print(f"chaos run: seed {seed}, {seconds:.0f} s of workload", flush=True)

    began = time.monotonic()
    phases: dict[str, float] = {}
    fresh_database()
    fresh_vhost()
    stack = Stack.build()
    processes = {name: service.kind for name, service in stack.services.items()}
    pace = nemesis.SMOKE_PACE if args.smoke else nemesis.FULL_PACE
    fault_plan = nemesis.plan(seed=seed, seconds=seconds, processes=processes, pace=pace)
    world, initial_stock = populate(stack.web_urls)
    stack.start()
    phases["set-up"] = time.monotonic() - began
    try:
        stop_workload, stop_provider = threading.Event(), threading.Event()
        provider = Provider(world, random.Random(rng.random()))
        customers = [
            Customer(world, provider, world.customers[n::CUSTOMER_THREADS], random.Random(rng.random()))
            for n in range(CUSTOMER_THREADS)
        ]
        staff = Staff(world, random.Random(rng.random()), report_times=(seconds * 0.3, seconds * 0.7))
        watch = StockWatch()
        started = time.monotonic()
        chaos = nemesis.Nemesis(stack, fault_plan)
        threads = [thread(c.run, stop_workload) for c in customers]
        threads.append(thread(staff.run, stop_workload, started))
        faults = thread(chaos.run, started, stop_workload)
        delivering = thread(provider.run, stop_provider)
        watching = thread(watch.run, stop_provider)
        time.sleep(seconds)
        stop_workload.set()
        faults.join()
        chaos.heal_all()
        for worker in threads:
            worker.join()
        phases["workload"] = time.monotonic() - started
        provider.flush = True
        stop_provider.set()
        delivering.join()
        watching.join()
        phases["provider's last callbacks"] = time.monotonic() - started - phases["workload"]
        stack.services["beat"].process.stop()  # nothing new from the schedule while draining
        drain_started = time.monotonic()
        servers.wait_until(lambda: not any(settled().values()), drain_seconds, interval=1.0)
        phases["drain"] = time.monotonic() - drain_started
        left = {what: n for what, n in settled().items() if n}
    finally:
        stopping = time.monotonic()
        stack.stop()
        phases["stop"] = time.monotonic() - stopping
    result = audit(
        record=world.record,
        plan=fault_plan,
        sink=stack.smtp.sink,
        telegram=stack.telegram,
        initial_stock=initial_stock,
        lowest_stock=watch.lowest,
    )
    result.check(
        "the system drained", f"in {phases['drain']:.0f} s", [f"{what}: {n}" for what, n in left.items()]
    )
    run = Run(seed, seconds, args.smoke, fault_plan, result, phases, timezone.now())
    write(args.out, run, dict(stack.logs()))
    print(
        f"wrote {args.out / 'REPORT.md'}: {'every invariant holds' if result.holds else 'INVARIANTS BROKEN'}"
    )
    return 0 if result.holds else 1


if __name__ == "__main__":
    raise SystemExit(main())
