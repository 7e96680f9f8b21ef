"""The daily report: a local calendar day, summed up, stored and e-mailed to staff once."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from notifications.models import Audience, Event, Notification
from orders.models import CallbackStatus, Currency, Order, OrderStatus, PaymentCallback
from reports.models import ReportStatus
from services.notifications.delivery import render
from services.orders import OrderLine, order_create
from services.reports import daily_report_csv, daily_report_generate, daily_report_prepare, day_bounds
from tests.factories import ProductFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db

KYIV = ZoneInfo("Europe/Kyiv")
DST_DAY = date(2026, 3, 29)  # clocks go forward in Kyiv: a 23-hour day


@pytest.fixture(autouse=True)
def kyiv_time(settings):
    settings.TIME_ZONE = "Europe/Kyiv"


def place(product, quantity: int, *, at: datetime, status: str = OrderStatus.PAID) -> Order:
    order = order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, quantity)])
    Order.objects.filter(pk=order.pk).update(created_at=at, status=status)
    return order


def generate(day: date, progress=None):
    report = daily_report_prepare(day=day, task_id="task-1")
    return daily_report_generate(report_id=report.pk, task_id="task-1", progress=progress)


def test_a_day_is_local_midnight_to_midnight_even_when_the_clocks_change():
    start, end = day_bounds(DST_DAY)
    assert start == datetime(2026, 3, 29, 0, 0, tzinfo=KYIV)
    assert end == datetime(2026, 3, 30, 0, 0, tzinfo=KYIV)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)


def test_the_report_counts_only_the_local_day_and_sums_it_up():
    shop, other = SellerFactory.create(name="Acme"), SellerFactory.create(name="Bolt")
    mug = ProductFactory.create(seller=shop, price=Decimal("10.00"), stock=100, sku="MUG")
    cup = ProductFactory.create(seller=shop, price=Decimal("4.00"), stock=100, sku="CUP")
    lamp = ProductFactory.create(
        seller=other, price=Decimal("30.00"), currency=Currency.EUR, stock=100, sku="LAMP"
    )
    start, end = day_bounds(DST_DAY)
    place(mug, 1, at=start - timedelta(seconds=1))  # the evening before: not this report
    place(mug, 3, at=start)
    place(cup, 5, at=start + timedelta(hours=5), status=OrderStatus.DELIVERED)
    place(lamp, 1, at=end - timedelta(seconds=1))
    failed = place(mug, 2, at=start + timedelta(hours=1), status=OrderStatus.PAYMENT_FAILED)
    place(cup, 1, at=start + timedelta(hours=2), status=OrderStatus.PENDING_PAYMENT)
    place(lamp, 9, at=end)  # the next day
    callback = PaymentCallback.objects.create(
        event_id="evt_1",
        order=failed,
        payment_reference=failed.payment.reference,
        status=CallbackStatus.FAILED,
        amount=failed.total,
        currency="USD",
        raw_body="{}",
    )
    PaymentCallback.objects.filter(pk=callback.pk).update(received_at=start + timedelta(hours=1))
    steps: list[tuple[int, int]] = []

    report = generate(DST_DAY, progress=lambda done, total: steps.append((done, total)))

    assert report.status == ReportStatus.READY
    data = report.data
    assert (data["date"], data["time_zone"]) == ("2026-03-29", "Europe/Kyiv")
    assert data["by_status"] == {
        "pending_payment": 1,
        "paid": 2,
        "shipped": 0,
        "delivered": 1,
        "cancelled": 0,
        "payment_failed": 1,
    }
    assert data["revenue"] == [
        {"currency": "EUR", "orders": 1, "amount": "30.00"},
        {"currency": "USD", "orders": 2, "amount": "50.00"},
    ]
    assert [(p["sku"], p["quantity"], p["amount"]) for p in data["top_products"]] == [
        ("CUP", 5, "20.00"),
        ("MUG", 3, "30.00"),
        ("LAMP", 1, "30.00"),
    ]
    assert [(s["name"], s["currency"], s["orders"], s["quantity"], s["amount"]) for s in data["sellers"]] == [
        ("Acme", "USD", 2, 8, "50.00"),
        ("Bolt", "EUR", 1, 1, "30.00"),
    ]
    assert data["payment_failures"] == {"failed_callbacks": 1, "orders_payment_failed": 1}
    assert steps == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]


def test_the_csv_has_every_section():
    place(ProductFactory.create(sku="MUG", name="Mug"), 2, at=day_bounds(DST_DAY)[0])
    rows = list(csv.reader(io.StringIO(daily_report_csv(generate(DST_DAY)))))

    assert rows[0] == ["section", "name", "currency", "orders", "quantity", "amount"]
    assert ["status", "paid", "", "1", "", ""] in rows
    assert ["revenue", "", "USD", "1", "", "20.00"] in rows
    assert ["top_product", "MUG Mug", "USD", "", "2", "20.00"] in rows
    assert ["payment_failures", "failed_callbacks", "", "0", "", ""] in rows
    assert {row[0] for row in rows[1:]} == {"status", "revenue", "top_product", "seller", "payment_failures"}


def test_active_staff_get_it_by_email_with_the_csv_once():
    UserFactory.create(is_staff=True, email="boss@example.com")
    UserFactory.create(is_staff=True, is_active=False, email="gone@example.com")
    UserFactory.create(email="customer@example.com")

    report = generate(DST_DAY)
    generate(DST_DAY)  # the same task again (a redelivery): nothing new

    (mail,) = Notification.objects.filter(event=Event.DAILY_REPORT)
    assert (mail.audience, mail.channel, mail.recipient) == (Audience.STAFF, "email", "boss@example.com")
    message = render(notification=mail)
    assert message.subject == "Daily report for 2026-03-29: 0 orders"
    (attachment,) = message.attachments
    assert (attachment.filename, attachment.mimetype) == ("daily-report-2026-03-29.csv", "text/csv")
    assert attachment.content == daily_report_csv(report)


def test_a_newer_request_supersedes_an_older_task():
    report = daily_report_prepare(day=DST_DAY, task_id="old")
    daily_report_prepare(day=DST_DAY, task_id="new")

    assert daily_report_generate(report_id=report.pk, task_id="old").status == ReportStatus.PENDING
    assert daily_report_generate(report_id=report.pk, task_id="new").status == ReportStatus.READY
