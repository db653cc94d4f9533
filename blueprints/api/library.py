"""Node types, validation, blueprints and versions, simulation, compilation."""

from __future__ import annotations

from celery.result import AsyncResult
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response
from rest_framework.views import APIView

from rules_engine.problems import GraphInvalid
from rules_engine.registry import export_registry
from rules_engine.trace import TraceError
from rules_engine.validation import build_plan, validate

from .. import actions, tasks
from ..artifacts import TenantModels
from ..models import Blueprint, BlueprintVersion, QueuedTask
from ..simulate import MAX_TRACE_LINES, simulate
from .base import TenantScopedMixin
from .schema import (
    BLUEPRINT_EXAMPLES,
    BODY,
    SIGNED_IN,
    SIMULATE_EXAMPLES,
    TENANT_READ,
    TENANT_WRITE,
    VALIDATE_EXAMPLES,
    VERSION_EXAMPLES,
    CertificationSerializer,
    CertificationStartedSerializer,
    NodeTypesSerializer,
    SimulationSerializer,
    TaskSerializer,
    TaskStartedSerializer,
    UpgradeSerializer,
    ValidationResultSerializer,
    errors,
)
from .serializers import (
    BlueprintCreateSerializer,
    BlueprintSerializer,
    BlueprintUpdateSerializer,
    CompileSerializer,
    ForkSerializer,
    SimulateSerializer,
    UpgradeRequestSerializer,
    ValidateSerializer,
    VersionCreateSerializer,
    VersionSerializer,
    VersionSummarySerializer,
    VersionUpdateSerializer,
)


@extend_schema(summary="The node-type registry", responses={200: NodeTypesSerializer, **errors(*SIGNED_IN)})
@api_view(["GET"])
def node_types_view(request):
    return Response(export_registry())


@extend_schema(
    summary="Validate a graph (200 even when it has problems)",
    request=ValidateSerializer,
    examples=VALIDATE_EXAMPLES,
    responses={200: ValidationResultSerializer, **errors(*BODY, 401, 403)},
)
@api_view(["POST"])
def validate_view(request):
    body = ValidateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    problems = validate(body.validated_data["graph"], body.validated_data.get("params"))
    return Response({"problems": [p.to_json() for p in problems]})


