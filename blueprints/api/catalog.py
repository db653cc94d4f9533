"""The shared catalog: published versions of every tenant, for every signed-in user."""

from __future__ import annotations

import json

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import actions
from ..actions.context import Actor
from ..models import BlueprintVersion, Tenant, VersionState
from .schema import BODY, INSTALL_EXAMPLES, CertificateSerializer, InstalledSerializer, TelemetrySerializer, errors


class CatalogEntrySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk")
    tenant = serializers.CharField(source="blueprint.tenant.slug")
    slug = serializers.CharField(source="blueprint.slug")
    title = serializers.CharField(source="blueprint.title")
    description = serializers.CharField(source="blueprint.description")
    category = serializers.CharField(source="blueprint.category")
    tags = serializers.JSONField(source="blueprint.tags")
    params_schema = serializers.JSONField()
    required_telemetry = serializers.SerializerMethodField()
    certificate = serializers.SerializerMethodField()

    class Meta:
        model = BlueprintVersion
        fields = [
            "id",
            "tenant",
            "slug",
            "title",
            "description",
            "category",
            "tags",
            "version",
            "state",
            "readme",
            "params_schema",
            "required_telemetry",
            "budget",
            "certificate",
        ]

    @extend_schema_field(TelemetrySerializer(many=True))
    def get_required_telemetry(self, obj) -> list[dict]:
        return [
            {
                "source": n["id"],
                "topic": n["params"].get("topic"),
                "key": n["params"].get("key"),
                "schema": n["params"].get("schema"),
            }
            for n in obj.graph.get("nodes", [])
            if n.get("type") == "source.telemetry"
        ]

    @extend_schema_field(CertificateSerializer(allow_null=True))
    def get_certificate(self, obj) -> dict | None:
        cert = obj.certifications.exclude(signed_report=None).first()
        if cert is None:
            return None
        figures = {s["step"]: s.get("figures", {}) for s in cert.steps}
        certificate = {"verdict": cert.state, "finished_at": cert.finished_at, "figures": figures}
        if self.context.get("view") is None or self.context["view"].action != "list":
            # The signed report carries the whole graph: one entry's page shows it, a page of
            # twenty entries does not need twenty graphs.
            certificate["signed_report"] = cert.signed_report
        return certificate


class InstallSerializer(serializers.Serializer):
    tenant = serializers.SlugField()
    slug = serializers.SlugField(required=False)
    params = serializers.JSONField(required=False, default=dict)


@extend_schema_view(
    list=extend_schema(
        summary="Published versions of every tenant",
        parameters=[
            OpenApiParameter(
                "q", str, description="title, description, slug or readme contains this (case-insensitive)"
            ),
            OpenApiParameter("category", str, description="exactly this category"),
            OpenApiParameter("tag", str, description="has this tag"),
        ],
        responses={200: CatalogEntrySerializer(many=True), **errors(401, 404)},
    ),
    retrieve=extend_schema(
        summary="A catalog entry (published or deprecated)", responses={200: CatalogEntrySerializer, **errors(401, 404)}
    ),
)
@extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="the catalog entry's id")])
class CatalogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Browse (published only) and fetch by id (deprecated too), install into a tenant of mine."""

    serializer_class = CatalogEntrySerializer

    def get_queryset(self):
        qs = BlueprintVersion.objects.select_related("blueprint__tenant").order_by(
            "blueprint__slug", "-major", "-minor", "-patch"
        )
        if self.action != "list":
            return qs.filter(state__in=[VersionState.PUBLISHED, VersionState.DEPRECATED])
        qs = qs.filter(state=VersionState.PUBLISHED)
        p = self.request.query_params
        if p.get("q"):
            q = p["q"]
            qs = qs.filter(
                Q(blueprint__title__icontains=q)
                | Q(blueprint__description__icontains=q)
                | Q(blueprint__slug__icontains=q)
                | Q(readme__icontains=q)
            )
        if p.get("category"):
            qs = qs.filter(blueprint__category=p["category"])
        if p.get("tag"):
            # The tags' JSON text holds the tag in quotes (json.dumps escapes a quote inside one):
            # a filter both SQLite and PostgreSQL run, so the page is cut in the database.
            qs = qs.filter(blueprint__tags__icontains=json.dumps(p["tag"]))
        return qs

    @extend_schema(
        summary="Install a catalog entry into a tenant of mine, as a new blueprint",
        request=InstallSerializer,
        examples=INSTALL_EXAMPLES,
        responses={201: InstalledSerializer, **errors(*BODY, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def install(self, request, pk=None):
        body = InstallSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        source = self.get_object()
        tenant = Tenant.objects.filter(slug=body.validated_data["tenant"]).first()
        if tenant is None:
            raise exceptions.NotFound()
        bp = actions.do_install_from_catalog(
            Actor.of(request), source, tenant, body.validated_data.get("slug"), body.validated_data.get("params")
        )
        return Response(
            {"tenant": tenant.slug, "slug": bp.slug, "version": source.version}, status=status.HTTP_201_CREATED
        )
