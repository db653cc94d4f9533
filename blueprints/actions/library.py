"""Blueprints, versions and model artifacts."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from rules_engine.validation import validate

from ..artifacts import TenantModels
from ..models import Artifact, Blueprint, BlueprintVersion, Tenant, VersionState
from ..models.library import SEMVER, TRANSITIONS
from ..package import BlueprintPackage
from .context import Actor, audit, require, snapshot
from .errors import Conflict, Invalid

EMPTY_GRAPH = {
    "format": "aiot.graph/v1",
    "name": "",
    "params": {"type": "object", "properties": {}},
    "nodes": [],
    "edges": [],
}
MAX_SCENARIOS = 50


def _check_slug(slug: str) -> str:
    if not isinstance(slug, str) or not slug or slugify(slug) != slug or len(slug) > 63:
        raise Invalid(f"{slug!r} is not a slug (lowercase letters, digits and hyphens)", "slug")
    return slug


def _check_graph(graph: Any) -> dict:
    if not isinstance(graph, dict):
        raise Invalid("graph must be a JSON object (an aiot.graph/v1 document)", "graph")
    return graph


def _check_scenarios(scenarios: Any) -> list:
    if scenarios is None:
        return []
    if not isinstance(scenarios, list) or len(scenarios) > MAX_SCENARIOS:
        raise Invalid(f"scenarios must be a list of at most {MAX_SCENARIOS}", "scenarios")
    for i, sc in enumerate(scenarios):
        if not isinstance(sc, dict) or not isinstance(sc.get("name"), str) or not isinstance(sc.get("trace"), list):
            raise Invalid(f"scenario {i} needs a name and a trace (a list of trace lines)", f"scenarios.{i}")
        expected = sc.get("expected", [])
        if not isinstance(expected, list) or not all(isinstance(r, dict) for r in expected):
            raise Invalid(f"scenario {i}: expected must be a list of action records", f"scenarios.{i}.expected")
        for key, kind, what in SCENARIO_FIELDS:
            if key in sc and not isinstance(sc[key], kind):
                raise Invalid(f"scenario {i}: {key} must be {what}", f"scenarios.{i}.{key}")
    return scenarios


# The optional members of a scenario (SPEC §4) and what each must be when present.
SCENARIO_FIELDS = (
    ("description", str, "text"),
    ("params", dict, "an object of parameter values"),
    ("expected_summary", dict, "an object (the run's summary)"),
)


def do_create_blueprint(
    actor: Actor,
    tenant: Tenant,
    slug: str,
    title: str,
    description: str = "",
    category: str = "",
    tags: list | None = None,
    graph: dict | None = None,
    readme: str = "",
    scenarios: list | None = None,
    forked_from=None,
    version: str = "0.1.0",
    budget: dict | None = None,
) -> Blueprint:
    """A blueprint and its first draft version (with the performance budget certification judges
    it against, if given), in one transaction."""
    require(actor, tenant, "edit")
    _check_slug(slug)
    if not SEMVER.match(version or ""):
        raise Invalid(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)", "version")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise Invalid("a blueprint needs a title of at most 200 characters", "title")
    tags = tags or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 64 for t in tags) or len(tags) > 32:
        raise Invalid("tags must be a list of at most 32 short strings", "tags")
    graph = _check_graph(copy.deepcopy(graph) if graph is not None else {**EMPTY_GRAPH, "name": title})
    scenarios = _check_scenarios(scenarios)
    with transaction.atomic():
        try:
            with transaction.atomic():
                bp = Blueprint.objects.create(
                    tenant=tenant,
                    slug=slug,
                    title=title,
                    description=description or "",
                    category=category or "",
                    tags=tags,
                    forked_from=forked_from,
                    created_by=_user(actor),
                )
        except IntegrityError:
            raise Conflict(f"{tenant.slug} already has a blueprint {slug!r}", "slug") from None
        first = BlueprintVersion.objects.create(
            blueprint=bp,
            version=version,
            graph=graph,
            readme=readme or "",
            scenarios=scenarios,
            budget=budget or {},
            created_by=_user(actor),
        )
        audit(actor, tenant, "blueprint.create", bp, after=snapshot(bp))
        audit(actor, tenant, "version.create", first, after=_version_snapshot(first))
    return bp


def _user(actor: Actor):
    return None if actor.system or actor.user is None or not actor.user.is_authenticated else actor.user


def _version_snapshot(v: BlueprintVersion) -> dict:
    return {
        "blueprint": v.blueprint.slug,
        "version": v.version,
        "state": v.state,
        "graph_sha256": hashlib.sha256(repr(v.graph).encode()).hexdigest(),
        "nodes": len(v.graph.get("nodes", [])) if isinstance(v.graph, dict) else 0,
        "budget": v.budget,
    }


def do_update_blueprint(actor: Actor, bp: Blueprint, **fields) -> Blueprint:
    require(actor, bp.tenant, "edit")
    allowed = {"title", "description", "category", "tags"}
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}", sorted(unknown)[0])
    with transaction.atomic():
        before = snapshot(bp)
        for k, v in fields.items():
            setattr(bp, k, v)
        bp.save()
        audit(actor, bp.tenant, "blueprint.update", bp, before=before, after=snapshot(bp))
    return bp


def do_delete_blueprint(actor: Actor, bp: Blueprint) -> None:
    require(actor, bp.tenant, "edit")
    if bp.versions.exclude(state=VersionState.DRAFT).exists():
        raise Conflict("a blueprint with submitted versions cannot be deleted (deprecate its versions instead)")
    with transaction.atomic():
        audit(actor, bp.tenant, "blueprint.delete", bp, before=snapshot(bp))
        bp.delete()


def latest_version(bp: Blueprint) -> BlueprintVersion | None:
    return bp.versions.order_by("-major", "-minor", "-patch").first()


def do_fork_blueprint(
    actor: Actor, bp: Blueprint, slug: str, title: str | None = None, tenant: Tenant | None = None
) -> Blueprint:
    """A copy of the blueprint's latest version as a new blueprint (in the same tenant by default)."""
    source = latest_version(bp)
    return do_create_blueprint(
        actor,
        tenant or bp.tenant,
        slug,
        title or f"{bp.title} (copy)",
        bp.description,
        bp.category,
        list(bp.tags),
        graph=source.graph if source else None,
        readme=source.readme if source else "",
        scenarios=source.scenarios if source else None,
        forked_from=source,
        budget=source.budget if source else None,  # certification judges the copy against the same
    )


