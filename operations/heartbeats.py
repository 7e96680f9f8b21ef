"""Heartbeats of the relay and of beat: written as they work, read by their probes and by readiness.

A beat is written at most every HEARTBEAT_INTERVAL_SECONDS per process, so the
relay's one-second loop costs the database one UPSERT every few seconds.
"""

import socket
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from operations.models import Heartbeat

RELAY = "relay"
BEAT = "beat"

_last_written: dict[tuple[str, bool], float] = {}


def heartbeat_record(role: str, *, active: bool = True) -> None:
    """Say this process is alive (and, for beat, whether it schedules). Never raises."""
    key = (role, active)
    if time.monotonic() - _last_written.get(key, -1e9) < settings.HEARTBEAT_INTERVAL_SECONDS:
        return
    try:
        Heartbeat.objects.update_or_create(
            role=role, hostname=socket.gethostname(), defaults={"active": active, "seen_at": timezone.now()}
        )
    except DatabaseError:
        return  # the database is down: the probe will see the silence, which is the truth
    _last_written[key] = time.monotonic()


def heartbeat_age(role: str, *, this_host: bool = False, active: bool | None = None) -> timedelta | None:
    """How long ago the freshest matching process beat; None if none ever did."""
    beats = Heartbeat.objects.filter(role=role)
    if this_host:
        beats = beats.filter(hostname=socket.gethostname())
    if active is not None:
        beats = beats.filter(active=active)
    latest = beats.order_by("-seen_at").values_list("seen_at", flat=True).first()
    return None if latest is None else timezone.now() - latest
