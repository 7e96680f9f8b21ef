"""No password, token or secret in any log line: the redaction itself, and an audit of every
line the whole test run logged (this process and every process a test started)."""

import logging
import logging.config
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from django.conf import settings

from operations.logs import logging_config
from orders.management.commands.seed_demo import DEMO_CUSTOMER, DEMO_STAFF
from testing import servers

JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
SIGNATURE = re.compile(r"v1=[0-9a-f]{64}")
# Every password a test sends: the literals after `password` in the tests' code.
PASSWORD_LITERAL = re.compile(
    r"""password["']?\s*[:=,(]\s*(?:factory\.django\.Password\()?["']([^"']{8,})["']"""
)


def passwords_used_by_the_tests() -> set[str]:
    found = set()
    for path in Path(settings.BASE_DIR, "tests").rglob("*.py"):
        found.update(PASSWORD_LITERAL.findall(path.read_text()))
    return found - {"password"} | {DEMO_CUSTOMER[1], DEMO_STAFF[1]}


def test_the_tests_passwords_are_found():
    assert {"correct-horse-battery", "a-long-enough-pass"} <= passwords_used_by_the_tests()


@pytest.fixture
def the_runs_logging_afterwards() -> Iterator[None]:
    """A test may configure logging its own way: afterwards the run's comes back.

    Asked for before capsys, it is torn down after capsys, when stderr is the run's again:
    handlers left on capsys's stream failed on every later line ("I/O operation on closed
    file"). The root's other handlers (conftest's collector of every line, which the audit
    below reads) come back too.
    """
    root = logging.getLogger()
    others = [handler for handler in root.handlers if type(handler) is not logging.StreamHandler]
    yield
    logging.config.dictConfig(settings.LOGGING)
    for handler in others:
        root.addHandler(handler)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_secrets_are_redacted_from_a_line(log_format, the_runs_logging_afterwards, capsys):
    token = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJlLXZhbHVl"
    logging.config.dictConfig(logging_config(log_format=log_format, level="INFO"))
    structlog.get_logger("audit").info("signing in", password="hunter2-hunter2", access_token=token)
    logging.getLogger("audit").warning("header was Bearer %s", token, extra={"authorization": "Bearer x"})
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        logging.getLogger("audit").exception("failed")
    output = capsys.readouterr().err
    assert "signing in" in output
    assert "header was Bearer [redacted]" in output
    assert "ValueError" in output
    assert "hunter2-hunter2" not in output
    assert token not in output
    assert "Bearer x" not in output


@pytest.mark.whole_run_audit
def test_no_log_line_of_the_whole_run_holds_a_secret():
    secrets = passwords_used_by_the_tests() | {
        settings.SECRET_KEY,
        *settings.PAYMENT_WEBHOOK_SECRETS,
        "metrics-token-for-the-test-run",
    }
    lines = servers.every_line
    # The run did log (an audit of nothing proves nothing).
    assert any('"event": "request_finished"' in line for line in lines), "no JSON line of a web process"
    leaks = [
        line
        for line in lines
        if JWT.search(line) or SIGNATURE.search(line) or any(secret in line for secret in secrets)
    ]
    assert leaks == []
