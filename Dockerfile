# syntax=docker/dockerfile:1
# Pillarwise production image: gunicorn serves the app (WhiteNoise serves /static/),
# the same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# Unprivileged runtime user; it owns nothing in /app (the code and collected static
# files are read-only for it).
RUN groupadd --system --gid 10001 pillarwise \
 && useradd --system --uid 10001 --gid pillarwise --home-dir /home/pillarwise \
      --create-home --shell /usr/sbin/nologin pillarwise

# Dependencies first, read from pyproject.toml, so this layer is cached until they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The project itself.
COPY . .
RUN pip install . \
 && rm -rf build *.egg-info

# Static files are collected at build time. The variables below exist only for this
# one command (no ENV): the key is a throwaway that never signs anything, and with DEBUG
# off the settings want every part named (collectstatic reaches none of them).
RUN SECRET_KEY=build-only-not-secret DEBUG=false ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/build-only.sqlite3 REDIS_URL=redis://localhost:6379/0 \
    EMAIL_URL=consolemail:// BASE_URL=http://localhost \
    python manage.py collectstatic --noinput \
 && rm -f /tmp/build-only.sqlite3

USER pillarwise

EXPOSE 8000

CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
