"""Signing in, tenants, members and roles, API tokens, the audit log."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from .. import actions
from ..actions.context import Actor
from ..models import ApiToken, AuditEvent, Membership, Tenant
from .base import TenantScopedMixin
from .schema import BODY, SIGNED_IN, TENANT_READ, TENANT_WRITE, MeSerializer, TenantSerializer, errors
from .serializers import (
    AuditSerializer,
    MemberCreateSerializer,
    MembershipSerializer,
    RoleSerializer,
    TokenCreatedSerializer,
    TokenCreateSerializer,
    TokenSerializer,
)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128)


def me_payload(user) -> dict:
    memberships = Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__slug")
    return {
        "user": {"id": user.pk, "username": user.username, "is_platform_admin": user.is_superuser},
        "memberships": [
            {"tenant": {"slug": m.tenant.slug, "name": m.tenant.name}, "role": m.role, "capabilities": m.capabilities}
            for m in memberships
        ],
    }


@extend_schema(
    summary="Sign in (sets the session cookie)",
    request=LoginSerializer,
    responses={200: MeSerializer, **errors(*BODY, 401, 403)},
)
@api_view(["POST"])
@permission_classes([AllowAny])
def login_view(request):
    body = LoginSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    user = authenticate(request, **body.validated_data)
    if user is None:
        raise exceptions.AuthenticationFailed("wrong username or password")
    login(request, user)
    get_token(request)  # a fresh CSRF cookie for the new session
    return Response(me_payload(user))


@extend_schema(summary="Sign out", request=None, responses={204: None, **errors(401, 403)})
@api_view(["POST"])
@permission_classes([AllowAny])
def logout_view(request):
    logout(request)
    return Response(status=status.HTTP_204_NO_CONTENT)


@ensure_csrf_cookie
@extend_schema(summary="The signed-in user and their memberships", responses={200: MeSerializer, **errors(*SIGNED_IN)})
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me_view(request):
    return Response(me_payload(request.user))


class TenantCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=63)
    name = serializers.CharField(max_length=200)
    admin_username = serializers.CharField(max_length=150, required=False)


@extend_schema_view(
    list=extend_schema(
        summary="The tenants I am a member of", responses={200: TenantSerializer(many=True), **errors(401)}
    ),
    create=extend_schema(
        summary="Create a tenant (platform admins)",
        request=TenantCreateSerializer,
        responses={201: TenantSerializer, **errors(*BODY, 401, 403, 409)},
    ),
)
class TenantViewSet(viewsets.ViewSet):
    """Platform admins create tenants; everyone sees the tenants they are a member of."""

    def list(self, request):
        tenants = Tenant.objects.filter(memberships__user=request.user).order_by("slug")
        return Response([{"slug": t.slug, "name": t.name} for t in tenants])

    def create(self, request):
        body = TenantCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = actions.do_create_tenant(Actor.of(request), **body.validated_data)
        return Response({"slug": tenant.slug, "name": tenant.name}, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="Members of the tenant", responses={200: MembershipSerializer(many=True), **errors(*TENANT_READ)}
    ),
    retrieve=extend_schema(summary="A member", responses={200: MembershipSerializer, **errors(*TENANT_READ)}),
    create=extend_schema(
        summary="Add a member (creates the user if new)",
        request=MemberCreateSerializer,
        responses={201: MembershipSerializer, **errors(*TENANT_WRITE, 409)},
    ),
    partial_update=extend_schema(
        summary="Change a member's role",
        request=RoleSerializer,
        responses={200: MembershipSerializer, **errors(*TENANT_WRITE, 409)},
    ),
    destroy=extend_schema(summary="Remove a member", responses={204: None, **errors(*TENANT_READ, 409)}),
)
class MemberViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Membership.objects.select_related("user").order_by("user__username")
    serializer_class = MembershipSerializer
    read_capability = write_capability = "admin"
    pagination_class = None

    def create(self, request, tenant):
        body = MemberCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        m = actions.do_add_member(self.actor, self.tenant, **body.validated_data)
        return Response(MembershipSerializer(m).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, tenant, pk):
        body = RoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        m = actions.do_change_member_role(
            self.actor, self.tenant, int(self.get_object().pk), body.validated_data["role"]
        )
        return Response(MembershipSerializer(m).data)

    def destroy(self, request, tenant, pk):
        actions.do_remove_member(self.actor, self.tenant, int(self.get_object().pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="API tokens of the tenant", responses={200: TokenSerializer(many=True), **errors(*TENANT_READ)}
    ),
    retrieve=extend_schema(summary="An API token", responses={200: TokenSerializer, **errors(*TENANT_READ)}),
    create=extend_schema(
        summary="Create an API token (its secret is shown once)",
        request=TokenCreateSerializer,
        responses={201: TokenCreatedSerializer, **errors(*TENANT_WRITE)},
    ),
    destroy=extend_schema(summary="Revoke an API token", responses={204: None, **errors(*TENANT_READ)}),
)
class TokenViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ApiToken.objects.select_related("user").order_by("-created_at")
    serializer_class = TokenSerializer
    read_capability = write_capability = "admin"
    pagination_class = None

    def create(self, request, tenant):
        body = TokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, secret = actions.do_create_api_token(self.actor, self.tenant, **body.validated_data)
        return Response({**TokenSerializer(token).data, "secret": secret}, status=status.HTTP_201_CREATED)

    def destroy(self, request, tenant, pk):
        actions.do_revoke_api_token(self.actor, self.tenant, int(self.get_object().pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="The tenant's audit log, newest first",
        parameters=[
            OpenApiParameter("actor", str, description="the actor's label contains this (case-insensitive)"),
            OpenApiParameter("action", str, description="the action starts with this, e.g. `blueprint.`"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="at or after (ISO 8601)"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="before (ISO 8601)"),
        ],
        responses={200: AuditSerializer(many=True), **errors(400, *TENANT_READ)},
    ),
)
class AuditViewSet(TenantScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = AuditEvent.objects.all()
    serializer_class = AuditSerializer
    read_capability = write_capability = "admin"

    def get_queryset(self):
        qs = super().get_queryset()
        params = self.request.query_params
        if params.get("actor"):
            qs = qs.filter(actor_label__icontains=params["actor"])
        if params.get("action"):
            qs = qs.filter(action__startswith=params["action"])
        for name, lookup in (("since", "at__gte"), ("until", "at__lt")):
            if params.get(name):
                try:
                    when = parse_datetime(params[name])
                except ValueError:  # well formed but impossible: February 30, second 60, offset +25:00
                    when = None
                if when is None:
                    raise exceptions.ValidationError({name: "an ISO 8601 date and time"})
                if timezone.is_naive(when):
                    when = timezone.make_aware(when, dt.UTC)
                try:  # in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 happily writes
                    when = when.astimezone(dt.UTC)
                except OverflowError:
                    raise exceptions.ValidationError({name: "a date and time within years 1 to 9999"}) from None
                qs = qs.filter(**{lookup: when})
        return qs
