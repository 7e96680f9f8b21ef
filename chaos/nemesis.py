"""The nemesis: a fault schedule drawn from the seed, then carried out against the stack.

The schedule is planned before the run (what, to which target, when, for how long), so a
seed names the same faults every time; only the processes' own timing differs between two
runs of one seed. Faults on one resource (a proxy, a process, a server) never overlap;
faults on different resources do, which is the point. Every fault heals before the
workload ends.
"""

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection

from chaos.stack import Stack
from testing import servers
from testing.poison import poison_messages, publish_raw

# kind: (what it targets, shortest and longest duration in seconds at full scale)
FAULT_KINDS: dict[str, tuple[str, float, float]] = {
    "broker-cut": ("broker", 5, 25),
    "broker-slow": ("broker", 10, 30),
    "broker-stall": ("broker", 5, 20),
    "database-cut": ("database", 2, 10),
    "database-slow": ("database", 10, 30),
    "database-stall": ("database", 2, 8),
    "database-kill-connections": ("process kind", 0, 0),
    "sigkill": ("process", 1, 8),
    "sigstop": ("process", 2, 20),
    "smtp-outage": ("smtp", 3, 15),
    "telegram-outage": ("telegram", 3, 15),
    "telegram-429": ("telegram", 3, 10),
    "poison": ("queue", 0, 0),
}
QUEUES = ("payments", "notifications", "default", "periodic")
SLOW_BROKER_SECONDS = (0.05, 0.3)  # added to every chunk passed on
SLOW_DATABASE_SECONDS = (0.005, 0.05)
RECOVERY_SECONDS = 10.0  # after a fault, before another on the same resource (room to restart)


@dataclass(frozen=True)
class Pace:
    """How long faults last (times their kind's range) and how far apart they start."""

    scale: float
    gap: tuple[float, float]


FULL_PACE = Pace(1.0, (5.0, 15.0))
SMOKE_SECONDS, SMOKE_PACE = 30.0, Pace(0.2, (0.7, 1.2))  # the smoke: every kind in half a minute


@dataclass
class Fault:
    number: int
    kind: str
    target: str
    at: float  # seconds after the workload started
    duration: float
    parameter: float = 0.0  # the added latency of a slow link
    started: float | None = None
    healed: float | None = None
    effect: str = ""  # what it did: backends terminated, poison message ids

    @property
    def resource(self) -> str:
        return self.target.removeprefix("kind:")


@dataclass
class Plan:
    seed: int
    seconds: float
    faults: list[Fault] = field(default_factory=list)
    started: float = 0.0  # time.monotonic() when the workload started: the faults' times count from it

    def during(self, moment: float, which: Callable[[Fault], bool], margin: float = 2.0) -> Fault | None:
        """A fault `which` accepts, under way at `moment` (time.monotonic) give or take `margin`."""
        for fault in self.faults:
            if which(fault) and fault.started is not None and fault.healed is not None:
                start, end = self.started + fault.started - margin, self.started + fault.healed + margin
                if start <= moment <= end:
                    return fault
        return None


def plan(*, seed: int, seconds: float, processes: dict[str, str], pace: Pace = FULL_PACE) -> Plan:
    """Faults from `seed` against `processes` (name: kind of process), one every `pace.gap`
    seconds, each lasting its kind's range times `pace.scale`, all over by 85 % of the run.

    First every kind of fault once, then each fault on processes against every kind of
    process once (a web process, a worker, a relay and beat each SIGKILLed, ...), each
    group in a random order; then random faults.
    """
    scale, gap = pace.scale, pace.gap
    rng = random.Random(seed)
    result = Plan(seed, seconds)
    busy_until: dict[str, float] = {}
    process_kinds = sorted(set(processes.values()))
    to_cover: list[tuple[str, str | None]] = [(kind, None) for kind in FAULT_KINDS]
    rng.shuffle(to_cover)
    on_processes = [
        (kind, process_kind)
        for kind, (target_of, _, _) in FAULT_KINDS.items()
        if target_of in ("process", "process kind")
        for process_kind in process_kinds
    ]
    rng.shuffle(on_processes)
    to_cover += on_processes

    def target_for(target_of: str, process_kind: str | None) -> str:
        kind_of_process = process_kind or rng.choice(process_kinds)
        if target_of == "process":
            return rng.choice(sorted(name for name, k in processes.items() if k == kind_of_process))
        if target_of == "process kind":
            return f"kind:{kind_of_process}"
        return rng.choice(QUEUES) if target_of == "queue" else target_of

    def draw(kind: str, process_kind: str | None) -> tuple[str, float]:
        target_of, shortest, longest = FAULT_KINDS[kind]
        return target_for(target_of, process_kind), round(rng.uniform(shortest, longest) * scale, 1)

    at, last = rng.uniform(*gap), seconds * 0.85
    while at < last:
        # The first fault still to cover whose resource is free now, else a random one.
        candidates = [*to_cover, *((rng.choice(sorted(FAULT_KINDS)), None) for _ in range(5))]
        for kind, process_kind in candidates:
            target, duration = draw(kind, process_kind)
            if not duration or (busy_until.get(target, 0.0) <= at and at + duration <= last):
                break
        else:
            at += rng.uniform(*gap)
            continue
        if (kind, process_kind) in to_cover:
            to_cover.remove((kind, process_kind))
        low, high = SLOW_BROKER_SECONDS if kind == "broker-slow" else SLOW_DATABASE_SECONDS
        parameter = round(rng.uniform(low, high), 3) if kind.endswith("-slow") else 0.0
        if duration:
            busy_until[target] = at + duration + max(3.0, RECOVERY_SECONDS * scale)
        result.faults.append(Fault(len(result.faults) + 1, kind, target, round(at, 1), duration, parameter))
        at += rng.uniform(*gap)
    return result


