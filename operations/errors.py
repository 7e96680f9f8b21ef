"""Error tracking: Sentry, with its Django and Celery integrations, only when SENTRY_DSN is set.

Each event is tagged with the request id of the request or task it happened in
(operations/tracing.py), so an error in Sentry leads to every log line and task of it.
Sentry's own rules keep request bodies, cookies and user data out (send_default_pii off).
"""

from typing import Any

from operations.tracing import current_request_id


def tag_request_id(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    request_id = current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def error_tracking_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    if not dsn:
        return  # nothing of Sentry is even imported: settings load on every process start
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        before_send=tag_request_id,  # type: ignore[arg-type]
    )
