"""Real servers and processes that tests and benchmarks start: SMTP and Telegram servers, the
product's processes, RabbitMQ helpers, a TCP proxy that can cut connections."""

import asyncio
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import httpx
import pika
from aiosmtpd.controller import Controller
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
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
    at: float = field(default_factory=time.monotonic)  # when it was accepted


@dataclass
class SmtpSink:
    """An aiosmtpd handler that keeps every message it accepts (or, with keep=False, counts them).

    `delay` makes it answer each message that many seconds late, like a slow provider.
    """

    received: "queue.Queue[ReceivedMail]" = field(default_factory=queue.Queue)
    accepted: list[ReceivedMail] = field(default_factory=list)  # everything, for counting
    delay: float = 0.0
    keep: bool = True
    count: int = 0
    sessions: int = 0  # SMTP conversations (EHLO) seen

    async def handle_EHLO(
        self, server: object, session: object, envelope: object, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname  # type: ignore[attr-defined]  # what aiosmtpd's default does
        return responses

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        if not self.keep:
            return "250 Message accepted for delivery"
        mail = ReceivedMail(
            sender=envelope.mail_from,  # type: ignore[attr-defined]
            recipients=list(envelope.rcpt_tos),  # type: ignore[attr-defined]
            message=message_from_bytes(envelope.content),  # type: ignore[attr-defined]
        )
        self.accepted.append(mail)
        self.received.put(mail)
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter[str]:
        """How many times each Message-ID was accepted."""
        return Counter(str(mail.message["Message-ID"]).strip() for mail in list(self.accepted))

    def first_accepted(self) -> dict[str, float]:
        """When each Message-ID was first accepted (time.monotonic)."""
        first: dict[str, float] = {}
        for mail in list(self.accepted):
            first.setdefault(str(mail.message["Message-ID"]).strip(), mail.at)
        return first

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


class SmtpServer:
    """An SMTP server on a port of its own that can go down (connections refused) and come
    back on the same port, keeping what it accepted in `sink`."""

    def __init__(self, sink: SmtpSink, port: int | None = None) -> None:
        self.sink = sink
        self.port = port or free_port()
        self._controller: Controller | None = None

    def up(self) -> "SmtpServer":
        if self._controller is None:
            self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
            self._controller.start()
        return self

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_server(
    port: int | None = None, *, delay: float = 0.0, keep: bool = True
) -> Iterator[tuple[SmtpSink, int]]:
    server = SmtpServer(SmtpSink(delay=delay, keep=keep), port).up()
    try:
        yield server.sink, server.port
    finally:
        server.down()


# --- RabbitMQ ----------------------------------------------------------------------


def broker_params() -> pika.URLParameters:
    return pika.URLParameters(settings.CELERY_BROKER_URL)


def test_vhost() -> str:
    return str(broker_params().virtual_host)


def broker_url_via(port: int) -> str:
    """The suite's broker URL through a TcpProxy listening on `port`."""
    return f"amqp://guest:guest@127.0.0.1:{port}/{test_vhost()}"


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
    from messaging.routing import DEAD_LETTERS, QUEUE_NAMES

    declare_queues()
    with amqp_channel() as channel:
        for name in (*QUEUE_NAMES, DEAD_LETTERS.name):
            channel.queue_purge(name)


def published() -> None:
    """Publish every due outbox message now, from this process, as a relay would."""
    from messaging.relay import outbox_relay_batch

    while outbox_relay_batch():
        pass


def queue_depth(name: str) -> int:
    published()
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
    published()
    messages: list[WireMessage] = []
    with amqp_channel() as channel:
        while True:
            method, props, body = channel.basic_get(name, auto_ack=True)
            if method is None:
                return messages
            messages.append(WireMessage(props.headers.get("task"), props.priority, props.headers, body))


# --- Processes: Celery workers, the web server, the outbox relay -----------------------------


def test_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: the test settings, database and vhost."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "pro_platform.settings.test", **extra}


# Every line every child process wrote in this test run (the secrets audit reads them all).
every_line: list[str] = []


class ChildProcess:
    """A process of the product (worker, web server, relay) started by a test.

    Its output is collected (here and in `every_line`); it counts as started once a line
    contains `ready_marker`.
    It runs in a session of its own, so `kill()` takes its children with it.
    """

    ready_marker = ""

    def __init__(self, argv: list[str], *, extra_env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.env = test_env(**(extra_env or {}))
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._ready = threading.Event()

    def start(self, timeout: float = 60.0) -> Self:
        self.launch()
        self.wait_ready(timeout)
        return self

    def launch(self) -> None:
        """Start the process and return at once (`wait_ready` waits for it)."""
        self._ready.clear()
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(self.process,), daemon=True).start()

    def wait_ready(self, timeout: float) -> None:
        """Until it serves (`launch` started it)."""
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError(f"{self.argv[:4]} did not become ready:\n" + "".join(self.output[-50:]))

    def _pump(self, process: "subprocess.Popen[str]") -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)
            every_line.append(line)
            if self.ready_marker in line:
                self._ready.set()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful: SIGTERM (a worker finishes its current task), then SIGKILL after `timeout`."""
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the process and every process it started, at once."""
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log(self) -> str:
        return "".join(self.output)


