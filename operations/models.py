from django.db import models


class Heartbeat(models.Model):
    """The last sign of life of a relay or beat process, for its probe and for readiness.

    One row per role and host. A beat that schedules is `active`; a standby beat waiting
    for the lock beats too, inactive. Workers need no row: they answer a ping over the broker.
    """

    role = models.CharField(max_length=20)
    hostname = models.CharField(max_length=255)
    active = models.BooleanField(default=True)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=("role", "hostname"), name="one_heartbeat_per_process")]

    def __str__(self) -> str:
        return f"{self.role}@{self.hostname}"
