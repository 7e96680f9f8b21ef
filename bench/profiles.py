"""The two measurements behind bench/FINDINGS.md's split of the cost of publishing.

    .venv/bin/python -m bench.profiles publish-cost   # the relay's CPU for one order's messages
    .venv/bin/python -m bench.profiles web-threads    # CPU per order of each gunicorn thread

Both use the bench database and vhost (bench/settings.py) and start afresh.
"""

import argparse
import os
import time
from functools import partial
from pathlib import Path

from django.db import transaction

from bench import setup  # first: it sets Django up with the bench settings

# isort: split
from bench import load
from messaging import outbox
from messaging.relay import outbox_relay_batch
from messaging.routing import Tasks
from testing import fresh, servers

NOTIFICATION_TASK = Tasks.SEND_NOTIFICATION


def publish_cost(passes: int = 400) -> None:
    """The relay's CPU for one order's two messages: claim, publish with confirms, mark; per pass."""
    spent = 0.0
    for _ in range(passes):
        with transaction.atomic():
            outbox.enqueue_many([outbox.TaskCall(NOTIFICATION_TASK, {"notification_id": n}) for n in (1, 2)])
        started = time.process_time()
        assert outbox_relay_batch() == 2
        spent += time.process_time() - started
    print(f"relay CPU per batch of 2 messages: {spent / passes * 1000:.2f} ms")
    setup.purge("notifications")


def web_threads(shop: setup.Shop, seconds: int = 6, clients: int = 8) -> None:
    """POST /orders/ under wrk with publishing on (a relay running on the other CPU), then off;
    CPU per order of every thread of the gunicorn workers."""
    for name, env in (("publishing", {}), ("publishing off", {"TASK_PUBLISHING": "off"})):
        server = setup.web_server(**env)
        post = partial(
            load.wrk, method="POST", body=shop.order_body(), token=shop.token, connections_=clients
        )
        with setup.running(server, setup.relay()), load.web_cpu_to_itself():
            post(server.url + setup.ORDERS, seconds=2)  # warm-up
            before = _thread_cpu(server)
            result = post(server.url + setup.ORDERS, seconds=seconds)
            after = _thread_cpu(server)
        orders = result["rps"] * seconds
        per_thread = sorted(((after[t] - before.get(t, 0)) / orders * 1000 for t in after), reverse=True)
        print(
            f"{name}: {result['rps']:.1f} orders/s; CPU ms per order by thread: "
            + ", ".join(f"{ms:.2f}" for ms in per_thread if ms >= 0.01)
            + f"; total {sum(per_thread):.2f}"
        )
        setup.purge("notifications")


def _thread_cpu(server: servers.WebServer) -> dict[str, float]:
    """CPU seconds of every thread of the server's worker processes."""
    assert server.process is not None
    master = server.process.pid
    cpu = {}
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        for thread in Path(f"/proc/{pid}/task").iterdir():
            fields = (thread / "stat").read_text().rsplit(")", 1)[1].split()
            cpu[f"{pid}/{thread.name}"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("measurement", choices=("publish-cost", "web-threads"))
    args = parser.parse_args()
    setup.fresh_database()
    fresh.fresh_vhost()
    shop = setup.open_shop()
    if args.measurement == "publish-cost":
        publish_cost()
    else:
        web_threads(shop)


if __name__ == "__main__":
    main()
