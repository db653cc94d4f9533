"""Queuing background work (compilations, certifications) on behalf of a tenant.

The task is recorded as the tenant's before it is sent, under an id chosen here: from the moment
its id is known, ``GET /t/{t}/tasks/{id}`` answers for it to that tenant's members, and to nobody
else (another tenant's task, like an id nobody queued, is 404)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db import transaction

from ..models import QueuedTask, Tenant
from .context import Actor, audit, require

# What each kind of task needs of the actor's role (SPEC §8).
KINDS = {"compile": "edit", "certify": "publish"}


def do_queue_task(
    actor: Actor, tenant: Tenant, kind: str, send: Callable[[str], object], subject: str = ""
) -> QueuedTask:
    """Record a task of ``kind`` as the tenant's, then ``send(task_id)`` queues it under that id."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of task {kind!r}; known: {', '.join(KINDS)}")
    require(actor, tenant, KINDS[kind])
    task_id = str(uuid.uuid4())
    user = None if actor.system or actor.user is None or not actor.user.is_authenticated else actor.user
    with transaction.atomic():
        record = QueuedTask.objects.create(task_id=task_id, tenant=tenant, kind=kind, subject=subject, created_by=user)
        audit(actor, tenant, "task.queue", record, after={"kind": kind, "subject": subject}, object_id=task_id)
    send(task_id)
    return record
