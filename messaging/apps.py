from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Everything between "a service wants a task run" and "a worker ran it".

    The Django label stays `outbox`, the app's first name: its tables and migrations keep
    their names, so moving the code here changed nothing in any database.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"
    label = "outbox"
    verbose_name = "Transactional outbox"

    def ready(self) -> None:
        from messaging import signals  # noqa: F401  (connects the Celery signal receivers)
