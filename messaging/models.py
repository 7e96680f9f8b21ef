from django.conf import settings
from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """A task to publish, written in the same transaction as the change that calls for it.

    Published at once after commit when the broker is up; otherwise the relay
    (`manage.py outbox_relay`) publishes it from `available_at` on. A message to run
    much later waits here (not in RabbitMQ) until shortly before its `eta`.
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    # Not unique: a retry or a replay is the same task (same id) published again.
    task_id = models.CharField(max_length=255, db_index=True)
    priority = models.PositiveSmallIntegerField(null=True, blank=True)
    retries = models.PositiveSmallIntegerField(default=0, help_text="Celery's retry count for this run.")
    eta = models.DateTimeField(null=True, blank=True, help_text="Run no earlier than this.")
    available_at = models.DateTimeField(default=timezone.now, help_text="From when the relay may publish it.")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Publishing attempts by the relay.")
    last_error = models.TextField(blank=True)
    request_id = models.CharField(
        max_length=128, blank=True, db_index=True, help_text="The request (or periodic run) that caused it."
    )

    class Meta:
        ordering = ("id",)
        indexes = [
            models.Index(
                fields=("available_at", "id"),
                name="outbox_due",
                condition=models.Q(published_at__isnull=True),
            ),
            models.Index(fields=("published_at",), name="outbox_published_at"),
        ]

    def __str__(self) -> str:
        state = "published" if self.published_at else "pending"
        return f"{self.task_name}[{self.task_id}] ({state})"


class DeadLetterSource(models.TextChoices):
    TASK = "task", "The task gave up"
    BROKER = "broker", "A worker rejected the message"


class DeadLetter(models.Model):
    """A message nothing will process any more, kept with the reason until staff replay it."""

    source = models.CharField(max_length=10, choices=DeadLetterSource.choices)
    task_name = models.CharField(max_length=200, blank=True)
    task_id = models.CharField(max_length=255, blank=True, db_index=True)
    queue = models.CharField(max_length=100, blank=True)
    kwargs = models.JSONField(
        null=True, blank=True, help_text="The task's keyword arguments; empty when undecodable."
    )
    retries = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField()
    detail = models.TextField(blank=True, help_text="Traceback, or the raw message as received.")
    request_id = models.CharField(max_length=128, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("replayed_at", "-created_at"), name="dead_letter_open")]

    def __str__(self) -> str:
        return f"{self.task_name or 'message'}[{self.task_id or '?'}]: {self.reason[:80]}"


class TrackedTask(models.Model):
    """A task whose id an answer handed out (a 202's status URL), and who may follow it.

    The task status endpoint answers only for these: to the user whose request caused
    the task and to staff (`requested_by` empty: staff only, e.g. a payment callback's).
    """

    task_id = models.CharField(max_length=255, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.task_id
