"""The Celery application.

The broker comes from CELERY_BROKER_URL (Redis or RabbitMQ in production);
without it, kombu's filesystem transport under var/ needs no server.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lotse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
