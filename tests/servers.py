"""Real servers and processes the tests start: an SMTP server, Celery workers, RabbitMQ helpers."""

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pika
from aiosmtpd.controller import Controller
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- SMTP ------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: Message


@dataclass
class SmtpSink:
    """An aiosmtpd handler that keeps every message it accepts."""

    received: "queue.Queue[ReceivedMail]" = field(default_factory=queue.Queue)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.received.put(
            ReceivedMail(
                sender=envelope.mail_from,  # type: ignore[attr-defined]
                recipients=list(envelope.rcpt_tos),  # type: ignore[attr-defined]
                message=message_from_bytes(envelope.content),  # type: ignore[attr-defined]
            )
        )
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[ReceivedMail]:
        mails: list[ReceivedMail] = []
        deadline = time.monotonic() + timeout
        while len(mails) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                mails.append(self.received.get(timeout=remaining))
            except queue.Empty:
                break
        return mails


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


# --- RabbitMQ ----------------------------------------------------------------------


def broker_params() -> pika.URLParameters:
    return pika.URLParameters(settings.CELERY_BROKER_URL)


def test_vhost() -> str:
    return str(broker_params().virtual_host)


def reset_vhost(vhost: str) -> None:
    """Give the suite an empty vhost of its own (rabbitmqctl talks to the local node)."""
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, check=False)
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True, check=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        capture_output=True,
        check=True,
    )


@contextmanager
def amqp_channel() -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    connection = pika.BlockingConnection(broker_params())
    try:
        yield connection.channel()
    finally:
        connection.close()


def declare_queues() -> None:
    """Declare the app's queues and the dead-letter queue, as `manage.py check_services` does."""
    from pro_platform.preflight import declare_broker_topology

    declare_broker_topology()


def purge_queues() -> None:
    from pro_platform.celery import DEAD_LETTERS, QUEUE_NAMES

    declare_queues()
    with amqp_channel() as channel:
        for name in (*QUEUE_NAMES, DEAD_LETTERS.name):
            channel.queue_purge(name)


def queue_depth(name: str) -> int:
    with amqp_channel() as channel:
        return int(channel.queue_declare(name, passive=True).method.message_count)


@dataclass
class WireMessage:
    task: str
    priority: int | None
    headers: dict
    body: bytes


def drain(name: str) -> list[WireMessage]:
    """Take every message off a queue (acknowledging them) and return them in delivery order."""
    messages: list[WireMessage] = []
    with amqp_channel() as channel:
        while True:
            method, props, body = channel.basic_get(name, auto_ack=True)
            if method is None:
                return messages
            messages.append(WireMessage(props.headers.get("task"), props.priority, props.headers, body))


# --- Celery worker -------------------------------------------------------------------


class WorkerProcess:
    """`celery -A pro_platform worker` in a child process, on the test database and vhost."""

    def __init__(self, queues: str, *, concurrency: int = 1, extra_env: dict[str, str] | None = None):
        self.queues = queues
        self.concurrency = concurrency
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "pro_platform.settings.test",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._ready = threading.Event()

    def start(self, timeout: float = 60.0) -> "WorkerProcess":
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "pro_platform",
                "worker",
                "-Q",
                self.queues,
                "-c",
                str(self.concurrency),
                "-n",
                f"test-{os.getpid()}-{id(self)}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("worker did not become ready:\n" + "".join(self.output[-50:]))
        return self

    def _pump(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if " ready." in line:
                self._ready.set()

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return "".join(self.output)


# --- Telegram Bot API ----------------------------------------------------------------------


@dataclass
class TelegramRequest:
    at: float
    token: str
    chat_id: str
    text: str
    status: int


@dataclass
class ScriptedReply:
    status: int = 200
    body: dict | None = None
    delay: float = 0.0


class TelegramServer:
    """A local HTTP server that speaks the Bot API's sendMessage.

    Replies are scripted per chat (`script`), otherwise 200. Like Telegram, it
    answers 429 when a chat gets messages closer than `chat_interval` or the bot
    more than `max_per_second` in a second, so a test sees whether the limits held.
    """

    def __init__(self, *, max_per_second: float | None = None, chat_interval: float | None = None) -> None:
        self.requests: list[TelegramRequest] = []
        self.max_per_second = max_per_second
        self.chat_interval = chat_interval
        self._scripts: dict[str, list[ScriptedReply]] = {}
        self._scripted_chats: set[str] = set()
        self._lock = threading.Lock()
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, chat_id: str, *replies: ScriptedReply) -> None:
        with self._lock:
            self._scripts[chat_id] = list(replies)

    def for_chat(self, chat_id: str) -> list[TelegramRequest]:
        with self._lock:
            return [r for r in self.requests if r.chat_id == chat_id]

    def throttled(self) -> list[TelegramRequest]:
        with self._lock:
            return [r for r in self.requests if r.status == 429 and r.chat_id not in self._scripted_chats]

    def start(self) -> "TelegramServer":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _reply_for(self, chat_id: str, now: float) -> ScriptedReply:
        with self._lock:
            script = self._scripts.get(chat_id)
            if script:
                self._scripted_chats.add(chat_id)
                return script.pop(0)
            ok = [r for r in self.requests if r.status == 200]
            # 15 % slack: on a loaded machine arrivals jitter around the sender's slots.
            too_fast = self.chat_interval is not None and any(
                r.chat_id == chat_id and now - r.at < self.chat_interval * 0.85 for r in ok
            )
            too_many = self.max_per_second is not None and (
                sum(1 for r in ok if now - r.at < 0.85) >= self.max_per_second
            )
            if too_fast or too_many:
                return ScriptedReply(
                    429,
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    },
                )
            return ScriptedReply()

    def _record(self, request: TelegramRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                now = time.monotonic()
                token, _, method = self.path.lstrip("/").partition("/")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                chat_id = str(body.get("chat_id"))
                reply = server._reply_for(chat_id, now) if method == "sendMessage" else ScriptedReply(404)
                server._record(
                    TelegramRequest(
                        now, token.removeprefix("bot"), chat_id, body.get("text", ""), reply.status
                    )
                )
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body or (
                    {"ok": True, "result": {"message_id": len(server.requests), "chat": {"id": chat_id}}}
                    if reply.status == 200
                    else {"ok": False, "error_code": reply.status, "description": "error"}
                )
                data = json.dumps(payload).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def telegram_server(**limits: float) -> Iterator[TelegramServer]:
    server = TelegramServer(**limits).start()
    try:
        yield server
    finally:
        server.stop()


# --- Concurrency -----------------------------------------------------------------------------


def run_concurrently(calls: list[Callable[[], Any]], timeout: float = 60.0) -> list[Any]:
    """Run the calls in threads released at the same instant; return each result or exception.

    Each thread closes its own database connection when done.
    """
    from django.db import connection

    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            start.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
