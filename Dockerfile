# syntax=docker/dockerfile:1
# Two stages: the builder exports the locked dependencies (poetry.lock) and installs them
# into a virtualenv; the runtime image gets that virtualenv and the code, nothing else
# (no Poetry, no compiler), and runs as an unprivileged user.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install "poetry==2.5.1" "poetry-plugin-export==1.10.1"
WORKDIR /build
COPY pyproject.toml poetry.lock ./
# The lock's exact versions and hashes; the main group only (no test or lint tools).
RUN poetry export --only main --format requirements.txt --output requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.txt

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/var/run/pro-platform-metrics
RUN useradd --system --uid 10001 --user-group --create-home app \
    && install -d -o app -g app /var/run/pro-platform-metrics
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY . .
RUN DJANGO_DEBUG=true python manage.py collectstatic --noinput
USER app
EXPOSE 8000
# The web's liveness; compose gives workers, the relay and beat probes of their own.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]
CMD ["gunicorn", "pro_platform.wsgi:application", "-c", "gunicorn.conf.py"]
