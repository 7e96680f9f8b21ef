from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics
from rest_framework.permissions import IsAdminUser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from pro_platform.openapi import error_responses
from pro_platform.responses import ACCEPTED_HEADERS, accepted, task_status_url
from services.exceptions import NotFound
from services.reports import ReportDateInFuture, daily_report_csv, daily_report_request
from services.selectors.reports import ReportNotReady, daily_report_get, daily_report_ready

from .models import DailyReport
from .serializers import DailyReportAcceptedSerializer, DailyReportRequestSerializer, DailyReportSerializer


@extend_schema(tags=["reports"])
@extend_validation_errors([ReportDateInFuture.code], field_name="date", methods=["post"])
class DailyReportRequestApi(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="reports_request",
        request=DailyReportRequestSerializer,
        parameters=ACCEPTED_HEADERS,
        responses={202: DailyReportAcceptedSerializer},
    )
    def post(self, request: Request) -> Response:
        """Generate a day's report (staff).

        A worker computes (again) the report of a past day or today and e-mails it to staff;
        follow it at `Location` (`status_url`), read it at `report_url` when done.
        """
        serializer = DailyReportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = daily_report_request(
            day=serializer.validated_data["date"], requested_by=request_user(request)
        )
        body = {
            "report_id": report.pk,
            "task_id": report.task_id,
            "status_url": task_status_url(report.task_id),
            "report_url": reverse("daily-report", kwargs={"pk": report.pk}),
        }
        return accepted(DailyReportAcceptedSerializer(body).data, task_id=report.task_id)


@extend_schema(tags=["reports"])
class DailyReportDetailApi(generics.RetrieveAPIView):
    """Show a daily report (staff).

    Orders by status, revenue per currency, top products, sellers and payment failures;
    `status` is pending and `data` empty until the worker is done.
    """

    permission_classes = (IsAdminUser,)
    serializer_class = DailyReportSerializer

    def get_object(self) -> DailyReport:
        return daily_report_get(report_id=self.kwargs["pk"])

    @extend_schema(responses={200: DailyReportSerializer, **error_responses(not_found=[NotFound.code])})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class CsvRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; the view writes the CSV itself."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        return data


@extend_schema(tags=["reports"])
class DailyReportCsvApi(APIView):
    permission_classes = (IsAdminUser,)
    renderer_classes = (JSONRenderer, CsvRenderer)

    def handle_exception(self, exc: Exception) -> Response:
        # Errors keep the API's JSON shape, even for a client that asked for CSV.
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="reports_csv",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="section,name,currency,orders,quantity,amount"
            ),
            **error_responses(not_found=[NotFound.code], conflict=[ReportNotReady.code]),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        """Download a daily report as CSV (staff).

        One row per figure: section, name, currency, orders, quantity, amount
        (409 report_not_ready until the worker is done).
        """
        return csv_response(daily_report_ready(report_id=pk))


def csv_response(report: DailyReport) -> HttpResponse:
    response = HttpResponse(daily_report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="daily-report-{report.date}.csv"'
    return response
