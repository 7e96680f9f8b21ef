"""/metrics with real processes: the outbox backlog grows while RabbitMQ is unreachable and
drains after; a worker's task counters reach the web's scrape (multiprocess mode)."""

import re

import httpx
import pytest

from testing import servers
from testing.auth import bearer
from testing.servers import wait_until
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

TOKEN = "metrics-token-for-the-test-run"


def scrape(web: servers.WebServer) -> str:
    response = httpx.get(f"{web.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=15)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.text


def value(text: str, sample: str, missing: float | None = None) -> float:
    """The value of one sample line, e.g. `outbox_backlog_messages` or `x{queue="payments"}`."""
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    if match is None and missing is not None:
        return missing
    assert match, f"{sample} not in the scrape"
    return float(match.group(1))


def test_metrics_are_not_public(api_client, customer_client):
    refused = api_client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert customer_client.get("/metrics").status_code == 401


def test_the_backlog_grows_while_the_broker_is_down_and_drains_after():
    proxy = servers.TcpProxy(5672).start()
    via_proxy = {"TEST_CELERY_BROKER_URL": servers.broker_url_via(proxy.port), "METRICS_TOKEN": TOKEN}
    product = ProductFactory.create(stock=100)
    customer = {"Authorization": bearer(UserFactory.create())}
    order = {"items": [{"product_id": product.pk, "quantity": 1}]}
    servers.purge_queues()
    with servers.smtp_server() as (_, smtp_port):
        web = servers.WebServer(workers=2, extra_env=via_proxy)
        worker = servers.WorkerProcess(
            "notifications", relay=False, extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}
        )
        relay = servers.RelayProcess(extra_env=via_proxy)  # the only one, behind the proxy
        with servers.running(web, worker, relay):
            before = scrape(web)
            assert value(before, "rabbitmq_up") == 1
            proxy.cut()
            backlog: list[float] = []
            for _ in range(3):
                for _ in range(2):
                    assert (
                        httpx.post(f"{web.url}/api/v1/orders/", json=order, headers=customer).status_code
                        == 201
                    )
                # Due at once: counted as backlog while the relay cannot publish them.
                assert wait_until(
                    lambda: value(scrape(web), "outbox_backlog_messages") >= len(backlog) * 4 + 4
                )
                backlog.append(value(scrape(web), "outbox_backlog_messages"))
            assert backlog == sorted(backlog)
            assert backlog[-1] == 12  # two e-mails an order
            text = scrape(web)
            assert value(text, "rabbitmq_up") == 0
            assert value(text, "outbox_oldest_backlog_age_seconds") > 0

            proxy.restore()
            assert wait_until(lambda: value(scrape(web), "outbox_backlog_messages") == 0, timeout=60)
            text = scrape(web)
            assert value(text, "outbox_oldest_backlog_age_seconds") == 0
            task = "notifications.tasks.send_order_confirmation"
            sample = f'celery_tasks_total{{outcome="succeeded",queue="notifications",task="{task}"}}'
            confirmed_before = value(before, sample, missing=0)  # counters live as long as the directory
            assert wait_until(lambda: value(scrape(web), sample) == confirmed_before + 6, timeout=60)
            assert value(text, 'rabbitmq_queue_consumers{queue="notifications"}') == 1
            created = 'django_http_responses_total_by_status_total{status="201"}'
            assert value(text, created) == value(before, created, missing=0) + 6
            sent = 'notifications{channel="email",state="sent"}'
            assert wait_until(lambda: value(scrape(web), sent) == value(before, sent, missing=0) + 12)
    proxy.stop()
