"""`make bench`: the platform measured against references run side by side, in one invocation.

Each comparison runs its variants alternately (A, B, A, B, ...) so that drift of the
machine cancels out, and reports the median of the rounds. Everything runs on a
database and a RabbitMQ vhost of its own (bench/settings.py); the harness starts
what it measures: gunicorn (gunicorn.conf.py's sync workers, pinned to CPU 0), the outbox relay,
Celery workers, wrk (pinned to CPU 1), pgbench, an SMTP server and a Telegram Bot
API server. Results: bench/REPORT.md and bench/results.json (or --out DIR).

    python -m bench.run            # the full run, under 10 minutes
    python -m bench.run --smoke    # seconds: proves the harness works, measures nothing
"""

import argparse
import time
from dataclasses import asdict
from pathlib import Path

from bench import setup  # first: Django set up with the bench settings

# isort: split
from bench.report import FULL, SMOKE, Report, machine, write
from bench.setup import ROOT, fresh_database, open_shop
from bench.web import asynchronous_vs_inline, bare_request_cost, order_create_throughput
from bench.workers import callback_latency, commit_to_start, memory, worker_throughput
from testing.fresh import fresh_vhost

MEASUREMENTS = (
    bare_request_cost,
    order_create_throughput,
    asynchronous_vs_inline,
    commit_to_start,
    worker_throughput,
    callback_latency,
    memory,
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--smoke", action="store_true", help="a few seconds: check the harness, measure nothing"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench", help="where REPORT.md and results.json go"
    )
    args = parser.parse_args()
    plan = SMOKE if args.smoke else FULL
    if args.smoke:
        setup.WEB_WORKERS = 1  # it measures nothing: the web servers start faster
    started = time.monotonic()
    fresh_database()
    fresh_vhost()
    shop = open_shop()
    report = Report(machine=machine(), plan=asdict(plan))
    for measure in MEASUREMENTS:
        measure(report, plan, shop)
    write(report, args.out)
    print(f"wrote {args.out / 'REPORT.md'} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
