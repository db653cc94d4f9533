"""Compiling a version into a signed bundle, stored by its id."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction

from edge_compiler.build import build_bundle
from edge_compiler.compiler import CompileError
from edge_compiler.signing import generate_keypair, load_private_key
from rules_engine.problems import GraphInvalid

from ..artifacts import TenantModels
from ..models import BlueprintVersion, Bundle
from .context import Actor, audit, require, snapshot
from .errors import Invalid


def studio_signing_key() -> Ed25519PrivateKey:
    """The studio's Ed25519 key (bundles, certificates): made once, shared by every process."""
    path = Path(settings.SIGNING_KEY_PATH)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it first
            generate_keypair(path.with_suffix(""))
    return load_private_key(path)


def do_compile_version(
    actor: Actor,
    version: BlueprintVersion,
    params: dict | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Bundle:
    """Idempotent: the same version and params give the same bundle id; it is stored once, whole."""
    tenant = version.tenant
    require(actor, tenant, "edit")
    if params is not None and not isinstance(params, dict):
        raise Invalid("params must be a JSON object of blueprint parameter values", "params")
    blueprint = {"tenant": tenant.slug, "slug": version.blueprint.slug, "version": version.version}
    try:
        built = build_bundle(
            version.graph,
            params or {},
            studio_signing_key(),
            models=TenantModels(tenant),
            blueprint=blueprint,
            progress=progress,
        )
    except GraphInvalid as exc:
        first = exc.problems[0]
        raise Invalid(
            f"the graph has {len(exc.problems)} problem(s); first: {first.path} {first.code}: {first.message}", "graph"
        ) from None
    except (CompileError, LookupError) as exc:
        raise Invalid(str(exc), "graph") from None
    if progress:
        progress("store", 0.9)
    with transaction.atomic():
        bundle, created = Bundle.objects.get_or_create(
            tenant=tenant,
            bundle_id=built.bundle_id,
            defaults={
                "version": version,
                "blueprint_slug": version.blueprint.slug,
                "blueprint_version": version.version,
                "params": params or {},
                "data": built.data,
                "size": len(built.data),
                "created_by": actor.user
                if actor.token is None and not actor.system
                else getattr(actor.token, "user", None),
            },
        )
        if created:
            audit(actor, tenant, "bundle.create", bundle, after=snapshot(bundle), object_id=bundle.bundle_id)
    return bundle
