"""A staff member asks for a daily report: API -> RabbitMQ -> worker -> report stored and e-mailed as CSV."""

from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order, OrderStatus
from services.orders import OrderLine, order_create
from testing import servers
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def test_a_requested_report_is_generated_by_a_worker_and_mailed_to_staff(staff_client, staff, empty_queues):
    product = ProductFactory.create(price=Decimal("7.00"), sku="SOAP", name="Soap")
    order = order_create(customer=UserFactory.create(), items=[OrderLine(product.pk, 3)])
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    today = timezone.localdate().isoformat()

    with servers.smtp_server() as (mailbox, smtp_port):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
        with servers.running(servers.WorkerProcess("periodic,notifications", concurrency=2, extra_env=env)):
            accepted = staff_client.post("/api/v1/reports/daily/", {"date": today}).json()
            assert servers.wait_until(
                lambda: staff_client.get(accepted["status_url"]).json()["state"] == "SUCCESS", timeout=30
            )
            mails = [m for m in mailbox.wait_for(3, timeout=30) if m.recipients == [staff.email]]

    task = staff_client.get(accepted["status_url"]).json()
    assert task["result"] == {"report_id": accepted["report_id"], "date": today, "status": "ready"}
    report = staff_client.get(accepted["report_url"]).json()
    assert report["data"]["revenue"] == [{"currency": "USD", "orders": 1, "amount": "21.00"}]
    assert report["data"]["top_products"][0] | {"product_id": 0} == {
        "product_id": 0,
        "sku": "SOAP",
        "name": "Soap",
        "currency": "USD",
        "quantity": 3,
        "amount": "21.00",
    }
    (mail,) = mails
    assert mail.message["Subject"] == f"Daily report for {today}: 1 order"
    (attachment,) = [part for part in mail.message.walk() if part.get_filename()]
    assert attachment.get_filename() == f"daily-report-{today}.csv"
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    csv = staff_client.get(f"/api/v1/reports/{accepted['report_id']}/csv/").content
    assert payload.replace(b"\r\n", b"\n") == csv  # MIME text travels with CRLF line ends
