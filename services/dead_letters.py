"""Staff replay dead letters: the task is published again through the outbox, with a fresh
retry budget. (How messages become dead letters: messaging/dead_letters.py.)"""

from django.db import transaction
from django.utils import timezone

from messaging.models import DeadLetter
from messaging.outbox import enqueue
from services.exceptions import Conflict


class DeadLetterAlreadyReplayed(Conflict):
    code = "dead_letter_replayed"
    message = "This dead letter was replayed already."


class DeadLetterNotReplayable(Conflict):
    code = "dead_letter_not_replayable"
    message = "This message is not a task that can be published again (no task name or arguments)."


def dead_letter_replay(*, dead_letter_id: int) -> str:
    """Publish a dead letter's task again (through the outbox, fresh retries); return its task id."""
    with transaction.atomic():
        dead_letter = DeadLetter.objects.select_for_update().get(pk=dead_letter_id)
        if dead_letter.replayed_at is not None:
            raise DeadLetterAlreadyReplayed()
        if not dead_letter.task_name or dead_letter.kwargs is None:
            raise DeadLetterNotReplayable()
        task_id = enqueue(
            dead_letter.task_name,
            kwargs=dead_letter.kwargs,
            task_id=dead_letter.task_id or None,
            request_id=dead_letter.request_id,  # a replay stays part of what the request caused
        )
        dead_letter.replayed_at = timezone.now()
        dead_letter.save(update_fields=["replayed_at"])
    return task_id
