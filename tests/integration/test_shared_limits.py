"""Limits hold across processes: two web servers share one throttle, in PostgreSQL's cache
table by default and in Redis when REDIS_URL is set."""

import httpx
import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from testing import servers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("redis_url", ["", REDIS_URL], ids=["postgresql-cache-table", "redis"])
def test_two_web_processes_share_one_registration_limit(redis_url):
    if redis_url:
        RedisCache(redis_url, {}).clear()  # the suite's own Redis database
    else:
        caches["default"].clear()
    env = {"API_AUTH_THROTTLE_RATE": "4/minute", "REDIS_URL": redis_url}
    first = servers.WebServer(workers=1, extra_env=env)
    second = servers.WebServer(workers=1, extra_env=env)
    with servers.running(first, second):
        statuses = [
            httpx.post(
                f"{web.url}/api/v1/auth/register/",
                json={"email": f"limit-{n}@example.com", "password": "a-long-enough-pass"},
            ).status_code
            for n, web in enumerate([first, second] * 3)
        ]
    # Four registrations from this address in a minute, whichever process took them; then 429.
    assert statuses == [201, 201, 201, 201, 429, 429]
