from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from operations.dashboard import task_dashboard
from operations.health import ReadinessView, live
from operations.metrics import metrics
from operations.tracing import REQUEST_ID_PATTERN

from .apis import RequestTraceApi, SchemaApi, TaskStatusApi

api_v1: list[URLPattern | URLResolver] = [
    path("", include("accounts.urls")),
    path("", include("orders.urls")),
    path("", include("notifications.urls")),
    path("", include("reports.urls")),
    path("tasks/<uuid:task_id>/", TaskStatusApi.as_view(), name="task-status"),
    re_path(
        rf"^requests/(?P<request_id>{REQUEST_ID_PATTERN})/$", RequestTraceApi.as_view(), name="request-trace"
    ),
]

urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(task_dashboard), name="task-dashboard"),
    path("admin/", admin.site.urls),
    path("health/live", live, name="health-live"),
    path("health/ready", ReadinessView.as_view(), name="health-ready"),
    path("metrics", metrics, name="metrics"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaApi.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler400 = "pro_platform.exceptions.bad_request"
handler403 = "pro_platform.exceptions.permission_denied"
handler404 = "pro_platform.exceptions.not_found"
handler500 = "pro_platform.exceptions.server_error"
