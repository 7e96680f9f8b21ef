"""Answers the API gives the same way everywhere: 202 for work a worker will do."""

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.response import Response

# How long a client should wait before it first asks how the task is doing.
POLL_AFTER_SECONDS = 1


def task_status_url(task_id: str) -> str:
    return reverse("task-status", kwargs={"task_id": task_id})


def accepted(data: Any, *, task_id: str) -> Response:
    """202: the work is queued; `Location` is where to follow it, `Retry-After` when to look."""
    return Response(
        data,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": task_status_url(task_id), "Retry-After": str(POLL_AFTER_SECONDS)},
    )


ACCEPTED_HEADERS = [
    OpenApiParameter(
        "Location",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[202],
        description="The task's status URL (GET it with the same credentials).",
    ),
    OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[202],
        description="Seconds to wait before asking for the task's status.",
    ),
]