@extend_schema_view(
    list=extend_schema(
        summary="Blueprints of the tenant",
        parameters=[
            OpenApiParameter("q", str, description="slug, title or description contains this (case-insensitive)"),
            OpenApiParameter("category", str, description="exactly this category"),
        ],
        responses={200: BlueprintSerializer(many=True), **errors(*TENANT_READ)},
    ),
    retrieve=extend_schema(summary="A blueprint", responses={200: BlueprintSerializer, **errors(*TENANT_READ)}),
    create=extend_schema(
        summary="Create a blueprint (with a first draft version 0.1.0)",
        request=BlueprintCreateSerializer,
        examples=BLUEPRINT_EXAMPLES,
        responses={201: BlueprintSerializer, **errors(*TENANT_WRITE, 409)},
    ),
    partial_update=extend_schema(
        summary="Change a blueprint's title, description, category or tags",
        request=BlueprintUpdateSerializer,
        responses={200: BlueprintSerializer, **errors(*TENANT_WRITE)},
    ),
    destroy=extend_schema(
        summary="Delete a blueprint (only while no version was submitted)",
        responses={204: None, **errors(*TENANT_READ, 409)},
    ),
)
class BlueprintViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Blueprint.objects.select_related("forked_from__blueprint__tenant")
    serializer_class = BlueprintSerializer
    lookup_field = "slug"

    def get_queryset(self):
        qs = super().get_queryset()
        q = self.request.query_params.get("q")
        if q:
            qs = qs.filter(Q(slug__icontains=q) | Q(title__icontains=q) | Q(description__icontains=q))
        if self.request.query_params.get("category"):
            qs = qs.filter(category=self.request.query_params["category"])
        return qs

    def create(self, request, tenant):
        body = BlueprintCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        bp = actions.do_create_blueprint(self.actor, self.tenant, **body.validated_data)
        return Response(BlueprintSerializer(bp).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, tenant, slug):
        body = BlueprintUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        bp = actions.do_update_blueprint(self.actor, self.get_object(), **body.validated_data)
        return Response(BlueprintSerializer(bp).data)

    def destroy(self, request, tenant, slug):
        actions.do_delete_blueprint(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Newer published versions of the blueprint this one came from",
        responses={200: UpgradeSerializer(many=True), **errors(*TENANT_READ)},
    )
    # Not paginated (the answer is a short list): says so to the schema; the action never paginated.
    @action(detail=True, methods=["get"], pagination_class=None)
    def upgrades(self, request, tenant, slug):
        """Newer published versions of the blueprint this one was installed or forked from."""
        source = self.get_object().forked_from
        if source is None:
            return Response([])
        newer = BlueprintVersion.objects.filter(blueprint=source.blueprint, state="published").filter(
            Q(major__gt=source.major)
            | Q(major=source.major, minor__gt=source.minor)
            | Q(major=source.major, minor=source.minor, patch__gt=source.patch)
        )
        return Response(
            [
                {"catalog_id": v.pk, "version": v.version, "diff": actions.version_diff(source.graph, v.graph)}
                for v in newer
            ]
        )

    @extend_schema(
        summary="Upgrade to a newer published version of the blueprint this one came from",
        description="A new draft version, numbered as the catalog version, from its graph, README and "
        "scenarios; the parameter values chosen so far are kept where the newer version accepts them.",
        request=UpgradeRequestSerializer,
        responses={201: VersionSerializer, **errors(*TENANT_WRITE, 409)},
    )
    @action(detail=True, methods=["post"])
    def upgrade(self, request, tenant, slug):
        body = UpgradeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        bp = self.get_object()
        source = BlueprintVersion.objects.filter(pk=body.validated_data["catalog_id"]).first()
        if source is None:
            raise exceptions.NotFound("no such catalog entry")
        v = actions.do_upgrade_from_catalog(self.actor, bp, source, body.validated_data.get("params"))
        return Response(VersionSerializer(v).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Fork a blueprint (its latest version) into a new one",
        request=ForkSerializer,
        responses={201: BlueprintSerializer, **errors(*TENANT_WRITE, 409)},
    )
    @action(detail=True, methods=["post"])
    def fork(self, request, tenant, slug):
        body = ForkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        bp = actions.do_fork_blueprint(self.actor, self.get_object(), **body.validated_data)
        return Response(BlueprintSerializer(bp).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="A blueprint's versions, newest first",
        responses={200: VersionSummarySerializer(many=True), **errors(*TENANT_READ)},
    ),
    retrieve=extend_schema(summary="A version", responses={200: VersionSerializer, **errors(*TENANT_READ)}),
    create=extend_schema(
        summary="Save a new draft version (default: the next patch version)",
        request=VersionCreateSerializer,
        examples=VERSION_EXAMPLES,
        responses={201: VersionSerializer, **errors(*TENANT_WRITE, 409)},
    ),
    partial_update=extend_schema(
        summary="Change a draft version (else 409)",
        request=VersionUpdateSerializer,
        responses={200: VersionSerializer, **errors(*TENANT_WRITE, 409)},
    ),
)
@extend_schema(parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, description="the blueprint's slug")])
class VersionViewSet(TenantScopedMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = BlueprintVersion.objects.select_related("blueprint__tenant", "created_by")
    serializer_class = VersionSerializer
    tenant_field = "blueprint__tenant"
    lookup_field = "version"
    lookup_value_regex = r"[0-9]+\.[0-9]+\.[0-9]+"
    pagination_class = None
    action_capabilities = {"certify": "publish", "publish": "publish", "deprecate": "publish"}

    def get_queryset(self):
        return super().get_queryset().filter(blueprint__slug=self.kwargs["slug"])

    def blueprint(self) -> Blueprint:
        return get_object_or_404(Blueprint, tenant=self.tenant, slug=self.kwargs["slug"])

    def list(self, request, tenant, slug):
        bp = self.blueprint()
        return Response(VersionSummarySerializer(bp.versions.all(), many=True).data)

    def create(self, request, tenant, slug):
        body = VersionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = actions.do_create_version(self.actor, self.blueprint(), **body.validated_data)
        return Response(VersionSerializer(v).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, tenant, slug, version):
        body = VersionUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        v = actions.do_update_version(self.actor, self.get_object(), **body.validated_data)
        return Response(VersionSerializer(v).data)

    @extend_schema(
        summary="Submit a draft version (immutable from now on)",
        request=None,
        responses={200: VersionSerializer, **errors(400, *TENANT_READ, 409)},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, tenant, slug, version):
        v = actions.do_submit_version(self.actor, self.get_object())
        return Response(VersionSerializer(v).data)

    @extend_schema(
        summary="Compile a version into a bundle (progress arrives as compile.progress)",
        request=CompileSerializer,
        responses={202: TaskStartedSerializer, **errors(*TENANT_WRITE, 409)},
    )
    @action(detail=True, methods=["post"], url_path="compile", url_name="compile")
    def compile_(self, request, tenant, slug, version):
        body = CompileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = self.get_object()
        task_id = tasks.start_compile(self.actor, v, body.validated_data.get("params") or {})  # checks the role
        return Response({"task_id": task_id}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Start certifying a version",
        request=None,
        responses={202: CertificationStartedSerializer, **errors(400, *TENANT_READ, 409)},
    )
    @action(detail=True, methods=["post"])
    def certify(self, request, tenant, slug, version):
        cert, task_id = tasks.start_certification(self.actor, self.get_object())
        return Response({"certification": cert.pk, "task_id": task_id}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The version's latest certification",
        responses={200: CertificationSerializer, **errors(*TENANT_READ)},
    )
    @action(detail=True, methods=["get"])
    def certification(self, request, tenant, slug, version):
        cert = self.get_object().certifications.first()
        if cert is None:
            raise exceptions.NotFound("this version has not been certified")
        return Response(
            {
                "id": cert.pk,
                "state": cert.state,
                "steps": cert.steps,
                "started_at": cert.started_at,
                "finished_at": cert.finished_at,
                "report_available": cert.signed_report is not None,
            }
        )

    @extend_schema(
        summary="The signed certification report (a JSON attachment)",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="the signed report, as `aiot cert verify` reads it"),
            **errors(*TENANT_READ),
        },
    )
    @action(detail=True, methods=["get"], url_path="certification/report", url_name="certification-report")
    def report(self, request, tenant, slug, version):
        cert = self.get_object().certifications.exclude(signed_report=None).first()
        if cert is None:
            raise exceptions.NotFound("no signed report yet")
        response = Response(cert.signed_report)
        response["Content-Disposition"] = f'attachment; filename="{slug}-{version}-certificate.json"'
        return response

    @extend_schema(
        summary="Publish a certified version to the catalog",
        request=None,
        responses={200: VersionSerializer, **errors(400, *TENANT_READ, 409)},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, tenant, slug, version):
        return Response(VersionSerializer(actions.do_publish_version(self.actor, self.get_object())).data)

    @extend_schema(
        summary="Deprecate a published version",
        request=None,
        responses={200: VersionSerializer, **errors(400, *TENANT_READ, 409)},
    )
    @action(detail=True, methods=["post"])
    def deprecate(self, request, tenant, slug, version):
        return Response(VersionSerializer(actions.do_deprecate_version(self.actor, self.get_object())).data)


