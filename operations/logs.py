"""Log lines as structured events, from every logger (ours, Django's, Celery's, gunicorn's).

`LOG_FORMAT=json` writes one JSON object a line (the compose default); anything else
writes readable lines for a terminal. Either way each line has the time (UTC, ISO 8601),
level, logger and event, and the context bound for the request or task it belongs to:
`request_id`, and inside tasks `task_id` and `task_name` (operations/tracing.py binds
them; django-structlog logs each request and task start and end).

No secret is written: a value under a key that names one (password, token, secret,
authorization, signature, cookie, DSN) is replaced, and so is anything shaped like a JWT
anywhere in a line, tracebacks included.
"""

import re
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

SECRET_KEY_NAMES = re.compile(
    r"pass(word)?|token|secret|authori[sz]ation|signature|cookie|dsn|api_?key", re.I
)
JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}")
REDACTED = "[redacted]"

_CONTEXT: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
]


def redact_secrets(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    for key, value in event_dict.items():
        if SECRET_KEY_NAMES.search(key):
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = JWT.sub(REDACTED, value)
    return event_dict


def logging_config(*, log_format: str, level: str, access_log: bool = False) -> dict[str, Any]:
    """Django's LOGGING: every record, structlog's or the standard library's, through one formatter.

    gunicorn's access lines only with `access_log` (GUNICORN_ACCESSLOG set): django-structlog's
    request_finished says as much, with the request id.
    """
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [*_CONTEXT, structlog.stdlib.ExtraAdder()],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    redact_secrets,
                    renderer,
                ],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # gunicorn's loggers have handlers of their own; theirs go through ours instead.
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {
                "handlers": ["console"],
                "level": "INFO" if access_log else "WARNING",
                "propagate": False,
            },
            "pika": {"level": "WARNING"},
            # Lifecycle lines ("… ready.", "beat lock acquired") whatever LOG_LEVEL says:
            # operators and the process harness (testing/servers.py) wait for them.
            "celery.apps.worker": {"level": "INFO"},
            "pro_platform.beat": {"level": "INFO"},
        },
    }


def configure_structlog() -> None:
    """structlog's own loggers hand their events to the standard library's, and so to the formatter."""
    structlog.configure(
        processors=[
            *_CONTEXT,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
