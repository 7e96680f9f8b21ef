"""gunicorn settings for the web container and benchmarks; each value can be set from the environment."""

import multiprocessing
import os

from operations.logs import logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Off by default: django-structlog's request_finished line says as much, with the request id.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
# gunicorn's own lines in the platform's format (JSON with LOG_FORMAT=json).
logconfig_dict = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "console"),
    level=os.environ.get("LOG_LEVEL", "INFO"),
    access_log=accesslog is not None,
)
