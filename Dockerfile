FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    POETRY_VIRTUALENVS_CREATE=false \
    POETRY_NO_INTERACTION=1

WORKDIR /app

RUN pip install "poetry>=2.2,<3"
COPY pyproject.toml poetry.lock ./
RUN poetry install --only main --no-root

COPY . .
RUN DJANGO_DEBUG=true python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 app \
    && chown -R app /app
USER app

EXPOSE 8000
CMD ["gunicorn", "pro_platform.wsgi:application", "-c", "gunicorn.conf.py"]
