"""The staff task dashboard in a real browser (Debian's Chromium, driven by Playwright),
signed in through the admin as a person would, against gunicorn."""

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult
from playwright.sync_api import Browser, Page, sync_playwright

from messaging.models import DeadLetter, OutboxMessage
from messaging.routing import QUEUE_NAMES, Tasks
from testing import servers
from tests.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

PASSWORD = "correct-horse-battery"  # the factories' password
SCREENSHOT = servers.ROOT / ".run" / "dashboard.png"


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium. Playwright runs an event loop in this thread: the database is set up
    before, never inside, this block (Django refuses queries from async contexts)."""
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed (make test installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


def a_day_of_work() -> DeadLetter:
    """Five confirmations (0.1 s to 0.5 s), one retried; a payment callback that gave up; a backlog of one."""
    now = timezone.now()
    for n in range(5):
        TaskResult.objects.create(
            task_id=f"ok-{n}", task_name=Tasks.SEND_ORDER_CONFIRMATION, status="SUCCESS"
        )
        started = now - timedelta(minutes=10 + n)
        TaskResult.objects.filter(task_id=f"ok-{n}").update(
            date_started=started, date_done=started + timedelta(seconds=0.1 * (n + 1))
        )
    TaskResult.objects.create(task_id="gave-up", task_name=Tasks.PROCESS_PAYMENT_CALLBACK, status="FAILURE")
    OutboxMessage.objects.create(
        task_name=Tasks.SEND_ORDER_CONFIRMATION, task_id="ok-0", retries=1, published_at=now
    )
    OutboxMessage.objects.create(
        task_name=Tasks.SEND_SELLER_NOTIFICATION, task_id="waiting", available_at=now
    )
    return DeadLetter.objects.create(
        source="task",
        task_name=Tasks.PROCESS_PAYMENT_CALLBACK,
        task_id="gave-up",
        kwargs={"callback_id": 7},
        reason="PaymentCallback.DoesNotExist: no callback 7",
        request_id="req-dashboard",
    )


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/admin/login/?next=/admin/dashboard/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def cells(page: Page, table: str, text: str) -> list[str]:
    return [c.strip() for c in page.locator(f"#{table} tr", has_text=text).locator("td").all_inner_texts()]


def test_staff_see_queues_outbox_tasks_failures_and_a_chart():
    staff = UserFactory.create(email="ops@example.com", is_staff=True)
    dead_letter = a_day_of_work()
    web = servers.WebServer(workers=1)
    with servers.running(web), chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{web.url}/admin/")
        page.fill("#id_username", staff.email)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.click("text=Task dashboard")  # linked from the admin's front page
        page.wait_for_selector("#task-dashboard")
        assert page.title().startswith("Task dashboard")

        assert re.search(r"Outbox backlog\s*1\s*oldest", page.inner_text("#outbox-backlog"))
        assert re.search(r"Open dead letters\s*1", page.inner_text("#dead-letters"))
        assert {row[0] for row in (cells(page, "queues", q) for q in QUEUE_NAMES)} == set(QUEUE_NAMES)

        confirmations = cells(page, "tasks", Tasks.SEND_ORDER_CONFIRMATION)
        assert confirmations == [Tasks.SEND_ORDER_CONFIRMATION, "5", "0", "1", "0.300 s", "0.480 s"]
        assert cells(page, "tasks", Tasks.PROCESS_PAYMENT_CALLBACK)[1:4] == ["0", "1", "0"]

        failure = page.locator("#failures tr", has_text="no callback 7")
        assert failure.locator("a", has_text=f"#{dead_letter.pk}").get_attribute("href") == (
            f"/admin/outbox/deadletter/{dead_letter.pk}/change/"
        )
        assert failure.locator("a[title]").get_attribute("title") == "req-dashboard"

        bars = page.locator("#hourly-chart rect.ok")
        assert bars.count() == 24
        this_hour = float(bars.nth(23).get_attribute("height") or 0) + float(
            bars.nth(22).get_attribute("height") or 0
        )
        assert this_hour > 0  # the five confirmations are drawn
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_a_customer_gets_no_access():
    customer = UserFactory.create(email="shopper@example.com")
    web = servers.WebServer(workers=1)
    with servers.running(web), chromium() as browser:
        page = browser.new_page()
        page.goto(f"{web.url}/admin/dashboard/")
        assert "/admin/login/" in page.url  # sent to sign in
        sign_in(page, web.url, customer.email)
        assert "/admin/login/" in page.url
        assert page.locator("#task-dashboard").count() == 0
        assert "staff account" in page.inner_text(".errornote")
