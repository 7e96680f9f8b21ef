"""The stack under test: every process of the product, the servers it talks to, and the TCP
proxies between them that the nemesis controls.

Processes reach PostgreSQL and RabbitMQ only through the proxies; the harness (set-up,
backend kills, poison messages, the audit) goes direct.
"""

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from testing import servers

WEB_PROCESSES = 2
# Every queue has a worker of its own; notifications have two (they carry most of the work).
WORKERS = (("payments", 1), ("notifications", 1), ("notifications", 2), ("default", 1), ("periodic", 1))
RELAYS = 2


@dataclass
class Service:
    """One process of the product, by the name the fault timeline uses for it."""

    name: str
    kind: str  # web, worker, relay, beat
    process: servers.ChildProcess

    def signal(self, signum: int) -> None:
        """Send `signum` to the process and every process it started."""
        if self.process.process is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.process.pid, signum)

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)


def _worker(queue: str, name: str, env: dict[str, str]) -> servers.WorkerProcess:
    return servers.WorkerProcess(queue, concurrency=2, name=name, relay=False, extra_env=env)


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.netloc.rpartition('@')[0]}@127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass
class Stack:
    database: servers.TcpProxy
    broker: servers.TcpProxy
    smtp: servers.SmtpServer
    telegram: servers.TelegramServer
    services: dict[str, Service] = field(default_factory=dict)

    @classmethod
    def build(cls) -> "Stack":
        database_port = settings.DATABASES["default"]["PORT"] or 5432
        stack = cls(
            database=servers.TcpProxy(int(database_port)),
            broker=servers.TcpProxy(servers.broker_params().port),
            smtp=servers.SmtpServer(servers.SmtpSink()),
            telegram=servers.TelegramServer(
                max_per_second=settings.TELEGRAM_MAX_MESSAGES_PER_SECOND,
                chat_interval=settings.TELEGRAM_CHAT_INTERVAL_SECONDS,
            ),
        )
        for index in range(1, WEB_PROCESSES + 1):
            stack._add(
                f"web-{index}", "web", lambda env: servers.WebServer(workers=2, threads=1, extra_env=env)
            )
        for queue, index in WORKERS:
            stack._add(
                f"worker-{queue}-{index}", "worker", partial(_worker, queue, f"chaos-{queue}-{index}@%h")
            )
        for index in range(1, RELAYS + 1):  # production's polling and backoff
            stack._add(
                f"relay-{index}",
                "relay",
                lambda env: servers.RelayProcess(interval=1.0, max_backoff=10.0, extra_env=env),
            )
        stack._add("beat", "beat", lambda env: servers.BeatProcess(extra_env=env))
        return stack

    def _add(self, name: str, kind: str, make: Callable[[dict[str, str]], servers.ChildProcess]) -> None:
        env = {
            "DJANGO_SETTINGS_MODULE": "chaos.settings",
            "CHAOS_DATABASE_URL": _via(os.environ["DATABASE_URL"], self.database.port),
            "CHAOS_CELERY_BROKER_URL": _via(settings.CELERY_BROKER_URL, self.broker.port),
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp.port}",
            "TELEGRAM_API_BASE_URL": self.telegram.base_url,
            "PGAPPNAME": f"chaos-{name}",  # its connections, for the nemesis to terminate by kind
        }
        self.services[name] = Service(name, kind, make(env))

    @property
    def web_urls(self) -> list[str]:
        return [s.process.url for s in self.services.values() if isinstance(s.process, servers.WebServer)]

    def start(self) -> None:
        self.database.start()
        self.broker.start()
        self.smtp.up()
        self.telegram.start()
        servers.start_all(*(service.process for service in self.services.values()), timeout=90)

    def stop(self) -> None:
        """Every process asked to stop at once (SIGTERM: workers finish their task), then waited for."""
        for service in self.services.values():
            service.resume()
            if service.process.alive() and service.process.process is not None:
                service.process.process.send_signal(signal.SIGTERM)  # the main process, as stop() does
        for service in reversed(self.services.values()):
            service.process.stop()
        self.smtp.down()
        self.telegram.stop()
        self.database.stop()
        self.broker.stop()

    def restart(self, service: Service) -> None:
        service.process.start(timeout=90)

    def logs(self) -> Iterator[tuple[str, str]]:
        for service in self.services.values():
            yield service.name, service.process.log()
