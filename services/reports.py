"""Daily reports for staff: one day's orders summed up, stored, and e-mailed as CSV.

A day is a calendar day in the platform's time zone (TIME_ZONE). The report covers
the orders placed that day: how many in each status now, the revenue of those paid
for (per currency), the top products, each seller's totals, and payment failures.
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from messaging.outbox import enqueue, new_task_id
from messaging.routing import REQUESTED_REPORT_PRIORITY, Tasks
from notifications.models import Event
from orders.models import CallbackStatus, Order, OrderItem, OrderStatus, PaymentCallback
from reports.models import DailyReport, ReportStatus
from services.exceptions import InvalidRequest
from services.notifications.fanout import staff_email
from services.tasks import task_track

TOP_PRODUCTS = 10
PAID = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
CSV_HEADER = ("section", "name", "currency", "orders", "quantity", "amount")

Progress = Callable[[int, int], None]


class ReportDateInFuture(InvalidRequest):
    code = "date_in_future"
    message = "A report can cover today at the latest."


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Midnight to midnight of `day` in the platform's time zone (23 or 25 hours on DST days)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return start, end


def daily_report_request(*, day: date, requested_by: User) -> DailyReport:
    """Have the report of `day` generated (again) by a worker; return it, pending.

    `requested_by` may follow the task (as may any staff member).
    """
    if day > timezone.localdate():
        raise ReportDateInFuture(field="date")
    with transaction.atomic():
        report = daily_report_prepare(day=day, task_id=new_task_id())
        enqueue(
            Tasks.GENERATE_DAILY_REPORT,
            kwargs={"report_id": report.pk},
            task_id=report.task_id,
            priority=REQUESTED_REPORT_PRIORITY,  # a person is waiting for it
        )
        task_track(task_id=report.task_id, requested_by=requested_by)
    return report


def daily_report_prepare(*, day: date, task_id: str) -> DailyReport:
    """The report row of `day`, pending and owned by `task_id` (a newer request supersedes an older)."""
    report, _ = DailyReport.objects.get_or_create(date=day)
    if report.task_id != task_id:
        report.status, report.task_id = ReportStatus.PENDING, task_id
        report.save(update_fields=["status", "task_id"])
    return report


def daily_report_generate(*, report_id: int, task_id: str, progress: Progress | None = None) -> DailyReport:
    """Compute, store and e-mail a report; a redelivered or superseded task changes nothing."""
    report = DailyReport.objects.get(pk=report_id)
    if report.task_id != task_id or report.status == ReportStatus.READY:
        return report
    start, end = day_bounds(report.date)
    day = Day(start, end, Order.objects.filter(created_at__gte=start, created_at__lt=end))
    steps = len(SECTIONS) + 1
    data: dict[str, Any] = {"date": report.date.isoformat(), "time_zone": settings.TIME_ZONE}
    for done, (name, compute) in enumerate(SECTIONS.items(), start=1):
        data[name] = compute(day)
        if progress:
            progress(done, steps)
    with transaction.atomic():
        report = DailyReport.objects.select_for_update().get(pk=report_id)
        if report.task_id != task_id or report.status == ReportStatus.READY:
            return report
        report.data, report.status, report.generated_at = data, ReportStatus.READY, timezone.now()
        report.save(update_fields=["data", "status", "generated_at"])
        staff_email(
            event=Event.DAILY_REPORT,
            payload={
                "report": {
                    "id": report.pk,
                    "date": data["date"],
                    "time_zone": data["time_zone"],
                    "orders": sum(data["by_status"].values()),
                    "revenue": data["revenue"],
                    "payment_failures": data["payment_failures"]["failed_callbacks"],
                },
                "attachments": [
                    {
                        "filename": f"daily-report-{data['date']}.csv",
                        "content": daily_report_csv(report),
                        "mimetype": "text/csv",
                    }
                ],
            },
        )
    if progress:
        progress(steps, steps)
    return report


def daily_report_fail(*, report_id: int, task_id: str) -> None:
    DailyReport.objects.filter(pk=report_id, task_id=task_id).exclude(status=ReportStatus.READY).update(
        status=ReportStatus.FAILED
    )


# --- The sections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """What a section reports on: the day's bounds and the orders placed within them."""

    start: datetime
    end: datetime
    orders: QuerySet[Order]