def _next_version(bp: Blueprint) -> str:
    last = latest_version(bp)
    return "0.1.0" if last is None else f"{last.major}.{last.minor}.{last.patch + 1}"


def do_create_version(
    actor: Actor,
    bp: Blueprint,
    graph: Any,
    readme: str | None = None,
    scenarios: Any = None,
    version: str | None = None,
    budget: dict | None = None,
) -> BlueprintVersion:
    """A new draft version; README, scenarios and budget default to the latest version's."""
    require(actor, bp.tenant, "edit")
    graph = _check_graph(graph)
    last = latest_version(bp)
    if readme is None:
        readme = last.readme if last else ""
    scenarios = _check_scenarios(scenarios if scenarios is not None else (last.scenarios if last else []))
    version = version or _next_version(bp)
    if not SEMVER.match(version):
        raise Invalid(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)", "version")
    with transaction.atomic():
        try:
            with transaction.atomic():
                v = BlueprintVersion.objects.create(
                    blueprint=bp,
                    version=version,
                    graph=graph,
                    readme=readme,
                    scenarios=scenarios,
                    budget=budget if budget is not None else (last.budget if last else {}),
                    created_by=_user(actor),
                )
        except IntegrityError:
            raise Conflict(f"{bp.slug} already has a version {version}", "version") from None
        Blueprint.objects.filter(pk=bp.pk).update(updated_at=timezone.now())
        audit(actor, bp.tenant, "version.create", v, after=_version_snapshot(v))
    return v


def do_update_version(actor: Actor, v: BlueprintVersion, **fields) -> BlueprintVersion:
    require(actor, v.tenant, "edit")
    if v.state != VersionState.DRAFT:
        raise Conflict(f"version {v.version} is {v.state}: only drafts change (save a new version)")
    if "graph" in fields:
        _check_graph(fields["graph"])
    if "scenarios" in fields:
        _check_scenarios(fields["scenarios"])
    with transaction.atomic():
        before = _version_snapshot(v)
        for k in ("graph", "readme", "scenarios"):
            if k in fields:
                setattr(v, k, fields[k])
        v.save()
        audit(actor, v.tenant, "version.update", v, before=before, after=_version_snapshot(v))
    return v


