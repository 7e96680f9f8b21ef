"""Endpoints about the platform's machinery rather than a business domain."""

import threading
from typing import Any
from uuid import UUID

from django.conf import settings
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from operations.tracing import SANE_REQUEST_ID
from pro_platform.openapi import error_responses
from services.exceptions import NotFound
from services.selectors.tasks import TaskNotFound, task_status_get
from services.selectors.traces import RequestNotFound, request_trace_get

# Celery's task states (drf-spectacular names them TaskStateEnum: settings' ENUM_NAME_OVERRIDES).
TASK_STATES = ["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"]


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class TaskStatusOutputSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    state = serializers.ChoiceField(
        choices=TASK_STATES,
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


class TracedTaskSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    task_name = serializers.CharField()
    queue = serializers.CharField()
    state = serializers.ChoiceField(
        choices=TASK_STATES,
        help_text="Its last state: PENDING until a worker starts it.",
    )
    retries = serializers.IntegerField(help_text="Retries so far.")
    enqueued_at = serializers.DateTimeField(allow_null=True, help_text="When the request enqueued it.")
    published_at = serializers.DateTimeField(allow_null=True, help_text="Last handed to RabbitMQ.")
    date_done = serializers.DateTimeField(allow_null=True, help_text="When it succeeded or failed for good.")
    error = serializers.CharField(allow_null=True, help_text="Why it failed (or is being retried).")
    dead_letter_id = serializers.IntegerField(allow_null=True, help_text="Its dead letter, if it gave up.")


class RequestTraceOutputSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    tasks = TracedTaskSerializer(many=True)


class RequestTraceApi(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        parameters=[
            OpenApiParameter("request_id", str, OpenApiParameter.PATH, pattern=SANE_REQUEST_ID.pattern)
        ],
        responses={
            200: RequestTraceOutputSerializer,
            **error_responses(not_found=[NotFound.code, RequestNotFound.code]),
        },
        tags=["operations"],
    )
    def get(self, request: Request, request_id: str) -> Response:
        """What a request caused (staff).

        Every task enqueued by the request whose `X-Request-ID` this is (answers carry it),
        by the tasks it caused in turn, and by retries and replays of them, with each task's
        state, error and dead letter. A periodic run has an id of its own, found in the
        worker's log lines. Known for OUTBOX_RETENTION_HOURS (7 days by default).
        """
        tasks = request_trace_get(request_id=request_id)
        return Response(RequestTraceOutputSerializer({"request_id": request_id, "tasks": tasks}).data)


class SchemaApi(SpectacularAPIView):
    """The OpenAPI schema, generated once per process and language, one generation at a time.

    drf-spectacular's generator keeps state in module globals and is not thread-safe: gunicorn's
    threads generating it together answered 500 now and then (tfranzel/drf-spectacular#1123,
    #1368). Every client gets the same schema (SERVE_PUBLIC), which changes only with the code,
    so a process keeps what it generated: one per language Django knows (`?lang=`; any other
    gets the default), so no query can make it keep more. The API is versioned by its path
    (/api/v1/): `?version=` is not read.
    """

    _generating = threading.Lock()
    _generated: dict[str, Any] = {}

    def _get_schema_response(self, request: Request) -> Response:
        try:
            language = translation.get_supported_language_variant(translation.get_language())
        except LookupError:
            language = settings.LANGUAGE_CODE
        with self._generating, translation.override(language):
            if language not in self._generated:
                self._generated[language] = super()._get_schema_response(request).data
        filename = self._get_filename(request, version=None)
        return Response(
            self._generated[language], headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )

    def _get_version_parameter(self, request: Request) -> None:
        return None
