from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from .apis import csv_response
from .models import DailyReport, ReportStatus


@admin.register(DailyReport)
class DailyReportAdmin(admin.ModelAdmin):
    list_display = ("date", "status", "requested_at", "generated_at", "csv")
    list_filter = ("status",)
    readonly_fields = [field.name for field in DailyReport._meta.fields]
    date_hierarchy = "date"

    def get_urls(self) -> list[URLPattern]:
        download = path(
            "<int:pk>/csv/", self.admin_site.admin_view(self.download_csv), name="reports_dailyreport_csv"
        )
        return [download, *super().get_urls()]

    @admin.display(description="CSV")
    def csv(self, report: DailyReport) -> str:
        if report.status != ReportStatus.READY:
            return "-"
        return format_html(
            '<a href="{}">download</a>', reverse("admin:reports_dailyreport_csv", args=[report.pk])
        )

    def download_csv(self, request: HttpRequest, pk: int) -> HttpResponse:
        return csv_response(get_object_or_404(DailyReport, pk=pk, status=ReportStatus.READY))
