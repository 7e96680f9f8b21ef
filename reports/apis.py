from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pro_platform.exceptions import ConflictErrorResponseSerializer
from services.reports import ReportDateInFuture, daily_report_csv, daily_report_request
from services.selectors.reports import daily_report_get, daily_report_ready

from .models import DailyReport
from .serializers import DailyReportAcceptedSerializer, DailyReportRequestSerializer, DailyReportSerializer


@extend_schema(tags=["reports"])
@extend_validation_errors([ReportDateInFuture.code], field_name="date", methods=["post"])
class DailyReportRequestApi(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(request=DailyReportRequestSerializer, responses={202: DailyReportAcceptedSerializer})
    def post(self, request: Request) -> Response:
        """Staff: have a day's report generated (again) by a worker; follow it at `status_url`."""
        serializer = DailyReportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = daily_report_request(day=serializer.validated_data["date"])
        body = {
            "report_id": report.pk,
            "task_id": report.task_id,
            "status_url": reverse("task-status", kwargs={"task_id": report.task_id}),
            "report_url": reverse("daily-report", kwargs={"pk": report.pk}),
        }
        return Response(DailyReportAcceptedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["reports"])
class DailyReportDetailApi(generics.RetrieveAPIView):
    """Staff: a report and its data (`status` pending until the worker is done)."""

    permission_classes = (IsAdminUser,)
    serializer_class = DailyReportSerializer

    def get_object(self) -> DailyReport:
        return daily_report_get(report_id=self.kwargs["pk"])


@extend_schema(tags=["reports"])
class DailyReportCsvApi(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="section,name,currency,orders,quantity,amount"
            ),
            409: OpenApiResponse(ConflictErrorResponseSerializer, description="Not generated yet."),
        }
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        """Staff: the report as a CSV file."""
        return csv_response(daily_report_ready(report_id=pk))


def csv_response(report: DailyReport) -> HttpResponse:
    response = HttpResponse(daily_report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="daily-report-{report.date}.csv"'
    return response
