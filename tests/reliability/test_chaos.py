"""The chaos run (chaos/): its audit finds what it is there to find, and a short run of the
whole harness (every kind of fault, the audit) passes. `make chaos` runs it for minutes."""

import json
import os
import subprocess
import sys
from email.message import Message

import pytest

from chaos.audit import Audit, audit
from chaos.nemesis import FAULT_KINDS, Fault, Plan
from chaos.workload import OrderRecord, Record
from notifications.channels import message_id
from notifications.models import Audience, Notification
from orders.models import IdempotencyRecord, Product
from services.notifications.delivery import render
from services.orders import OrderLine, order_create
from testing import servers

SMOKE_SECONDS = 240  # the run takes about 90 s


def broken(result: Audit) -> dict[str, list[str]]:
    return {invariant.name: invariant.broken for invariant in result.invariants if not invariant.holds}


def delivered(*notifications: Notification) -> servers.SmtpSink:
    sink = servers.SmtpSink()
    for notification in notifications:
        message = Message()
        message["Message-ID"] = message_id(render(notification=notification).key)
        sink.accepted.append(servers.ReceivedMail("shop@example.com", [notification.recipient], message))
    return sink


@pytest.mark.django_db
def test_the_audit_finds_a_lost_order_a_missing_and_a_duplicated_email(shop, empty_queues):
    stock = dict(Product.objects.values_list("pk", "stock"))
    order = order_create(customer=shop.customer, items=[OrderLine(p.pk, 1) for p in shop.products])
    IdempotencyRecord.objects.create(
        user=shop.customer,
        key="placed",
        operation="POST /api/v1/orders/",
        fingerprint="-",
        status=201,
        body={"id": order.pk},
    )
    lines = {p.pk: 1 for p in shop.products}
    record = Record(
        orders=[
            OrderRecord("placed", shop.customer.pk, "orders", lines, "acknowledged", order.pk),
            OrderRecord("lost", shop.customer.pk, "orders", lines, "acknowledged", 999_999),
        ]
    )
    to_customer = Notification.objects.get(order=order, audience=Audience.CUSTOMER)
    to_seller = Notification.objects.get(order=order, audience=Audience.SELLER)

    sink = delivered(to_customer, to_customer)
    # The same copy, once with no fault about and once while the worker was being killed.
    killed = Fault(1, "sigkill", "worker-notifications-1", at=0.0, duration=1.0, started=0.0, healed=1.0)
    with_kill = Plan(seed=1, seconds=1.0, faults=[killed], started=sink.accepted[0].at - 0.5)
    with servers.telegram_server() as telegram:
        result, during_kill = (
            audit(
                record=record,
                plan=plan,
                sink=sink,
                telegram=telegram,
                initial_stock=stock,
                lowest_stock=min(stock.values()) - 2,
            )
            for plan in (Plan(seed=1, seconds=1.0), with_kill)
        )

    found = broken(result)
    assert found["every acknowledged order exists"] == ["order 999999 (key lost)"]
    assert found["every notification was delivered"] == [
        f"notification {to_seller.pk} (order_created, email to {to_seller.recipient})"
    ]
    assert found["no notification delivered twice outside the documented window"] == [
        f"notification {to_customer.pk} (order_created, email) delivered 2 times"
    ]
    assert found["the outbox ends empty"] == ["2 unpublished"]
    assert len(found["every notification was sent"]) == 2  # both still pending
    # What is right is not reported: the order, its items, stock and notification rows.
    assert set(found) == {
        "every acknowledged order exists",
        "every notification was delivered",
        "no notification delivered twice outside the documented window",
        "the outbox ends empty",
        "every notification was sent",
    }
    assert result.counts["orders_in_database"] == 1
    assert "no notification delivered twice outside the documented window" not in broken(during_kill)
    assert during_kill.window_duplicates == [
        f"notification {to_customer.pk} (order_created, email) delivered 2 times, "
        "the first during fault 1 (sigkill worker-notifications-1)"
    ]


@pytest.mark.timeout(SMOKE_SECONDS + 30)
def test_a_short_chaos_run_with_every_kind_of_fault_keeps_every_invariant(tmp_path, report):
    env = {
        key: value
        for key, value in os.environ.items()
        # The suite's settings export these; the chaos run has its own.
        if key
        not in ("DATABASE_URL", "CELERY_BROKER_URL", "DATABASE_CONN_MAX_AGE", "PROMETHEUS_MULTIPROC_DIR")
    }
    run = subprocess.run(
        [sys.executable, "-m", "chaos.run", "--smoke", "--seed", "1", "--out", str(tmp_path)],
        cwd=servers.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SMOKE_SECONDS,
        check=False,
    )
    assert (tmp_path / "REPORT.md").exists(), run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    broken_invariants = {i["name"]: i["broken"][:5] for i in results["invariants"] if i["broken"]}

    assert run.returncode == 0, broken_invariants
    assert results["holds"] is True
    assert broken_invariants == {}
    assert {fault["kind"] for fault in results["faults"]} == set(FAULT_KINDS)
    assert all(fault["healed"] is not None for fault in results["faults"])
    counts = results["counts"]
    assert counts["orders_acknowledged"] >= 20
    assert counts["callbacks_applied"] >= 5
    assert counts["dead_letters"] == counts["poison_messages"] > 0
    report(
        "chaos smoke, seed 1",
        faults=f"{len(results['faults'])} of {len(FAULT_KINDS)} kinds",
        orders=f"{counts['orders_acknowledged']} acknowledged of {counts['orders_attempted']}",
        notifications=f"{counts['notifications']} each delivered once",
        invariants=f"{len(results['invariants'])} hold",
    )
