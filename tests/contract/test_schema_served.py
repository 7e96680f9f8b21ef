"""The schema clients are generated from, served by a real server to clients asking at once.

drf-spectacular's generator keeps state in module globals (its view under inspection, its
warning counters) and is not thread-safe (tfranzel/drf-spectacular#1123, #1368): gunicorn's
threads generating it together answered 500 now and then (the contract fuzzer's three
clients loading it at once met one in CI).
"""

import httpx
import pytest

from testing import servers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CLIENTS = 8
ROUNDS = 3


def test_clients_asking_for_the_schema_at_once_each_get_it_whole():
    web = servers.WebServer(workers=1, threads=CLIENTS)
    json = {"Accept": "application/vnd.oai.openapi+json"}
    with servers.running(web), httpx.Client(base_url=web.url, headers=json, timeout=60) as client:
        fetch = lambda: client.get("/api/schema/")  # noqa: E731
        answers = [answer for _ in range(ROUNDS) for answer in servers.run_concurrently([fetch] * CLIENTS)]

    assert [getattr(answer, "status_code", answer) for answer in answers] == [200] * CLIENTS * ROUNDS
    schemas = [answer.json() for answer in answers]
    assert all(schema == schemas[0] for schema in schemas)
    assert "/api/v1/orders/" in schemas[0]["paths"]