class Nemesis:
    """Carries out a plan against the stack, each fault in a thread of its own."""

    def __init__(self, stack: Stack, fault_plan: Plan) -> None:
        self.stack = stack
        self.plan = fault_plan
        self._threads: list[threading.Thread] = []
        self._started = 0.0

    def run(self, started: float, stop: threading.Event) -> None:
        """Start each fault at its time (from `started`, monotonic); return when all are healed."""
        self._started = self.plan.started = started
        for fault in self.plan.faults:
            if stop.wait(max(0.0, started + fault.at - time.monotonic())):
                break
            thread = threading.Thread(target=self._carry_out, args=(fault,), daemon=True)
            thread.start()
            self._threads.append(thread)
        for thread in self._threads:
            thread.join()

    def _now(self) -> float:
        return round(time.monotonic() - self._started, 1)

    def _carry_out(self, fault: Fault) -> None:
        fault.started = self._now()
        try:
            heal = self._apply(fault)
            if fault.duration:
                time.sleep(fault.duration)
            heal()
        except Exception as exc:  # e.g. a restart that timed out: heal_all tries again at the end
            fault.effect = f"{fault.effect} healing failed: {exc!r}"[:300].strip()
        fault.healed = self._now()

    def _apply(self, fault: Fault) -> Callable[[], object]:  # returns the healing action
        stack, kind = self.stack, fault.kind
        if kind.startswith(("broker-", "database-")) and kind != "database-kill-connections":
            proxy = stack.broker if kind.startswith("broker-") else stack.database
            if kind.endswith("-cut"):
                proxy.cut()
                return proxy.restore
            if kind.endswith("-slow"):
                proxy.slow(fault.parameter)
            else:
                proxy.stall()
            return proxy.flow
        if kind == "database-kill-connections":
            fault.effect = f"{_terminate_backends(f'chaos-{fault.resource}-')} connections terminated"
            return lambda: None
        if kind == "sigkill":
            service = stack.services[fault.target]
            service.process.kill()  # SIGKILL to its process group, then reaped
            return lambda: stack.restart(service)
        if kind == "sigstop":
            service = stack.services[fault.target]
            service.pause()
            return service.resume
        if kind == "smtp-outage":
            stack.smtp.down()
            return stack.smtp.up
        if kind.startswith("telegram-"):
            reply = (
                servers.ScriptedReply(502)
                if kind == "telegram-outage"
                else servers.ScriptedReply(
                    429,
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 2",
                        "parameters": {"retry_after": 2},
                    },
                )
            )
            stack.telegram.force(reply)
            return lambda: stack.telegram.force(None)
        if kind == "poison":
            tag = f"chaos-poison-{fault.number}"
            for headers, body, content_type in poison_messages(tag).values():
                publish_raw(fault.target, headers, body, content_type)
            fault.effect = f"5 messages tagged {tag}"
            return lambda: None
        raise ValueError(kind)

    def heal_all(self) -> None:
        """Whatever a fault left behind (a run stopped early): every link and process restored."""
        for proxy in (self.stack.broker, self.stack.database):
            proxy.flow()
            if not proxy.listening:
                proxy.restore()
        self.stack.smtp.up()
        self.stack.telegram.force(None)
        for service in self.stack.services.values():
            service.resume()
            if not service.process.alive():
                self.stack.restart(service)


def _terminate_backends(prefix: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE %s",
            [prefix + "%"],
        )
        return int(cursor.fetchone()[0])