@extend_schema_view(
    post=extend_schema(
        summary="Replay a trace (or a version's scenario) through a graph",
        request=SimulateSerializer,
        examples=SIMULATE_EXAMPLES,
        responses={200: SimulationSerializer, **errors(*TENANT_WRITE)},
    )
)
class SimulateView(TenantScopedMixin, APIView):
    """Replay a trace (or one of a version's scenarios) through a graph with the reference engine."""

    max_body_bytes = 16 * 1024 * 1024

    def post(self, request, tenant):
        body = SimulateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "graph" in data:
            graph, trace, params = data["graph"], data["trace"], data.get("params")
        else:
            v = get_object_or_404(
                BlueprintVersion,
                blueprint__tenant=self.tenant,
                blueprint__slug=data["blueprint"],
                version=data["version"],
            )
            scenario = next((s for s in v.scenarios if s.get("name") == data["scenario"]), None)
            if scenario is None:
                raise exceptions.ValidationError(
                    {"scenario": f"version {v.version} has no scenario {data['scenario']!r}"}
                )
            graph, trace, params = v.graph, scenario["trace"], data.get("params") or scenario.get("params")
        if len(trace) > MAX_TRACE_LINES:
            raise exceptions.ValidationError({"trace": f"at most {MAX_TRACE_LINES} lines"})
        models = TenantModels(self.tenant)
        try:
            plan = build_plan(graph, params, models=models)
        except GraphInvalid as exc:
            return Response(
                {
                    "error": {
                        "code": "validation",
                        "message": f"the graph has {len(exc.problems)} problem(s)",
                        "field": "graph",
                        "problems": [p.to_json() for p in exc.problems],
                    }
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            result = simulate(plan, models, trace, data.get("series") or [])
        except TraceError as exc:
            raise exceptions.ValidationError({"trace": str(exc)}) from None
        return Response(result.to_json())


@extend_schema_view(
    get=extend_schema(summary="A background task's state", responses={200: TaskSerializer, **errors(*TENANT_READ)})
)
class TaskView(TenantScopedMixin, APIView):
    """A task queued by a member of the tenant (its record says whose it is). Any other id — another
    tenant's task, one nobody queued through the studio — is 404, whatever Celery knows of it."""

    def get(self, request, tenant, task_id):
        if not QueuedTask.objects.filter(tenant=self.tenant, task_id=task_id).exists():
            raise exceptions.NotFound()
        result = AsyncResult(task_id)
        info = result.info if isinstance(result.info, dict) else {}
        body = {"task_id": task_id, "state": result.state, "progress": info.get("progress"), "step": info.get("step")}
        if result.successful():
            body["result"] = result.result
        elif result.failed():
            body["error"] = str(result.result)
        return Response(body)
