import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="outboxmessage", name="outbox_unpublished"),
        migrations.RemoveField(model_name="outboxmessage", name="countdown"),
        migrations.AddField(
            model_name="outboxmessage",
            name="retries",
            field=models.PositiveSmallIntegerField(default=0, help_text="Celery's retry count for this run."),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="eta",
            field=models.DateTimeField(blank=True, help_text="Run no earlier than this.", null=True),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="available_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, help_text="From when the relay may publish it."
            ),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="task_id",
            field=models.CharField(db_index=True, max_length=255),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="attempts",
            field=models.PositiveIntegerField(default=0, help_text="Publishing attempts by the relay."),
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("published_at__isnull", True)),
                fields=["available_at", "id"],
                name="outbox_due",
            ),
        ),
        migrations.CreateModel(
            name="DeadLetter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "source",
                    models.CharField(
                        choices=[("task", "The task gave up"), ("broker", "A worker rejected the message")],
                        max_length=10,
                    ),
                ),
                ("task_name", models.CharField(blank=True, max_length=200)),
                ("task_id", models.CharField(blank=True, db_index=True, max_length=255)),
                ("queue", models.CharField(blank=True, max_length=100)),
                (
                    "kwargs",
                    models.JSONField(
                        blank=True, help_text="The task's keyword arguments; empty when undecodable.", null=True
                    ),
                ),
                ("retries", models.PositiveSmallIntegerField(default=0)),
                ("reason", models.TextField()),
                ("detail", models.TextField(blank=True, help_text="Traceback, or the raw message as received.")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("replayed_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ("-created_at", "-id"),
                "indexes": [models.Index(fields=["replayed_at", "-created_at"], name="dead_letter_open")],
            },
        ),
    ]
