"""Idempotency-Key, with Stripe's semantics.

A key is the customer's own and names one request: one operation with one set of
parameters. The first successful answer is stored with the key in the same transaction
as the request's effect, and every retry with that key and request gets the very same
answer (status and body) without doing anything again. The key with another operation
or other parameters is refused (409 idempotency_key_reused). Two concurrent requests
with one key take the same row lock: the second waits for the first and then replays
its answer, so there is one effect. A request that failed stores nothing, so its retry
runs again. Keys are remembered for IDEMPOTENCY_KEY_RETENTION_HOURS (at least 24).
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from orders.models import IdempotencyRecord
from services.exceptions import IdempotencyKeyReused


@dataclass(frozen=True)
class Answer:
    """What a request was answered: replayed as it is to every retry with its key."""

    status: int
    body: Any
    replayed: bool = False  # the stored answer to an earlier request with the same key


def request_fingerprint(parameters: Any) -> str:
    """SHA-256 of the request's parameters in a canonical JSON form."""
    canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_call(
    *, user: User, key: str, operation: str, fingerprint: str, perform: Callable[[], Answer]
) -> Answer:
    """`perform()` once for this user's `key`; the stored answer for every retry."""
    with transaction.atomic():
        record = _claim(user=user, key=key, operation=operation, fingerprint=fingerprint)
        if record.status is not None:  # a retry: the first request succeeded
            return Answer(record.status, record.body, replayed=True)
        answer = perform()
        record.status, record.body = answer.status, answer.body
        record.save(update_fields=["status", "body"])
        return answer


def _claim(*, user: User, key: str, operation: str, fingerprint: str) -> IdempotencyRecord:
    """This key's record, new or stored, locked for the caller's transaction.

    A concurrent request with the same key blocks on the row (or on the unique index)
    until the first one commits or rolls back. A record past its retention is forgotten
    here, so a fresh key costs one INSERT and nothing else.
    """
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)
    for _ in range(3):  # new; stored; stored but forgotten (deleted, then new)
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user, key=key, operation=operation, fingerprint=fingerprint
                )
        except IntegrityError:  # stored before, or by a concurrent request that committed
            record = IdempotencyRecord.objects.select_for_update().filter(user=user, key=key).first()
        if record is None:  # forgotten by a concurrent request meanwhile
            continue
        if record.created_at < cutoff:
            record.delete()
            continue
        if (record.operation, record.fingerprint) != (operation, fingerprint):
            raise IdempotencyKeyReused(field="idempotency_key")
        return record
    raise RuntimeError(f"could not claim Idempotency-Key {key!r}")


def idempotency_records_prune(*, older_than: timedelta) -> int:
    """Forget keys older than `older_than`; return how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