def transition(actor: Actor, v: BlueprintVersion, to: str, action: str) -> BlueprintVersion:
    """Move a version along its lifecycle (SPEC §4), refusing a move the lifecycle does not have."""
    with transaction.atomic():
        locked = BlueprintVersion.objects.select_for_update().get(pk=v.pk)
        if to not in TRANSITIONS[locked.state]:
            raise Conflict(f"version {locked.version} is {locked.state}; it cannot become {to}")
        before = _version_snapshot(locked)
        locked.state = to
        if to == VersionState.CERTIFYING:
            locked.submitted_at = timezone.now()
        locked.save(update_fields=["state", "submitted_at"])
        audit(actor, locked.tenant, action, locked, before=before, after=_version_snapshot(locked))
    return locked


def do_submit_version(actor: Actor, v: BlueprintVersion) -> BlueprintVersion:
    """Freeze a valid draft for certification; from now on it never changes."""
    require(actor, v.tenant, "edit")
    problems = validate(v.graph, None, models=TenantModels(v.tenant))
    if problems:
        first = problems[0]
        raise Invalid(
            f"the graph has {len(problems)} problem(s); first: {first.path} {first.code}: {first.message}", "graph"
        )
    return transition(actor, v, VersionState.CERTIFYING, "version.submit")


def do_store_artifact(actor: Actor, tenant: Tenant, data: bytes, name: str = "") -> Artifact:
    require(actor, tenant, "edit")
    sha = hashlib.sha256(data).hexdigest()
    artifact = Artifact.objects.filter(tenant=tenant, sha256=sha).first()
    if artifact is not None:
        return artifact
    from edge_compiler.models import load_model_bytes

    try:
        load_model_bytes(name or sha, data)
    except ValueError as exc:
        raise Invalid(str(exc), "data") from None
    with transaction.atomic():
        artifact, created = Artifact.objects.get_or_create(
            tenant=tenant, sha256=sha, defaults={"data": data, "size": len(data), "name": name}
        )
        if created:
            audit(actor, tenant, "artifact.create", artifact, after=snapshot(artifact))
    return artifact


def do_install_package(actor: Actor, tenant: Tenant, package: BlueprintPackage, slug: str | None = None) -> Blueprint:
    """A blueprint package (a built-in one, or exported files) as a tenant's blueprint: its models
    become artifacts and the graph refers to them as ``artifact:<sha256>``."""
    require(actor, tenant, "edit")
    budget = _check_budget(package.meta.get("budget") or {})  # before anything is stored
    meta = package.meta
    scenarios = [
        {**sc, "name": sc.get("name") or rel.rsplit("/", 1)[-1].removesuffix(".json")}
        for rel, sc in package.scenarios.items()
    ]
    with transaction.atomic():  # no artifacts left behind by a blueprint that could not be made
        refs = {}
        for rel, data in package.models.items():
            refs[rel] = f"artifact:{do_store_artifact(actor, tenant, data, rel.rsplit('/', 1)[-1]).sha256}"
        graph = copy.deepcopy(package.graph)
        for node in graph.get("nodes", []):
            if node.get("type") == "model.onnx" and node.get("params", {}).get("model") in refs:
                node["params"]["model"] = refs[node["params"]["model"]]
        return do_create_blueprint(
            actor,
            tenant,
            slug or meta["slug"],
            meta.get("title", meta["slug"]),
            meta.get("description", ""),
            meta.get("category", ""),
            meta.get("tags", []),
            graph=graph,
            readme=package.readme,
            scenarios=scenarios,
            version=meta.get("version", "0.1.0"),
            budget=budget,  # certification's performance step judges the version against it
        )


def _check_budget(budget: Any) -> dict:
    """A package's performance budget: ``{"p99_ms_per_batch": > 0, "batch": 1…10000}``, both optional."""
    if not isinstance(budget, dict) or set(budget) - {"p99_ms_per_batch", "batch"}:
        raise Invalid("budget is an object with p99_ms_per_batch and batch only", "budget")
    p99, batch = budget.get("p99_ms_per_batch", 5.0), budget.get("batch", 100)
    if isinstance(p99, bool) or not isinstance(p99, (int, float)) or not 0 < p99 < 1e6:
        raise Invalid("budget.p99_ms_per_batch must be a positive number of milliseconds", "budget")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 10_000:
        raise Invalid("budget.batch must be a whole number of events from 1 to 10000", "budget")
    return dict(budget)
