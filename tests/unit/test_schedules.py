"""The default schedules of the periodic jobs: what the data migration creates, and what it leaves alone."""

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from messaging.routing import Priority
from pro_platform.celery import app
from tests.schedules import DEFAULT_SCHEDULES, create_default_schedules

pytestmark = pytest.mark.django_db

EXPECTED = {
    "send-pending-emails": ("notifications.tasks.send_pending_emails", "*/15", "*"),
    "cleanup-old-carts": ("orders.tasks.cleanup_old_carts", "0", "3"),
    "generate-daily-report": ("reports.tasks.generate_daily_report", "5", "0"),
    "send-review-reminder": ("orders.tasks.send_review_reminder", "0", "10"),
    "celery.backend_cleanup": ("celery.backend_cleanup", "0", "4"),
}


@pytest.fixture(autouse=True)
def defaults() -> None:
    PeriodicTask.objects.all().delete()
    create_default_schedules()


def test_the_jobs_of_the_seeds_are_scheduled_in_the_platform_time_zone():
    crontabs = {
        task.name: (task.task, task.crontab.minute, task.crontab.hour)
        for task in PeriodicTask.objects.exclude(crontab=None).select_related("crontab")
    }
    assert crontabs == EXPECTED
    assert {str(task.crontab.timezone) for task in PeriodicTask.objects.exclude(crontab=None)} == {
        settings.CELERY_TIMEZONE
    }
    expire = PeriodicTask.objects.get(name="expire-unpaid-orders")
    assert (expire.task, expire.interval.every, expire.interval.period) == (
        "orders.tasks.expire_unpaid_orders",
        5,
        "minutes",
    )
    assert all(task.enabled and task.expire_seconds for task in PeriodicTask.objects.all())
    assert set(PeriodicTask.objects.values_list("name", flat=True)) == set(DEFAULT_SCHEDULES)


def test_every_job_runs_on_the_periodic_queue_at_the_lowest_priority():
    app.loader.import_default_modules()
    for task in PeriodicTask.objects.all():
        route = app.amqp.router.route({}, task.task)
        assert (task.task in app.tasks, route["queue"].name, route["priority"]) == (
            True,
            "periodic",
            Priority.PERIODIC,
        )


def test_running_the_migration_again_keeps_what_staff_changed():
    carts = PeriodicTask.objects.get(name="cleanup-old-carts")
    carts.enabled = False
    carts.crontab.hour = "2"
    carts.crontab.save()
    carts.save()
    PeriodicTask.objects.filter(name="send-review-reminder").update(description="staff's words")

    create_default_schedules()

    carts.refresh_from_db()
    assert (carts.enabled, carts.crontab.hour) == (False, "2")
    assert PeriodicTask.objects.get(name="send-review-reminder").description == "staff's words"
    assert PeriodicTask.objects.count() == len(DEFAULT_SCHEDULES)
