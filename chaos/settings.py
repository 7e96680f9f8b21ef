"""Settings of the chaos run: production settings on a database and vhost of their own.

The harness (chaos/run.py) uses the database and broker directly; every process it starts
is pointed, through CHAOS_DATABASE_URL and CHAOS_CELERY_BROKER_URL, at TCP proxies in
front of them that the nemesis cuts, slows and stalls.
"""

import os

os.environ["DJANGO_DEBUG"] = "false"
os.environ.setdefault("DJANGO_SECRET_KEY", "chaos-only-secret-key-not-for-production")
os.environ.setdefault("PAYMENT_WEBHOOK_SECRETS", "whsec_chaos")
os.environ["DATABASE_URL"] = os.environ.get(
    "CHAOS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pro_platform_chaos"
)
os.environ["CELERY_BROKER_URL"] = os.environ.get(
    "CHAOS_CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/pro_platform_chaos"
)
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_ADMINS", "ops@chaos.example")
os.environ.setdefault("TELEGRAM_BOT_TOKEN", "123:chaos")
os.environ.setdefault("TELEGRAM_MANAGERS_CHAT_ID", "-100")
# The local Bot API server enforces the same limits (testing/servers.TelegramServer); one
# message a second to the managers' chat (every order, every flagged payment) would hold the
# alerts back for minutes. Five a second is ahead of the workload.
os.environ.setdefault("TELEGRAM_CHAT_INTERVAL_SECONDS", "0.2")
# Orders left unpaid expire within the run, racing the provider's late callbacks.
os.environ.setdefault("ORDER_PAYMENT_TIMEOUT_MINUTES", "1")

from pro_platform.settings.base import *  # noqa: F403
from pro_platform.settings.base import REST_FRAMEWORK

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"auth": "1000000/minute"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
