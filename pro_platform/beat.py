"""celery beat's scheduler: django-celery-beat's DatabaseScheduler, run by one beat at a time.

Two beats would publish every periodic task twice. Each beat takes a PostgreSQL
session advisory lock on a connection of its own before it schedules anything;
a second beat waits for the lock and takes over when the first one dies (its
session ends, so the lock goes with it). The lock is checked on every tick: a beat
whose lock connection broke stops scheduling until it holds the lock again.

Default schedules are rows created once by a data migration
(pro_platform/migrations), which staff then change in the admin; the scheduler
itself installs no entries, so a restart or a deploy never overwrites them.
"""

import logging
import time
from contextlib import suppress
from typing import Any

from django.db import connections
from django_celery_beat.schedulers import DatabaseScheduler

from operations.heartbeats import BEAT, heartbeat_record

logger = logging.getLogger(__name__)

BEAT_LOCK = 0x70726F5F62656174  # "pro_beat"
WAIT_SECONDS = 1.0


class BeatLock:
    """A session-level advisory lock on a dedicated connection (Django may close its own)."""

    def __init__(self) -> None:
        self._connection: Any = None

    def acquire(self) -> None:
        """Block until this process holds the lock."""
        said = None
        while (taken := self._try()) is not True:
            if taken is False and said is not False:
                logger.info("another beat is scheduling; waiting to take over")
            said = taken
            heartbeat_record(BEAT, active=False)  # a standby is doing its job too
            time.sleep(WAIT_SECONDS)
        logger.info("beat lock acquired: this beat schedules the periodic tasks")

    def held(self) -> bool:
        try:
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except Exception:  # the connection (and with it the lock) is gone
            self.release()
            return False

    def release(self) -> None:
        if self._connection is not None:
            with suppress(Exception):  # a broken connection may fail to close; it is gone either way
                self._connection.close()
            self._connection = None

    def _try(self) -> bool | None:
        """True: taken; False: another beat holds it; None: the database is unreachable."""
        try:
            if self._connection is None:
                wrapper = connections["default"]
                self._connection = wrapper.get_new_connection(wrapper.get_connection_params())
                self._connection.autocommit = True
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK])
                return bool(cursor.fetchone()[0])
        except Exception as exc:  # database unreachable: keep waiting
            logger.warning("cannot reach the database for the beat lock: %s", exc)
            self.release()
            return None


class SingleBeatScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lock = BeatLock()
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        # Not in __init__: beat also makes a lazy scheduler just to print its banner.
        self.lock.acquire()
        super().setup_schedule()

    def install_default_entries(self, data: Any) -> None:
        """None: the data migration made them, and staff may have changed them since."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.lock.held():
            logger.error("beat lock lost (database connection broken); scheduling paused")
            self.lock.acquire()
        heartbeat_record(BEAT, active=True)  # readiness and `manage.py probe beat` read it
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        super().close()
        self.lock.release()
