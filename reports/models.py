from django.db import models


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Being generated"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class DailyReport(models.Model):
    """One day's orders summed up for staff: by status, revenue, top products, sellers, failures."""

    date = models.DateField(unique=True, help_text="The day reported on, in the platform's time zone.")
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    data = models.JSONField(default=dict, blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-date",)

    def __str__(self) -> str:
        return f"daily report {self.date} ({self.status})"
