from django.db import models


class OutboxMessage(models.Model):
    """A task to publish, written in the same transaction as the change that calls for it.

    Published at once after commit when the broker is up; otherwise the relay
    (`manage.py outbox_relay`) publishes it when the broker is back.
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    task_id = models.CharField(max_length=255, unique=True)
    priority = models.PositiveSmallIntegerField(null=True, blank=True)
    countdown = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("id",)
        indexes = [
            models.Index(
                fields=("id",), name="outbox_unpublished", condition=models.Q(published_at__isnull=True)
            ),
            models.Index(fields=("published_at",), name="outbox_published_at"),
        ]

    def __str__(self) -> str:
        state = "published" if self.published_at else "pending"
        return f"{self.task_name}[{self.task_id}] ({state})"
