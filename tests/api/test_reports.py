import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import OutboxMessage
from messaging.routing import Priority
from reports.models import DailyReport
from services.reports import daily_report_generate
from testing import servers

pytestmark = pytest.mark.django_db(transaction=True)


def request_report(client, day: str):
    return client.post("/api/v1/reports/daily/", {"date": day})


def test_staff_request_a_report_and_follow_it(staff_client, empty_queues):
    response = request_report(staff_client, "2026-11-01")

    assert response.status_code == 202
    body = response.json()
    report = DailyReport.objects.get(pk=body["report_id"])
    assert body == {
        "report_id": report.pk,
        "task_id": report.task_id,
        "status_url": f"/api/v1/tasks/{report.task_id}/",
        "report_url": f"/api/v1/reports/{report.pk}/",
    }
    assert (response["Location"], response["Retry-After"]) == (body["status_url"], "1")
    assert staff_client.get(body["status_url"]).json()["state"] == "PENDING"
    (wire,) = servers.drain("periodic")
    assert (wire.task, wire.headers["id"], wire.priority) == (
        "reports.tasks.generate_daily_report",
        report.task_id,
        Priority.INFORMATIONAL,
    )
    assert json.loads(wire.body)[1] == {"report_id": report.pk}

    pending = staff_client.get(body["report_url"]).json()
    assert (pending["status"], pending["data"], pending["generated_at"]) == ("pending", {}, None)
    not_yet = staff_client.get(f"/api/v1/reports/{report.pk}/csv/")
    assert not_yet.status_code == 409
    assert not_yet.json()["errors"][0]["code"] == "report_not_ready"

    daily_report_generate(report_id=report.pk, task_id=report.task_id)  # what the worker does

    ready = staff_client.get(body["report_url"]).json()
    assert ready["status"] == "ready"
    assert ready["data"]["by_status"]["paid"] == 0
    csv = staff_client.get(f"/api/v1/reports/{report.pk}/csv/")
    assert csv.status_code == 200
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv["Content-Disposition"] == 'attachment; filename="daily-report-2026-11-01.csv"'
    assert csv.content.decode().startswith("section,name,currency,orders,quantity,amount\nstatus,")


def test_asking_again_regenerates_the_same_report_under_a_new_task(staff_client):
    first = request_report(staff_client, "2026-11-01").json()
    second = request_report(staff_client, "2026-11-01").json()
    assert first["report_id"] == second["report_id"]
    assert first["task_id"] != second["task_id"]
    assert DailyReport.objects.count() == 1
    assert OutboxMessage.objects.filter(task_name="reports.tasks.generate_daily_report").count() == 2


def test_a_report_cannot_cover_the_future(staff_client):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = request_report(staff_client, tomorrow)
    assert response.status_code == 400
    assert response.json()["errors"][0] | {"detail": ""} == {
        "code": "date_in_future",
        "detail": "",
        "attr": "date",
    }
    assert request_report(staff_client, "30-11-2026").json()["errors"][0]["code"] == "invalid"
    assert DailyReport.objects.count() == 0


def test_reports_are_for_staff_only(customer_client):
    assert request_report(customer_client, "2026-11-01").status_code == 403
    report = DailyReport.objects.create(date="2026-11-01")
    assert customer_client.get(f"/api/v1/reports/{report.pk}/").status_code == 403
    assert customer_client.get(f"/api/v1/reports/{report.pk}/csv/").status_code == 403
    assert DailyReport.objects.count() == 1


def test_staff_download_the_csv_from_the_admin(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    report = DailyReport.objects.create(date="2026-11-01", task_id="t")
    daily_report_generate(report_id=report.pk, task_id="t")

    listing = client.get(reverse("admin:reports_dailyreport_changelist"))
    download = client.get(reverse("admin:reports_dailyreport_csv", args=[report.pk]))

    assert reverse("admin:reports_dailyreport_csv", args=[report.pk]) in listing.content.decode()
    assert download.status_code == 200
    assert download.content.decode().startswith("section,name")


def test_a_client_asking_for_csv_gets_it_and_its_errors_in_json(staff_client):
    report = request_report(staff_client, "2026-11-02").json()
    url = f"/api/v1/reports/{report['report_id']}/csv/"

    not_yet = staff_client.get(url, HTTP_ACCEPT="text/csv")
    assert not_yet.status_code == 409
    assert not_yet["Content-Type"] == "application/json"
    assert not_yet.json()["errors"][0]["code"] == "report_not_ready"

    daily_report_generate(report_id=report["report_id"], task_id=report["task_id"])
    ready = staff_client.get(url, HTTP_ACCEPT="text/csv")
    assert (ready.status_code, ready["Content-Type"]) == (200, "text/csv; charset=utf-8")
    assert staff_client.get(url, HTTP_ACCEPT="application/xml").status_code == 406
