"""A job added after the first schedules: forget idempotency keys and followed task ids
once they are past their retention (created once, like the others)."""

import importlib

from django.db import migrations

first = importlib.import_module("pro_platform.migrations.0001_default_schedules")

ADDED_SCHEDULES = {
    "forget-request-records": (
        "orders.tasks.forget_request_records",
        None,
        60,
        50 * 60,
        "Forget Idempotency-Keys after IDEMPOTENCY_KEY_RETENTION_HOURS and followed task ids "
        "after CELERY_RESULT_EXPIRES_SECONDS.",
    ),
}


def create_added_schedules(apps, schema_editor):
    first.create_default_schedules(apps, schema_editor, ADDED_SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("pro_platform", "0001_default_schedules")]

    operations = [migrations.RunPython(create_added_schedules, migrations.RunPython.noop)]
