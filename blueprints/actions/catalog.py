"""Certification, publishing to the shared catalog, deprecation, installing from the catalog."""

from __future__ import annotations

import copy

from django.db import transaction
from django.utils import timezone

from edge_compiler.certificate import sign_document
from edge_compiler.compiler import COMPILER_VERSION
from rules_engine.patterns import SchemaValidator, schema_pattern_problems
from rules_engine.validation import resolve_params

from ..models import Blueprint, BlueprintVersion, Certification, Tenant, VersionState
from .bundles import studio_signing_key
from .context import Actor, audit, require
from .errors import Conflict, Invalid, NotFound
from .library import do_create_blueprint, do_create_version, latest_version, transition


def do_start_certification(actor: Actor, v: BlueprintVersion) -> Certification:
    """Freeze the version (a draft is submitted first) and open a certification run."""
    require(actor, v.tenant, "publish")
    if v.state == VersionState.DRAFT:
        from .library import do_submit_version

        v = do_submit_version(actor, v)
    elif v.state in (VersionState.FAILED, VersionState.CERTIFIED):
        v = transition(actor, v, VersionState.CERTIFYING, "version.recertify")
    elif v.state != VersionState.CERTIFYING:
        raise Conflict(f"version {v.version} is {v.state}: it cannot be certified")
    if v.certifications.filter(state="running").exists():
        raise Conflict(f"version {v.version} is being certified already")
    with transaction.atomic():
        cert = Certification.objects.create(version=v, started_by=actor.user if not actor.system else None)
        audit(actor, v.tenant, "certification.start", cert, after={"version": v.version})
    return cert


def do_record_certification_step(cert: Certification, result: dict) -> Certification:
    """A worker's result for one step (the system acts). The audit entry keeps the verdict and
    figures; the step's full result (a failure's repro traces) is in the certification."""
    with transaction.atomic():
        locked = Certification.objects.select_for_update().select_related("version__blueprint__tenant").get(pk=cert.pk)
        previous = next((s for s in locked.steps if s["step"] == result["step"]), None)  # a re-run step
        locked.steps = [s for s in locked.steps if s["step"] != result["step"]] + [result]
        locked.save(update_fields=["steps"])
        audit(
            Actor.system_actor("certification"),
            locked.version.tenant,
            "certification.step",
            locked,
            before=_step_summary(previous) if previous else None,
            after=_step_summary(result),
        )
    return locked


def _step_summary(result: dict) -> dict:
    return {k: result[k] for k in ("step", "status", "message", "figures") if k in result}


def do_finish_certification(cert: Certification) -> Certification:
    """Sign the report and move the version to certified or failed."""
    from ..certification.steps import STEPS, verdict

    system = Actor.system_actor("certification")
    with transaction.atomic():
        cert = Certification.objects.select_for_update().select_related("version__blueprint__tenant").get(pk=cert.pk)
        v = cert.version
        steps = sorted(cert.steps, key=lambda s: STEPS.index(s["step"]))
        outcome = verdict(steps) if len(steps) == len(STEPS) else "failed"
        report = {
            "format": "aiot.certificate/v1",
            "tenant": v.tenant.slug,
            "blueprint": v.blueprint.slug,
            "version": v.version,
            "graph": v.graph,
            "compiler": COMPILER_VERSION,
            "verdict": outcome,
            "steps": steps,
            "started_at": cert.started_at.isoformat(),
            "finished_at": timezone.now().isoformat(),
        }
        cert.signed_report = sign_document(report, studio_signing_key())
        cert.state = outcome
        cert.finished_at = timezone.now()
        cert.save(update_fields=["signed_report", "state", "finished_at"])
        transition(
            system, v, VersionState.CERTIFIED if outcome == "certified" else VersionState.FAILED, f"version.{outcome}"
        )
        audit(system, v.tenant, "certification.finish", cert, after={"verdict": outcome, "version": v.version})
    return cert


def do_publish_version(actor: Actor, v: BlueprintVersion) -> BlueprintVersion:
    require(actor, v.tenant, "publish")
    if v.state != VersionState.CERTIFIED:
        raise Conflict(f"version {v.version} is {v.state}: only a certified version can be published")
    return transition(actor, v, VersionState.PUBLISHED, "version.publish")


def do_deprecate_version(actor: Actor, v: BlueprintVersion) -> BlueprintVersion:
    require(actor, v.tenant, "publish")
    return transition(actor, v, VersionState.DEPRECATED, "version.deprecate")


def do_install_from_catalog(
    actor: Actor, source: BlueprintVersion, tenant: Tenant, slug: str | None = None, params: dict | None = None
) -> Blueprint:
    """A tenant-owned copy of a published (or deprecated, by id) version, its parameters set."""
    require(actor, tenant, "edit")
    if source.state not in (VersionState.PUBLISHED, VersionState.DEPRECATED):
        raise NotFound("no such catalog entry")
    graph, values = _with_values(source, params or {})
    with transaction.atomic():  # all or nothing: models, blueprint, its version and budget, entry
        _copy_artifacts(actor, source, tenant, graph)
        bp = do_create_blueprint(
            actor,
            tenant,
            slug or source.blueprint.slug,
            source.blueprint.title,
            source.blueprint.description,
            source.blueprint.category,
            list(source.blueprint.tags),
            graph=graph,
            readme=source.readme,
            scenarios=copy.deepcopy(source.scenarios),
            forked_from=source,
            version=source.version,
            budget=source.budget,
        )
        audit(
            actor,
            tenant,
            "catalog.install",
            bp,
            after={"from": f"{source.tenant.slug}/{source.blueprint.slug}@{source.version}", "params": values},
        )
    return bp


