"""gunicorn settings for Lotse's web nodes (`gunicorn -c gunicorn.conf.py config.wsgi`).

Values come from the environment (.env.example lists them). No access log:
gunicorn's names the full path and query of every request, and a search for
a name is a client's name. Lotse writes its own request line instead
(config.middleware.RequestLogMiddleware: method, URL pattern, status,
duration), in JSON like every other line.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Processes x threads per node; the database's connections must cover all
# nodes (each thread holds at most one, kept CONN_MAX_AGE seconds).
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter), which caps
# slow memory growth without all workers restarting at once.
max_requests = 2000
max_requests_jitter = 200
# Load the application before forking: a configuration mistake stops the
# master with one sentence instead of a crash loop of workers.
preload_app = True
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn's own lines (start, worker exits) as JSON too.
if os.environ.get("LOTSE_LOG_FORMAT", "json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "root": {"level": loglevel.upper(), "handlers": ["console"]},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "gunicorn.error": {
                "level": loglevel.upper(),
                "handlers": ["error_console"],
                "propagate": False,
            },
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
# Behind a TLS-terminating proxy: which addresses may set X-Forwarded-*.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Temporary upload files in memory-backed storage where there is one.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
