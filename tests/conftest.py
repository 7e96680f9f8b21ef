import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from orders.models import Product, Seller
from testing import servers
from testing.auth import bearer
from tests.factories import ProductFactory, SellerFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def rabbitmq_vhost() -> str:
    """A fresh vhost for the whole run, so no dev worker can take the suite's messages."""
    vhost = servers.test_vhost()
    assert vhost not in ("/", ""), "the test suite must not run on the default vhost"
    servers.reset_vhost(vhost)
    servers.declare_queues()
    return vhost


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Audits of the whole run's output go last, after everything they audit."""
    items.sort(key=lambda item: item.get_closest_marker("whole_run_audit") is not None)


class _EveryLine(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        servers.every_line.append(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def log_lines_of_this_process() -> Iterator[None]:
    """This process's log lines join the child processes' in `servers.every_line`, formatted
    as the product formats them."""
    root = logging.getLogger()
    handler = _EveryLine()
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    yield
    root.removeHandler(handler)


@pytest.fixture(scope="session", autouse=True)
def empty_metrics_directory() -> None:
    """Counters start at zero for the run (every process started by a test writes here)."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    for path in directory.glob("*.db"):
        path.unlink()


@pytest.fixture(autouse=True)
def empty_cache(request: pytest.FixtureRequest) -> None:
    """Throttle and sign-in counters live in the shared cache (a database table): each test
    that reaches the database starts with none."""
    names = set(request.fixturenames)
    if not (names & {"db", "transactional_db"} or request.node.get_closest_marker("django_db")):
        return
    for name in ("transactional_db", "db"):
        if name in names:
            request.getfixturevalue(name)  # database access before the clear
            break
    cache.clear()


@pytest.fixture
def empty_queues() -> None:
    servers.purge_queues()


@pytest.fixture
def smtp() -> Iterator[tuple[servers.SmtpSink, int]]:
    with servers.smtp_server() as sink_and_port:
        yield sink_and_port


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def customer(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory.create(is_staff=True)


@pytest.fixture
def customer_client(customer: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(customer))
    return client


@pytest.fixture
def staff_client(staff: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(staff))
    return client


@pytest.fixture
def seller(db: None) -> Seller:
    return SellerFactory.create()


@pytest.fixture
def product(seller: Seller) -> Product:
    return ProductFactory.create(seller=seller)


@pytest.fixture
def report(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]):
    """Print a scenario's figures into the test log, even when output is captured."""
    suite = request.node.path.parent.name  # reliability, contract, ...

    def write(title: str, **figures: object) -> None:
        with capsys.disabled():
            print(
                f"\n[{suite}] {title}: " + "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items())
            )

    return write
