"""Endpoints about the platform's machinery rather than a business domain."""

from uuid import UUID

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from pro_platform.exceptions import ServiceUnavailable, error_response
from pro_platform.openapi import error_responses
from services.exceptions import NotFound
from services.selectors.tasks import TaskNotFound, task_status_get


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class TaskStatusOutputSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"],
        help_text="Celery's task state: PENDING while queued, STARTED, RETRY, SUCCESS or FAILURE.",
    )
    result = serializers.JSONField(allow_null=True, help_text="The return value, once SUCCESS.")
    error = serializers.CharField(allow_null=True, help_text="The exception, on RETRY or FAILURE.")
    date_done = serializers.DateTimeField(allow_null=True)
    progress = ProgressSerializer(
        allow_null=True, help_text="While STARTED, a long task's own progress (reports), else null."
    )


class TaskStatusApi(APIView):
    @extend_schema(
        responses={
            200: TaskStatusOutputSerializer,
            **error_responses(not_found=[NotFound.code, TaskNotFound.code]),
        },
        tags=["tasks"],
    )
    def get(self, request: Request, task_id: UUID) -> Response:
        """Follow an asynchronous task.

        The state of a task whose id (and status URL) an earlier answer of yours gave, in
        Celery's terms, with its result, error or progress. It answers the user whose request
        caused the task, and staff (any task); any other id is 404 task_not_found.
        """
        status = task_status_get(task_id=str(task_id), viewer=request_user(request))
        return Response(TaskStatusOutputSerializer(status).data)


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database readiness for load balancers and compose healthchecks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return error_response(503, ServiceUnavailable.default_code, "The database is unreachable.")
    return JsonResponse({"status": "ok"})