def do_upgrade_from_catalog(
    actor: Actor, bp: Blueprint, source: BlueprintVersion, params: dict | None = None
) -> BlueprintVersion:
    """A new draft version of a blueprint installed from the catalog, made from a newer published
    version of the catalog blueprint it came from. The parameter values chosen at install (its
    defaults) are kept while the newer version still accepts them; ``params`` overrides them."""
    require(actor, bp.tenant, "edit")
    current = bp.forked_from
    if source.state != VersionState.PUBLISHED:
        raise NotFound("no such catalog entry")
    if current is None or current.blueprint_id != source.blueprint_id:
        raise Invalid(f"{bp.slug} was not installed from this catalog blueprint", "catalog_id")
    if (source.major, source.minor, source.patch) <= (current.major, current.minor, current.patch):
        raise Conflict(f"{source.version} is not newer than {current.version}, which {bp.slug} came from")
    if params is not None and not isinstance(params, dict):
        raise Invalid("parameter values must be a JSON object", "params")
    mine = latest_version(bp)
    chosen = ((mine.graph.get("params") or {}).get("properties") or {}) if mine else {}
    declared = (source.graph.get("params") or {}).get("properties") or {}
    kept = {
        name: prop["default"]
        for name, prop in chosen.items()
        if name in declared
        and isinstance(prop, dict)
        and "default" in prop
        and not schema_pattern_problems(declared[name])  # a regex that could hang never runs
        and SchemaValidator(declared[name]).is_valid(prop["default"])
    }
    graph, values = _with_values(source, {**kept, **(params or {})})
    with transaction.atomic():
        _copy_artifacts(actor, source, bp.tenant, graph)
        v = do_create_version(
            actor,
            bp,
            graph,
            readme=source.readme,
            scenarios=copy.deepcopy(source.scenarios),
            version=source.version,
            budget=source.budget,
        )
        Blueprint.objects.filter(pk=bp.pk).update(forked_from=source)
        audit(
            actor,
            bp.tenant,
            "catalog.upgrade",
            v,
            before={"from": f"{current.tenant.slug}/{current.blueprint.slug}@{current.version}"},
            after={"from": f"{source.tenant.slug}/{source.blueprint.slug}@{source.version}", "params": values},
        )
    return v


def _with_values(source: BlueprintVersion, params: dict) -> tuple[dict, dict]:
    """A copy of the source's graph whose parameter defaults are the given values (checked)."""
    graph = copy.deepcopy(source.graph)
    values, problems = resolve_params(graph, params)
    if problems:
        first = problems[0]
        raise Invalid(f"{first.path}: {first.message}", "params")
    for name, value in values.items():  # the installed blueprint's defaults are the chosen values
        graph["params"]["properties"][name]["default"] = value
    return graph, values


def _copy_artifacts(actor: Actor, source: BlueprintVersion, tenant: Tenant, graph: dict) -> list[str]:
    """The models a catalog version uses, copied into the installing tenant's artifacts."""
    from ..models import Artifact
    from .library import do_store_artifact

    copied = []
    for node in graph.get("nodes", []):
        ref = (node.get("params") or {}).get("model", "")
        if node.get("type") == "model.onnx" and ref.startswith("artifact:"):
            data = Artifact.objects.filter(tenant=source.tenant, sha256=ref[9:]).values_list("data", flat=True).first()
            if data is None:
                raise Invalid(f"the catalog entry's model {ref} is missing", "model")
            do_store_artifact(actor, tenant, bytes(data), node["id"])
            copied.append(ref)
    return copied


def version_diff(old: dict, new: dict) -> dict:
    """What changed between two graphs: nodes, edges and parameters added, removed, changed."""

    def nodes(g):
        return {n["id"]: n for n in g.get("nodes", []) if isinstance(n, dict) and "id" in n}

    def edges(g):
        return {(e.get("from"), e.get("to")) for e in g.get("edges", []) if isinstance(e, dict)}

    def params(g):
        return (g.get("params") or {}).get("properties") or {}

    a, b = nodes(old), nodes(new)
    pa, pb = params(old), params(new)
    return {
        "nodes": {
            "added": sorted(set(b) - set(a)),
            "removed": sorted(set(a) - set(b)),
            "changed": sorted(k for k in set(a) & set(b) if a[k] != b[k]),
        },
        "edges": {
            "added": sorted(f"{f}→{t}" for f, t in edges(new) - edges(old)),
            "removed": sorted(f"{f}→{t}" for f, t in edges(old) - edges(new)),
        },
        "params": {
            "added": sorted(set(pb) - set(pa)),
            "removed": sorted(set(pa) - set(pb)),
            "changed": sorted(k for k in set(pa) & set(pb) if pa[k] != pb[k]),
        },
    }
