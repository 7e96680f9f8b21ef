"""A raw WSGI application, no Django: gunicorn's own floor in the benchmarks."""

from collections.abc import Callable, Iterable

BODY = b'{"status":"ok"}'


def hello(environ: dict, start_response: Callable) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
