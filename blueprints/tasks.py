"""Celery tasks: they take ids, call actions, report progress, and are idempotent (acks_late:
a worker killed mid-task leaves the message to another, which builds the same bundle)."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model

from .actions import (
    ActionError,
    Actor,
    do_compile_version,
    do_finish_certification,
    do_queue_task,
    do_record_certification_step,
    do_start_certification,
    studio_signing_key,
)
from .artifacts import TenantModels
from .certification.steps import STEPS, Certifier, Subject
from .live import publish
from .models import ApiToken, BlueprintVersion, Certification

log = logging.getLogger(__name__)


def actor_ref(actor: Actor) -> dict:
    return {"user": getattr(actor.user, "pk", None), "token": getattr(actor.token, "pk", None), "system": actor.system}


def actor_from(ref: dict) -> Actor:
    if ref.get("system"):
        return Actor.system_actor(ref["system"])
    user = get_user_model().objects.filter(pk=ref.get("user")).first()
    token = ApiToken.objects.filter(pk=ref["token"]).first() if ref.get("token") else None
    return Actor(user=user, token=token)


def start_compile(actor: Actor, version: BlueprintVersion, params: dict) -> str:
    """Queue a compilation, recorded as the version's tenant's task; its id."""

    def send(task_id: str) -> None:
        compile_version.apply_async((version.pk, params, actor_ref(actor)), task_id=task_id)

    subject = f"{version.blueprint.slug} {version.version}"
    return do_queue_task(actor, version.tenant, "compile", send, subject).task_id


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=2)
def compile_version(self, version_id: int, params: dict, actor: dict) -> dict:
    version = BlueprintVersion.objects.select_related("blueprint__tenant").get(pk=version_id)
    tenant = version.tenant
    started = time.monotonic()
    base = {"task_id": self.request.id, "blueprint": version.blueprint.slug, "version": version.version}

    def progress(step: str, fraction: float, **extra) -> None:
        data = {
            **base,
            "step": step,
            "progress": round(fraction, 3),
            "state": "running",
            "elapsed_s": round(time.monotonic() - started, 3),
            **extra,
        }
        if not self.request.called_directly and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={**data, "tenant": tenant.slug})
        publish(tenant.pk, tenant.slug, "compile.progress", data)
        if settings.TASK_STEP_DELAY_S:
            time.sleep(settings.TASK_STEP_DELAY_S)

    progress("queued", 0.0)
    try:
        bundle = do_compile_version(actor_from(actor), version, params, progress)
    except ActionError as exc:
        publish(
            tenant.pk,
            tenant.slug,
            "compile.progress",
            {**base, "step": "failed", "progress": 1.0, "state": "failed", "error": str(exc)},
        )
        return {**base, "tenant": tenant.slug, "state": "failed", "error": str(exc)}
    result = {**base, "tenant": tenant.slug, "state": "done", "bundle_id": bundle.bundle_id, "size": bundle.size}
    publish(
        tenant.pk,
        tenant.slug,
        "compile.progress",
        {
            **base,
            "step": "done",
            "progress": 1.0,
            "state": "done",
            "bundle_id": bundle.bundle_id,
            "size": bundle.size,
            "elapsed_s": round(time.monotonic() - started, 3),
        },
    )
    return result


def start_certification(actor: Actor, version: BlueprintVersion) -> tuple[Certification, str]:
    """Open a certification run and queue its first step (a task of the version's tenant; each step
    queues the next)."""
    cert = do_start_certification(actor, version)

    def send(task_id: str) -> None:
        certify_step.apply_async((cert.pk, 0), task_id=task_id)

    subject = f"{version.blueprint.slug} {version.version}"
    return cert, do_queue_task(actor, version.tenant, "certify", send, subject).task_id


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=2)
def certify_step(self, certification_id: int, index: int) -> dict:
    """One step of the pipeline; it queues the next. Re-running a step replaces its result."""
    cert = Certification.objects.select_related("version__blueprint__tenant").get(pk=certification_id)
    v = cert.version
    tenant = v.tenant
    step = STEPS[index]
    subject = Subject(
        graph=v.graph,
        params={},
        scenarios=v.scenarios,
        models=TenantModels(tenant),
        key=studio_signing_key(),
        budget=v.budget,
        blueprint={"tenant": tenant.slug, "slug": v.blueprint.slug, "version": v.version},
    )
    base = {
        "certification": cert.pk,
        "blueprint": v.blueprint.slug,
        "version": v.version,
        "step": step,
        "index": index,
        "total": len(STEPS),
    }
    publish(tenant.pk, tenant.slug, "certification.progress", {**base, "status": "running"})
    certifier = Certifier(subject)
    certifier.prime(cert.steps)
    result = certifier.run(step).to_json()
    if settings.TASK_STEP_DELAY_S:
        time.sleep(settings.TASK_STEP_DELAY_S)
    do_record_certification_step(cert, result)
    summary = {k: result[k] for k in ("status", "message", "figures", "elapsed_s") if k in result}
    publish(tenant.pk, tenant.slug, "certification.progress", {**base, **summary})
    if index + 1 < len(STEPS):
        certify_step.delay(certification_id, index + 1)
    else:
        finished = do_finish_certification(cert)
        publish(
            tenant.pk,
            tenant.slug,
            "certification.progress",
            {**base, "step": "report", "index": len(STEPS), "status": finished.state, "verdict": finished.state},
        )
    return {"step": step, "status": result["status"]}
