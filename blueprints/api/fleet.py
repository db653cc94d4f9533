"""Bundles (and their download, by device token too), devices, alerts."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, renderers, status, viewsets
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes, renderer_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from .. import actions
from ..actions.context import Actor
from ..models import Alert, Bundle, Device, Tenant
from .auth import BearerTokenAuthentication, DeviceTokenAuthentication, SessionAuthentication
from .base import TenantScopedMixin
from .schema import TENANT_READ, TENANT_WRITE, DeviceTokenSerializer, errors
from .serializers import (
    AlertSerializer,
    BundleSerializer,
    DeviceCreatedSerializer,
    DeviceCreateSerializer,
    DeviceSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary="Bundles of the tenant, newest first",
        responses={200: BundleSerializer(many=True), **errors(*TENANT_READ)},
    ),
    retrieve=extend_schema(summary="A bundle", responses={200: BundleSerializer, **errors(*TENANT_READ)}),
)
class BundleViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Bundle.objects.select_related("tenant", "created_by").defer("data")
    serializer_class = BundleSerializer
    lookup_field = "bundle_id"
    lookup_value_regex = "[0-9a-f]{64}"


class AnyMediaRenderer(renderers.BaseRenderer):
    """Devices ask for application/octet-stream; errors still go out as JSON text."""

    media_type = "*/*"
    format = "bin"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


@extend_schema(
    summary="Download a bundle (.aiotb): for members, or a device of the tenant",
    parameters=[
        OpenApiParameter(
            "bundle_id", str, OpenApiParameter.PATH, description="the bundle's SHA-256", pattern="^[0-9a-f]{64}$"
        ),
        OpenApiParameter(
            "Content-Disposition", str, OpenApiParameter.HEADER, response=[200], description="attachment; filename=…"
        ),
        OpenApiParameter("X-Bundle-Sha256", str, OpenApiParameter.HEADER, response=[200], description="the bundle id"),
    ],
    responses={
        (200, "application/vnd.aiot.bundle+zip"): OpenApiResponse(
            OpenApiTypes.BINARY, description="the bundle's bytes"
        ),
        **{(status_code, "application/json"): response for status_code, response in errors(*TENANT_READ).items()},
    },
)
@api_view(["GET"])
@renderer_classes([renderers.JSONRenderer, AnyMediaRenderer])
@authentication_classes([DeviceTokenAuthentication, BearerTokenAuthentication, SessionAuthentication])
@permission_classes([AllowAny])
def bundle_download(request, tenant: str, bundle_id: str):
    """The bundle's bytes: for a member who may read, or a device of the same tenant."""
    t = Tenant.objects.filter(slug=tenant).first()
    if t is None:
        raise exceptions.NotFound()
    if isinstance(request.auth, Device):
        if request.auth.tenant_id != t.pk:
            raise exceptions.NotFound()
    elif not request.user.is_authenticated:
        raise exceptions.NotAuthenticated()
    else:
        caps = Actor.of(request).capabilities(t)
        if "read" not in caps:
            raise exceptions.NotFound()
    bundle = get_object_or_404(Bundle, tenant=t, bundle_id=bundle_id)
    response = HttpResponse(bytes(bundle.data), content_type="application/vnd.aiot.bundle+zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{bundle.blueprint_slug or "bundle"}-{bundle_id[:12]}.aiotb"'
    )
    response["X-Bundle-Sha256"] = bundle_id
    return response


@extend_schema_view(
    list=extend_schema(
        summary="Devices of the tenant",
        parameters=[
            OpenApiParameter("group", str, description="exactly this group"),
            OpenApiParameter("state", str, description="online, offline or unknown"),
        ],
        responses={200: DeviceSerializer(many=True), **errors(*TENANT_READ)},
    ),
    retrieve=extend_schema(summary="A device", responses={200: DeviceSerializer, **errors(*TENANT_READ)}),
    create=extend_schema(
        summary="Register a device (its token is shown once)",
        request=DeviceCreateSerializer,
        responses={201: DeviceCreatedSerializer, **errors(*TENANT_WRITE, 409)},
    ),
    partial_update=extend_schema(
        summary="Rename or regroup a device",
        request=DeviceSerializer,
        responses={200: DeviceSerializer, **errors(*TENANT_WRITE)},
    ),
    destroy=extend_schema(summary="Delete a device", responses={204: None, **errors(*TENANT_READ)}),
)
class DeviceViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Device.objects.all()
    serializer_class = DeviceSerializer
    lookup_field = "device_id"
    lookup_value_regex = "[A-Za-z0-9_.-]{1,128}"
    write_capability = "operate"

    def get_queryset(self):
        qs = super().get_queryset()
        if self.request.query_params.get("group"):
            qs = qs.filter(group=self.request.query_params["group"])
        if self.request.query_params.get("state"):
            qs = qs.filter(state=self.request.query_params["state"])
        return qs

    def create(self, request, tenant):
        body = DeviceCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        device, token = actions.do_register_device(self.actor, self.tenant, **body.validated_data)
        return Response({**DeviceSerializer(device).data, "token": token}, status=status.HTTP_201_CREATED)

    def partial_update(self, request, tenant, device_id):
        body = DeviceSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        fields = {k: v for k, v in body.validated_data.items() if k in ("name", "group")}
        device = actions.do_update_device(self.actor, self.get_object(), **fields)
        return Response(DeviceSerializer(device).data)

    def destroy(self, request, tenant, device_id):
        actions.do_delete_device(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Give the device a new token (shown once); the old one stops working",
        request=None,
        responses={200: DeviceTokenSerializer, **errors(*TENANT_READ)},
    )
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, tenant, device_id):
        return Response({"token": actions.do_rotate_device_token(self.actor, self.get_object())})


@extend_schema_view(
    list=extend_schema(
        summary="Alerts of the tenant, newest first",
        parameters=[
            OpenApiParameter("device", str, description="the device id, exactly"),
            OpenApiParameter("severity", str, description="exactly this severity"),
            OpenApiParameter("acknowledged", str, enum=["true", "false"], description="acknowledged or not"),
            OpenApiParameter("since", float, description="event time at or after (epoch milliseconds)"),
        ],
        responses={200: AlertSerializer(many=True), **errors(400, *TENANT_READ)},
    ),
    retrieve=extend_schema(summary="An alert", responses={200: AlertSerializer, **errors(*TENANT_READ)}),
)
class AlertViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Alert.objects.select_related("acknowledged_by")
    serializer_class = AlertSerializer
    action_capabilities = {"acknowledge": "operate"}

    def get_queryset(self):
        qs = super().get_queryset()
        p = self.request.query_params
        if p.get("device"):
            qs = qs.filter(device_ref=p["device"])
        if p.get("severity"):
            qs = qs.filter(severity=p["severity"])
        if p.get("acknowledged") in ("true", "false"):
            qs = qs.filter(acknowledged_at__isnull=p["acknowledged"] == "false")
        if p.get("since"):
            try:
                qs = qs.filter(ts__gte=float(p["since"]))
            except ValueError:
                raise exceptions.ValidationError({"since": "event time in epoch milliseconds"}) from None
        return qs

    @extend_schema(
        summary="Acknowledge an alert", request=None, responses={200: AlertSerializer, **errors(*TENANT_READ)}
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, tenant, pk):
        alert = actions.do_acknowledge_alert(self.actor, self.tenant, int(self.get_object().pk))
        return Response(AlertSerializer(alert).data)
