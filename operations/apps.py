from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What operators see: request ids through logs and tasks, structured logs, health and
    readiness, process probes, Prometheus metrics and error tracking."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from operations import metrics, tracing  # noqa: F401  (connect their signal receivers)