def _report_rows(rows: Iterable[dict[str, Any]], **keys: str) -> list[dict[str, Any]]:
    """Query rows as report rows: each report key from its query key; amounts as strings."""
    return [
        {key: str(row[source]) if key == "amount" else row[source] for key, source in keys.items()}
        for row in rows
    ]


def _by_status(day: Day) -> dict[str, int]:
    counts = dict(day.orders.order_by().values_list("status").annotate(n=Count("id")))
    return {status: counts.get(status, 0) for status in OrderStatus.values}


def _revenue(day: Day) -> list[dict[str, Any]]:
    rows = (
        day.orders.filter(status__in=PAID)
        .order_by("currency")
        .values("currency")
        .annotate(orders=Count("id"), amount=Sum("total"))
    )
    return _report_rows(rows, currency="currency", orders="orders", amount="amount")


def _sold_items(orders: QuerySet[Order]) -> QuerySet[OrderItem]:
    return OrderItem.objects.filter(order__in=orders.filter(status__in=PAID)).order_by()


def _top_products(day: Day) -> list[dict[str, Any]]:
    rows = (
        _sold_items(day.orders)
        .values("product_id", "product__sku", "product__name", "order__currency")
        .annotate(units=Sum("quantity"), amount=Sum(F("quantity") * F("unit_price")))
        .order_by("-units", "-amount", "product_id")[:TOP_PRODUCTS]
    )
    return _report_rows(
        rows,
        product_id="product_id",
        sku="product__sku",
        name="product__name",
        currency="order__currency",
        quantity="units",
        amount="amount",
    )


def _sellers(day: Day) -> list[dict[str, Any]]:
    rows = (
        _sold_items(day.orders)
        .values("product__seller_id", "product__seller__name", "order__currency")
        .annotate(
            orders=Count("order_id", distinct=True),
            units=Sum("quantity"),
            amount=Sum(F("quantity") * F("unit_price")),
        )
        .order_by("product__seller__name", "order__currency")
    )
    return _report_rows(
        rows,
        seller_id="product__seller_id",
        name="product__seller__name",
        currency="order__currency",
        orders="orders",
        quantity="units",
        amount="amount",
    )


PAYMENT_FAILURE_KEYS = ("failed_callbacks", "orders_payment_failed")


def _payment_failures(day: Day) -> dict[str, int]:
    failed = PaymentCallback.objects.filter(
        status=CallbackStatus.FAILED, received_at__gte=day.start, received_at__lt=day.end
    )
    counts = (failed.count(), day.orders.filter(status=OrderStatus.PAYMENT_FAILED).count())
    return dict(zip(PAYMENT_FAILURE_KEYS, counts, strict=True))


SECTIONS: dict[str, Callable[[Day], Any]] = {
    "by_status": _by_status,
    "revenue": _revenue,
    "top_products": _top_products,
    "sellers": _sellers,
    "payment_failures": _payment_failures,
}


def daily_report_csv(report: DailyReport) -> str:
    """The report as one CSV table: section, name, currency, orders, quantity, amount."""
    data = report.data
    rows: list[tuple[Any, ...]] = [CSV_HEADER]
    # Fixed orders: PostgreSQL's jsonb does not keep the keys' order.
    rows += [
        ("status", status, "", data["by_status"].get(status, 0), "", "") for status in OrderStatus.values
    ]
    rows += [("revenue", "", r["currency"], r["orders"], "", r["amount"]) for r in data["revenue"]]
    rows += [
        ("top_product", f"{p['sku']} {p['name']}", p["currency"], "", p["quantity"], p["amount"])
        for p in data["top_products"]
    ]
    rows += [
        ("seller", s["name"], s["currency"], s["orders"], s["quantity"], s["amount"]) for s in data["sellers"]
    ]
    failures = data["payment_failures"]
    rows += [("payment_failures", key, "", failures[key], "", "") for key in PAYMENT_FAILURE_KEYS]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
