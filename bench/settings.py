"""Settings of the benchmark runs: production settings on a database and vhost of their own.

The harness (bench/run.py) and every process it starts (gunicorn, Celery workers)
use this module. It adds the bench app: reference endpoints and tasks to measure
the product against, never served by the product itself.
"""

import os

os.environ["DJANGO_DEBUG"] = "false"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-for-production")
os.environ.setdefault("PAYMENT_WEBHOOK_SECRETS", "whsec_bench")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pro_platform_bench"
)
os.environ["CELERY_BROKER_URL"] = os.environ.get(
    "BENCH_CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/pro_platform_bench"
)
os.environ.setdefault("LOG_LEVEL", "WARNING")

from pro_platform.settings.base import *  # noqa: F403
from pro_platform.settings.base import INSTALLED_APPS, REST_FRAMEWORK

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]  # testserver: the harness's own client
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"auth": "1000000/minute"}
# The test suite's cheap hasher: the harness logs its users in once, nothing more.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The "worker storing no task state" reference turns results off for one worker (bench/run.py).
CELERY_TASK_IGNORE_RESULT = os.environ.get("CELERY_TASK_IGNORE_RESULT") == "true"
