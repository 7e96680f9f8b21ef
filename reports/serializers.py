from rest_framework import serializers

from .models import DailyReport


class DailyReportRequestSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The day to report on (platform time zone); today at the latest.")


class DailyReportAcceptedSerializer(serializers.Serializer):
    report_id = serializers.IntegerField()
    task_id = serializers.CharField()
    status_url = serializers.CharField(
        help_text="Follow the generation here (progress: done of total steps)."
    )
    report_url = serializers.CharField()


class DailyReportSerializer(serializers.ModelSerializer):
    data = serializers.JSONField(  # type: ignore[assignment]  # a field named like .data
        help_text="by_status, revenue per currency, top_products, sellers, payment_failures; {} until ready."
    )

    class Meta:
        model = DailyReport
        fields = ("id", "date", "status", "requested_at", "generated_at", "data")
