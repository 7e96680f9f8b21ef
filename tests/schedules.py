"""The default periodic schedules, as the data migration creates them.

Tests that run with transaction=True empty the database after themselves, data
migrations' rows included; these helpers put the schedules back.
"""

import importlib

from django.apps import apps

migration = importlib.import_module("pro_platform.migrations.0001_default_schedules")
DEFAULT_SCHEDULES = migration.DEFAULT_SCHEDULES


def create_default_schedules() -> None:
    migration.create_default_schedules(apps, None)
