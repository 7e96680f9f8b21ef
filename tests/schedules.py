"""The default periodic schedules, as the data migrations create them.

Tests that run with transaction=True empty the database after themselves, data
migrations' rows included; these helpers put the schedules back.
"""

import importlib

from django.apps import apps

migrations = [
    importlib.import_module("pro_platform.migrations.0001_default_schedules"),
    importlib.import_module("pro_platform.migrations.0002_forget_request_records"),
]
DEFAULT_SCHEDULES = {**migrations[0].DEFAULT_SCHEDULES, **migrations[1].ADDED_SCHEDULES}


def create_default_schedules() -> None:
    migrations[0].create_default_schedules(apps, None, DEFAULT_SCHEDULES)
