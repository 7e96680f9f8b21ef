from django.urls import path

from .apis import DailyReportCsvApi, DailyReportDetailApi, DailyReportRequestApi

urlpatterns = [
    path("reports/daily/", DailyReportRequestApi.as_view(), name="daily-report-request"),
    path("reports/<int:pk>/", DailyReportDetailApi.as_view(), name="daily-report"),
    path("reports/<int:pk>/csv/", DailyReportCsvApi.as_view(), name="daily-report-csv"),
]
