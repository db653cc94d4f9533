"""Which tenant a background task belongs to: written when the task is queued, read by
``GET /t/{t}/tasks/{id}``, which answers only for a task of the caller's tenant."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .tenancy import Tenant


class QueuedTask(models.Model):
    """A Celery task a member queued (a compilation, a certification). Its state and result live in
    Celery's result store; this row says whose it is, so that nobody else ever sees them."""

    task_id = models.CharField(max_length=64, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="queued_tasks")
    kind = models.CharField(max_length=32)  # compile | certify
    subject = models.CharField(max_length=200, blank=True, default="")  # e.g. "overspeed 0.1.0"
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.task_id}"
