"""The periodic jobs' default schedules (seeds 001 and 003), created once.

Staff change or disable them in the admin (Periodic tasks); this migration runs
once per database and only creates what is missing by name, so no later deploy
overwrites what staff changed. Crontabs are in the platform's time zone.
"""

from django.conf import settings
from django.db import migrations

# name: (task, crontab "minute hour" or None, every N minutes or None, expires after seconds, description)
DEFAULT_SCHEDULES = {
    "send-pending-emails": (
        "notifications.tasks.send_pending_emails",
        "*/15 *",
        None,
        14 * 60,
        "Publish again notifications stuck in pending (the outbox's safety net).",
    ),
    "cleanup-old-carts": (
        "orders.tasks.cleanup_old_carts",
        "0 3",
        None,
        6 * 3600,
        "Delete carts untouched for CART_RETENTION_DAYS.",
    ),
    "generate-daily-report": (
        "reports.tasks.generate_daily_report",
        "5 0",
        None,
        6 * 3600,
        "Yesterday's report, stored and e-mailed to staff as CSV.",
    ),
    "send-review-reminder": (
        "orders.tasks.send_review_reminder",
        "0 10",
        None,
        6 * 3600,
        "Ask for a review REVIEW_REMINDER_DAYS after delivery, once per order.",
    ),
    "expire-unpaid-orders": (
        "orders.tasks.expire_unpaid_orders",
        None,
        5,
        4 * 60,
        "Cancel orders unpaid for ORDER_PAYMENT_TIMEOUT_MINUTES and return their stock.",
    ),
    "celery.backend_cleanup": (
        "celery.backend_cleanup",
        "0 4",
        None,
        12 * 3600,
        "Delete task results older than CELERY_RESULT_EXPIRES_SECONDS.",
    ),
}


def create_default_schedules(apps, schema_editor, schedules=DEFAULT_SCHEDULES):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    for name, (task, crontab, every_minutes, expire_seconds, description) in schedules.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue  # staff's version wins
        schedule = {}
        if crontab:
            minute, hour = crontab.split()
            schedule["crontab"], _ = CrontabSchedule.objects.get_or_create(
                minute=minute,
                hour=hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=settings.CELERY_TIMEZONE,
            )
        else:
            schedule["interval"], _ = IntervalSchedule.objects.get_or_create(every=every_minutes, period="minutes")
        PeriodicTask.objects.create(
            name=name, task=task, expire_seconds=expire_seconds, description=description, **schedule
        )


class Migration(migrations.Migration):
    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_default_schedules, migrations.RunPython.noop)]
