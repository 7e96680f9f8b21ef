"""Endpoints about the platform's machinery rather than a business domain."""

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pro_platform.exceptions import ServiceUnavailable, error_response
from services.selectors.tasks import task_status_get


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class TaskStatusOutputSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"],
        help_text="Celery's task state. An id the backend has never seen is PENDING.",
    )
    result = serializers.JSONField(allow_null=True, help_text="The return value, once SUCCESS.")
    error = serializers.CharField(allow_null=True, help_text="The exception, on RETRY or FAILURE.")
    date_done = serializers.DateTimeField(allow_null=True)
    progress = ProgressSerializer(
        allow_null=True, help_text="While STARTED, a long task's own progress (reports), else null."
    )


class TaskStatusApi(APIView):
    @extend_schema(responses={200: TaskStatusOutputSerializer}, tags=["tasks"])
    def get(self, request: Request, task_id: str) -> Response:
        """The state of an asynchronous task, by the id an earlier answer gave."""
        return Response(TaskStatusOutputSerializer(task_status_get(task_id=task_id)).data)


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database readiness for load balancers and compose healthchecks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return error_response(503, ServiceUnavailable.default_code, "The database is unreachable.")
    return JsonResponse({"status": "ok"})
