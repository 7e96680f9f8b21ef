"""The plan of a run, its rows and report (alternated rounds, medians), and REPORT.md."""

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import setup  # first: Django set up with the bench settings

# isort: split
import celery
import django
from django.db import connection


@dataclass(frozen=True)
class Plan:
    seconds: int  # per load round
    rounds: int  # of each variant, alternated
    concurrencies: tuple[int, ...]
    tasks: int  # per worker-throughput round
    backlog: int  # notifications waiting while callbacks are measured
    callbacks: int
    probes: int


FULL = Plan(
    seconds=4, rounds=3, concurrencies=(1, 8, 32), tasks=600, backlog=10_000, callbacks=25, probes=300
)
SMOKE = Plan(seconds=1, rounds=1, concurrencies=(8,), tasks=20, backlog=50, callbacks=2, probes=10)


@dataclass
class Row:
    key: str  # stable across runs: what results.json files the figure under
    metric: str
    ours: float
    reference: float
    unit: str
    reference_name: str
    target: str = ""
    passed: bool | None = None

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("nan")


@dataclass
class Report:
    machine: dict[str, Any]
    plan: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row, check: Callable[[float], bool] | None = None) -> Row:
        assert all(r.key != row.key for r in self.rows), f"two figures named {row.key}"
        if check is not None:
            row.passed = check(row.ratio)
        self.rows.append(row)
        print(
            f"  {row.metric}: {row.ours:.3f} vs {row.reference:.3f} {row.unit} (x{row.ratio:.2f})", flush=True
        )
        return row


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")


def alternate(
    variants: dict[str, Callable[[], dict[str, float]]], rounds: int
) -> dict[str, dict[str, float]]:
    """Run the variants A, B, A, B, ...; return each one's median of every measured figure."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            results[name].append(run())
    return {name: {k: median([r[k] for r in runs]) for k in runs[0]} for name, runs in results.items()}


# --- The report ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    def version(*argv: str) -> str:
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
            return (result.stdout or result.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "not found"

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "celery": celery.__version__,
        "postgresql": postgres,
        "rabbitmq": version("rabbitmqctl", "version"),
        "wrk": version("wrk", "--version"),
        "pgbench": version("pgbench", "--version"),
        "gunicorn": f"{setup.WEB_WORKERS} sync workers on CPU 0; wrk on CPU 1, with PostgreSQL, RabbitMQ "
        "and the outbox relay while the web server is measured",
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def write(report: Report, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    figures = {r.key: {**asdict(r), "ratio": r.ratio} for r in report.rows}
    for figure in figures.values():
        del figure["key"]
    (out / "results.json").write_text(
        json.dumps(
            {"machine": report.machine, "plan": report.plan, "figures": figures, "raw": report.raw}, indent=2
        )
    )
    m, plan = report.machine, report.plan
    lines = [
        "# Benchmark report",
        "",
        f"Run with `make bench` on {m['when']}. Machine: {m['cpus']} CPUs ({m['cpu_model']}), "
        f"{m['memory_gib']} GiB; Python {m['python']}, Django {m['django']}, Celery {m['celery']}, "
        f"PostgreSQL {m['postgresql']}, RabbitMQ {m['rabbitmq']}, {m['wrk']}; gunicorn {m['gunicorn']}.",
        "",
        f"Each figure is the median of {plan['rounds']} rounds of {plan['seconds']} s, the variants "
        "alternated (A, B, A, B) in the same invocation. Ratio = ours / reference; targets apply to it.",
        "",
        "| metric | ours | reference | ratio | target | pass |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in report.rows:
        verdict = {True: "pass", False: "**fail**", None: ""}[row.passed]
        cells = (
            row.metric,
            f"{row.ours:.2f} {row.unit}",
            f"{row.reference:.2f} {row.unit} ({row.reference_name})",
            f"{row.ratio:.2f}",
            row.target,
            verdict,
        )
        lines.append("| " + " | ".join(cells) + " |")
    (out / "REPORT.md").write_text("\n".join(lines) + "\n")
