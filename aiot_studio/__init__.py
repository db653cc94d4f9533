"""The Django project: settings, URLs, ASGI, the Celery app, the run command. Wiring only."""

from .celery import app as celery_app

__all__ = ("celery_app",)
