"""Fleet-wide send-rate limits, kept in PostgreSQL so every worker process shares them.

A sender reserves the earliest slot that respects both its chat's interval and the
bot's overall interval, then waits for it. If that slot is further away than a
worker should sleep, nothing is reserved and the caller is told when to come back.
"""

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import RateLimitSlot


class RateLimited(Exception):
    def __init__(self, retry_in: float) -> None:
        super().__init__(f"rate limited; next slot in {retry_in:.2f}s")
        self.retry_in = retry_in


def _locked_slot(key: str) -> RateLimitSlot:
    slot, _ = RateLimitSlot.objects.select_for_update().get_or_create(
        key=key, defaults={"next_free_at": timezone.now()}
    )
    return slot


def reserve(*, streams: list[tuple[str, float]], max_wait: float) -> float:
    """Reserve one send on every (key, min interval in seconds) stream; return seconds to wait.

    Raises RateLimited, reserving nothing, when the slot is more than `max_wait` away.
    """
    with transaction.atomic():
        # A fixed lock order keeps concurrent reservations free of deadlocks.
        slots = [(_locked_slot(key), interval) for key, interval in sorted(streams)]
        now = timezone.now()  # read after the locks: waiting for them takes time too
        at = max([now, *(slot.next_free_at for slot, _ in slots)])
        wait = (at - now).total_seconds()
        if wait > max_wait:
            raise RateLimited(wait)
        for slot, interval in slots:
            slot.next_free_at = at + timedelta(seconds=interval)
            slot.save(update_fields=["next_free_at"])
    return wait


def wait_for_slot(*, streams: list[tuple[str, float]], max_wait: float) -> None:
    wait = reserve(streams=streams, max_wait=max_wait)
    if wait > 0:
        time.sleep(wait)
