# Lotse: one image for web (gunicorn), worker and beat (Celery).
#   docker build -t lotse .        docker compose up -d   (compose.yaml)
# Slim Debian base, pinned to an exact release tag (update it on purpose,
# after reading the release notes); the application runs as the unprivileged
# user `lotse` (uid 10001) and owns nothing it executes.

FROM python:3.11.14-slim-bookworm AS build
# Build dependencies of python-ldap (django-auth-ldap) and argon2-cffi.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libldap2-dev libsasl2-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

FROM python:3.11.14-slim-bookworm
# Runtime libraries only; the PostgreSQL client for `manage.py backup`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libldap-2.5-0 libsasl2-2 postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 lotse \
 && useradd --system --uid 10001 --gid lotse --home-dir /app --shell /usr/sbin/nologin lotse \
 && install -d -o lotse -g lotse /app/var /app/var/media /app/var/celery
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    LOTSE_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    STATIC_ROOT=/app/staticfiles \
    LOTSE_LOG_FORMAT=json
WORKDIR /app
COPY --chown=root:root . /app
# Static files are collected into the image (hashed names, compressed), with
# throw-away settings: nothing of them stays in the image.
RUN DEBUG=false SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 CELERY_BROKER_URL=memory:// \
    LOTSE_VAR_DIR=/tmp/collect python manage.py collectstatic --noinput \
 && rm -rf /tmp/collect /tmp/collectstatic.sqlite3
USER lotse
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "scripts/healthcheck.py", "web"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"]
