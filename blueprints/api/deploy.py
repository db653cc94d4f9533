"""Deployments of bundles to groups of devices (role operator)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..actions import deployments as deploy_actions
from ..models import Deployment, DeploymentTarget
from .base import TenantScopedMixin
from .schema import TENANT_READ, TENANT_WRITE, errors


class TargetSerializer(serializers.ModelSerializer):
    device = serializers.CharField(source="device.device_id")

    class Meta:
        model = DeploymentTarget
        fields = ["device", "phase", "state", "previous_bundle_id", "error", "sent_at", "confirmed_at"]


class DeploymentSerializer(serializers.ModelSerializer):
    bundle = serializers.CharField(source="bundle.bundle_id")
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    targets = TargetSerializer(many=True, read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "bundle",
            "group",
            "strategy",
            "canary_count",
            "canary_percent",
            "health_window_s",
            "timeout_s",
            "max_p99_ratio",
            "max_reject_increase",
            "state",
            "reason",
            "created_by",
            "created_at",
            "canary_done_at",
            "finished_at",
            "targets",
        ]


class DeploymentCreateSerializer(serializers.Serializer):
    bundle = serializers.RegexField(r"^[0-9a-f]{64}$")
    group = serializers.CharField(required=False, allow_blank=True, max_length=128, default="")
    strategy = serializers.ChoiceField(choices=["all", "canary"], default="all")
    canary_count = serializers.IntegerField(min_value=1, required=False, default=1)
    canary_percent = serializers.IntegerField(min_value=1, max_value=100, required=False, allow_null=True, default=None)
    health_window_s = serializers.FloatField(min_value=0, max_value=86400, default=30)
    timeout_s = serializers.FloatField(min_value=1, max_value=86400, default=60)
    max_p99_ratio = serializers.FloatField(min_value=1, max_value=1000, default=3.0)
    max_reject_increase = serializers.FloatField(min_value=0, max_value=1, default=0.2)


@extend_schema_view(
    list=extend_schema(
        summary="Deployments of the tenant, newest first",
        responses={200: DeploymentSerializer(many=True), **errors(*TENANT_READ)},
    ),
    retrieve=extend_schema(
        summary="A deployment and its devices", responses={200: DeploymentSerializer, **errors(*TENANT_READ)}
    ),
    create=extend_schema(
        summary="Deploy a bundle to a group: all at once, or a canary first (operator)",
        request=DeploymentCreateSerializer,
        responses={201: DeploymentSerializer, **errors(*TENANT_WRITE, 409)},
    ),
    pause=extend_schema(
        summary="Pause a running deployment",
        request=None,
        responses={200: DeploymentSerializer, **errors(*TENANT_READ, 409)},
    ),
    resume=extend_schema(
        summary="Resume a paused deployment",
        request=None,
        responses={200: DeploymentSerializer, **errors(*TENANT_READ, 409)},
    ),
    rollback=extend_schema(
        summary="Roll every updated device back to its previous bundle",
        request=None,
        responses={200: DeploymentSerializer, **errors(*TENANT_READ, 409)},
    ),
)
class DeploymentViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Deployment.objects.select_related("bundle", "created_by").prefetch_related("targets__device")
    serializer_class = DeploymentSerializer
    write_capability = "operate"

    def create(self, request, tenant):
        body = DeploymentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        d = deploy_actions.do_create_deployment(self.actor, self.tenant, data.pop("bundle"), **data)
        return Response(DeploymentSerializer(self.get_queryset().get(pk=d.pk)).data, status=status.HTTP_201_CREATED)

    def _act(self, fn):
        d = fn(self.actor, self.get_object())
        return Response(DeploymentSerializer(self.get_queryset().get(pk=d.pk)).data)

    @action(detail=True, methods=["post"])
    def pause(self, request, tenant, pk):
        return self._act(deploy_actions.do_pause_deployment)

    @action(detail=True, methods=["post"])
    def resume(self, request, tenant, pk):
        return self._act(deploy_actions.do_resume_deployment)

    @action(detail=True, methods=["post"])
    def rollback(self, request, tenant, pk):
        return self._act(deploy_actions.do_rollback_deployment)
