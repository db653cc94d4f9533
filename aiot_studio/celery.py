"""The Celery app, as in Celery's Django example: settings under CELERY_*, tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aiot_studio.settings")

app = Celery("aiot_studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
