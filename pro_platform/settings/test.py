"""Settings for the test suite: its own database and its own RabbitMQ vhost.

A running dev stack uses the database `pro_platform` and the vhost `/`; the suite
uses `pro_platform_test` for both, so neither steals the other's rows or messages.
Worker processes started by the tests import this module too.
"""

import os
from pathlib import Path

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("PAYMENT_WEBHOOK_SECRETS", "whsec_test_current,whsec_test_previous")
# Assigned, not defaulted: a DATABASE_URL exported for the dev stack must not leak in.
os.environ["DATABASE_URL"] = os.environ.get(
    "TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pro_platform_test"
)
os.environ["CELERY_BROKER_URL"] = os.environ.get(
    "TEST_CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/pro_platform_test"
)
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")  # a test may start a worker with its own
# The suite's own metrics directory, emptied when a session starts (tests/conftest.py).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ.get(
    "TEST_PROMETHEUS_MULTIPROC_DIR", str(Path(__file__).resolve().parents[2] / ".run" / "test-metrics")
)

from .base import *  # noqa: F403
from .base import DATABASES, REST_FRAMEWORK

# pytest-django would otherwise prefix the name with "test_"; the worker processes
# the integration tests start must find the very same database.
DATABASES["default"]["TEST"] = {"NAME": DATABASES["default"]["NAME"]}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"auth": os.environ.get("API_AUTH_THROTTLE_RATE", "10000/minute")}

# Serve static files from the apps' folders; the suite does not run collectstatic.
WHITENOISE_AUTOREFRESH = True