CELERY = [sys.executable, "-m", "celery", "-A", "pro_platform"]


class WorkerProcess(ChildProcess):
    """`celery -A pro_platform worker` on the test database and vhost, with an outbox relay
    beside it (same environment) unless `relay=False`.

    Only a relay publishes what is committed: a test that runs tasks needs one for the
    tasks it enqueues and for those its tasks enqueue (retries, follow-ups, alerts). This
    one only publishes: dead letters stay in their queue for the test's own relay or its
    own collection. `stop`, `kill` and `alive` are about the worker; `stop` and `kill` take
    the relay along.
    """

    ready_marker = " ready."

    def __init__(
        self,
        queues: str,
        *,
        concurrency: int = 1,
        name: str = "",
        relay: bool = True,
        extra_env: dict[str, str] | None = None,
    ):
        self.queues = queues
        self.relay = RelayProcess(publish_only=True, extra_env=extra_env) if relay else None
        super().__init__(
            [
                *CELERY,
                "worker",
                "-Q",
                queues,
                "-c",
                str(concurrency),
                "-n",
                name or f"test-{os.getpid()}-{id(self)}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            extra_env=extra_env,
        )

    def launch(self) -> None:
        if self.relay is not None:
            self.relay.launch()  # both start at once
        super().launch()

    def wait_ready(self, timeout: float) -> None:
        super().wait_ready(timeout)
        if self.relay is not None:
            self.relay.wait_ready(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        if self.relay is not None:
            self.relay.stop(timeout)

    def kill(self) -> None:
        super().kill()
        if self.relay is not None:
            self.relay.kill()

    def pool_pids(self) -> list[int]:
        """The prefork pool's processes (the ones that run tasks)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return [int(pid) for pid in children.split()]


class BeatProcess(ChildProcess):
    """`celery -A pro_platform beat` with the project's scheduler, checking the database every second.

    Ready once it holds the beat lock, or (`waiting=True`) once it waits for another beat.
    """

    def __init__(self, *, waiting: bool = False, extra_env: dict[str, str] | None = None) -> None:
        self.ready_marker = "waiting to take over" if waiting else "beat lock acquired"
        super().__init__(
            [
                *CELERY,
                "beat",
                "-l",
                "INFO",
                "--max-interval",
                "1",
            ],
            extra_env=extra_env,
        )

    def sent(self) -> int:
        """How many tasks this beat has published."""
        return self.log().count("Scheduler: Sending due task")


class RelayProcess(ChildProcess):
    """`manage.py outbox_relay`, by default polling fast and backing off briefly, as a test wants."""

    ready_marker = "outbox relay started"

    def __init__(
        self,
        *,
        publish_only: bool = False,
        interval: float = 0.2,
        max_backoff: float = 1.0,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        argv = [sys.executable, "manage.py", "outbox_relay"]
        argv += ["--interval", str(interval), "--max-backoff", str(max_backoff)]
        super().__init__([*argv, "--publish-only"] if publish_only else argv, extra_env=extra_env)


class WebServer(ChildProcess):
    """gunicorn serving the API (`wsgi_app` lets a test wrap it), with gunicorn.conf.py."""

    ready_marker = "Booting worker"

    def __init__(
        self,
        *,
        wsgi_app: str = "pro_platform.wsgi:application",
        workers: int = 2,
        threads: int = 4,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        super().__init__(
            [sys.executable, "-m", "gunicorn", wsgi_app, "-c", "gunicorn.conf.py"],
            extra_env={
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "GUNICORN_WORKERS": str(workers),
                "GUNICORN_THREADS": str(threads),
                **(extra_env or {}),
            },
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float) -> None:
        super().wait_ready(timeout)
        if not wait_until(self._healthy, timeout):
            self.stop()
            raise RuntimeError("web server not healthy:\n" + self.log()[-3000:])

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health/live", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def start_all(*processes: ChildProcess, timeout: float = 60.0) -> None:
    """Launch every process at once, then wait until each serves."""
    for process in processes:
        process.launch()
    for process in processes:
        process.wait_ready(timeout)


@contextmanager
def running(*processes: ChildProcess, timeout: float = 60.0) -> Iterator[None]:
    """Start the processes (`start_all`); stop them all at the end, whatever happened."""
    try:
        start_all(*processes, timeout=timeout)
        yield
    finally:
        for process in reversed(processes):
            process.stop()


# --- A TCP proxy a test can cut ------------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:`port` to an upstream server until cut.

    `cut()` drops every open connection and refuses new ones (the port is closed), as
    an unreachable server would; `restore()` listens again on the same port.
    `slow(seconds)` holds every chunk that long before passing it on (a congested link);
    `stall()` stops passing bytes either way while every connection stays open and new
    ones are accepted (a partition: half-open connections that neither side sees die),
    `flow()` lets the held bytes through again, as TCP does when a partition heals.
    """

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.delay = 0.0
        self._flowing = threading.Event()
        self._flowing.set()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._listener: socket.socket | None = None

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.1)
        self._listener = listener
        self._listening.set()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        self._listening.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    restore = start

    def slow(self, seconds: float) -> None:
        self.delay = seconds

    def stall(self) -> None:
        self._flowing.clear()

    def flow(self) -> None:
        self.delay = 0.0
        self._flowing.set()

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def _accept(self, listener: socket.socket) -> None:
        while self._listening.is_set() and self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while self._flowing.wait() and (data := source.recv(65536)):
                if self.delay:
                    time.sleep(self.delay)
                self._flowing.wait()
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.cut()


# --- Telegram Bot API ----------------------------------------------------------------------


@dataclass
class TelegramRequest:
    at: float
    token: str
    chat_id: str
    text: str
    status: int
    forced: bool = False  # answered by `TelegramServer.force`, not by the server's limits


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
    `force(reply)` answers every request with `reply` until `force(None)` (an outage,
    a burst of 429s).
    """

    def __init__(
        self,
        *,
        max_per_second: float | None = None,
        chat_interval: float | None = None,
        reply_delay: float = 0.0,
    ) -> None:
        self.reply_delay = reply_delay
        self.requests: list[TelegramRequest] = []
        self.max_per_second = max_per_second
        self.chat_interval = chat_interval
        self._scripts: dict[str, list[ScriptedReply]] = {}
        self._scripted_chats: set[str] = set()
        self.forced: ScriptedReply | None = None
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

    def force(self, reply: ScriptedReply | None) -> None:
        self.forced = reply

    def _reply_for(self, chat_id: str, now: float) -> ScriptedReply:
        with self._lock:
            if self.forced is not None:
                return self.forced
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
            return ScriptedReply(delay=self.reply_delay)

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
                        now,
                        token.removeprefix("bot"),
                        chat_id,
                        body.get("text", ""),
                        reply.status,
                        forced=reply is server.forced,
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
