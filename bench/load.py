"""Load generators and what they cost: wrk, pgbench, CPU time of processes."""

import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench import setup  # noqa: F401  (first: Django set up with the bench settings)

# isort: split
from django.conf import settings
from django.db.models.functions import Now

from bench.report import percentile
from bench.setup import CLIENT_CPU, FIRST_PRODUCT_ID, HALF, ROOT, children
from messaging.models import OutboxMessage
from testing import servers

# --- Load generators --------------------------------------------------------------------------------


def wrk(
    url: str, *, connections_: int, seconds: int, method: str = "GET", body: str = "", token: str = ""
) -> dict:
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_BODY": body,
        "BENCH_TOKEN": token,
        "BENCH_PRODUCTS": f"{FIRST_PRODUCT_ID},{HALF}",
    }
    argv = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections_}", f"-d{seconds}s", "--latency"]
    argv.append("--timeout=30s")
    out = subprocess.run(
        [*argv, "-s", str(ROOT / "bench" / "wrk.lua"), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    result = json.loads(out.split("BENCH ", 1)[1])
    if result["errors"]:
        raise RuntimeError(f"wrk saw {result['errors']} errors against {url}:\n{out}")
    return result


def cpu_seconds(pids: list[int]) -> float:
    """CPU time of the processes and of their children that have ended (PostgreSQL's backends)."""
    ticks = 0
    for pid in pids:
        with suppress(FileNotFoundError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def pids_of(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in found.split()]


@contextmanager
def web_cpu_to_itself() -> Iterator[None]:
    """Move PostgreSQL's and RabbitMQ's threads to the load generator's CPU while the web
    server is measured, and back.

    On two CPUs they would otherwise share the web server's CPU, and a figure like the
    cost of publishing would measure where the broker happens to run, not the web server.
    """
    moved: list[int] = []
    try:
        for pid in pids_of("beam.smp") + pids_of("postgres"):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with suppress(OSError):
                    os.sched_setaffinity(int(task.name), {int(CLIENT_CPU)})
                    moved.append(int(task.name))
        yield
    finally:
        everywhere = set(range(os.cpu_count() or 1))
        for tid in moved + pids_of("postgres"):  # backends born meanwhile inherited CPU 1
            with suppress(OSError):
                os.sched_setaffinity(tid, everywhere)


def with_cpu(server: servers.WebServer, load: Callable[[], dict], relay: servers.ChildProcess) -> dict:
    """`load`'s figures, with the CPU time each order cost the web server, the outbox relay,
    RabbitMQ and PostgreSQL."""
    assert server.process is not None
    assert relay.process is not None
    web_pid, relay_pid = server.process.pid, relay.process.pid

    def groups() -> dict[str, list[int]]:
        return {
            "web": children(web_pid),
            "relay": [relay_pid],
            "broker": pids_of("beam.smp"),
            "database": pids_of("postgres"),
        }

    started = groups()
    before = {name: cpu_seconds(pids) for name, pids in started.items()}
    result = load()
    for name, pids in groups().items():  # with the backends that started meanwhile, counted whole
        spent = cpu_seconds(sorted(set(pids) | set(started[name]))) - before[name]
        result[f"{name}_cpu_ms"] = spent / max(result["requests"], 1) * 1000
    return result


def unrelayed(relay: servers.ChildProcess, load: Callable[[], dict]) -> dict:
    """`load` with the outbox relay paused (SIGSTOP), and the outbox rows it wrote marked
    published before the relay goes on: pgbench replaying an order's SQL is the database's
    floor, and its rows are nobody's to publish. (PostgreSQL still sends the trigger's
    notifications; the relay finds nothing due when it wakes.)"""
    assert relay.process is not None
    relay.process.send_signal(signal.SIGSTOP)
    try:
        return load()
    finally:
        OutboxMessage.objects.filter(published_at=None).update(published_at=Now())
        relay.process.send_signal(signal.SIGCONT)


def pgbench(script: Path, *, clients: int, seconds: int) -> dict:
    db = settings.DATABASES["default"]
    with tempfile.TemporaryDirectory() as logs:
        prefix = Path(logs) / "tx"
        subprocess.run(
            [
                "pgbench",
                "-n",
                f"-c{clients}",
                f"-j{min(clients, 2)}",
                f"-T{seconds}",
                "-f",
                str(script),
                "-l",
                f"--log-prefix={prefix}",
                "-h",
                db["HOST"],
                "-p",
                str(db["PORT"]),
                "-U",
                db["USER"],
                db["NAME"],
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
        latencies_ms = [
            int(line.split()[2]) / 1000
            for log in Path(logs).iterdir()
            for line in log.read_text().splitlines()
        ]
    return {
        "rps": len(latencies_ms) / seconds,
        "p50_ms": percentile(latencies_ms, 50),
        "p99_ms": percentile(latencies_ms, 99),
    }
