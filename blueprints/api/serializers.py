"""What the API shows of each object, and the shapes of request bodies."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Alert, ApiToken, AuditEvent, Blueprint, BlueprintVersion, Bundle, Device, Membership
from ..roles import Role
from .schema import ForkedFromSerializer


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$")
    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(required=False, allow_blank=False, write_only=True, max_length=128)


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class TokenSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "role", "username", "expires_at", "revoked_at", "last_used_at", "created_at"]


class TokenCreatedSerializer(TokenSerializer):
    """The answer to creating a token: the token and its secret."""

    secret = serializers.CharField(read_only=True, help_text="shown once")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "secret"]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, required=False, allow_null=True, default=90)


class AuditSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor", "action", "object_type", "object_id", "before", "after"]


class VersionSerializer(serializers.ModelSerializer):
    params_schema = serializers.JSONField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True, allow_null=True)
    bundles = serializers.SerializerMethodField()

    class Meta:
        model = BlueprintVersion
        fields = [
            "version",
            "state",
            "graph",
            "readme",
            "scenarios",
            "params_schema",
            "created_by",
            "created_at",
            "submitted_at",
            "bundles",
        ]

    def get_bundles(self, obj) -> list[str]:
        return list(obj.bundles.values_list("bundle_id", flat=True)[:20])


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = BlueprintVersion
        fields = ["version", "state", "created_at", "submitted_at"]


class BlueprintSerializer(serializers.ModelSerializer):
    latest_version = serializers.SerializerMethodField()
    versions_count = serializers.IntegerField(source="versions.count", read_only=True)
    forked_from = serializers.SerializerMethodField()

    class Meta:
        model = Blueprint
        fields = [
            "slug",
            "title",
            "description",
            "category",
            "tags",
            "created_at",
            "updated_at",
            "latest_version",
            "versions_count",
            "forked_from",
        ]
        read_only_fields = ["slug", "created_at", "updated_at"]

    @extend_schema_field(VersionSummarySerializer(allow_null=True))
    def get_latest_version(self, obj) -> dict | None:
        v = obj.versions.order_by("-major", "-minor", "-patch").first()
        return VersionSummarySerializer(v).data if v else None

    @extend_schema_field(ForkedFromSerializer(allow_null=True))
    def get_forked_from(self, obj) -> dict | None:
        v = obj.forked_from
        if v is None:
            return None
        return {"tenant": v.blueprint.tenant.slug, "blueprint": v.blueprint.slug, "version": v.version}


class BlueprintCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=63)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000, default="")
    category = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=32, default=list
    )
    graph = serializers.JSONField(required=False)
    readme = serializers.CharField(required=False, allow_blank=True, max_length=200000, default="")


class BlueprintUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    category = serializers.CharField(required=False, allow_blank=True, max_length=64)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=32)


class ForkSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=63)
    title = serializers.CharField(max_length=200, required=False)


class UpgradeRequestSerializer(serializers.Serializer):
    catalog_id = serializers.IntegerField(help_text="a newer catalog entry, as GET …/upgrades lists them")
    params = serializers.JSONField(required=False, default=dict, help_text="values that replace the kept ones")


class VersionCreateSerializer(serializers.Serializer):
    graph = serializers.JSONField()
    readme = serializers.CharField(required=False, allow_blank=True, max_length=200000)
    scenarios = serializers.JSONField(required=False)
    version = serializers.CharField(required=False, max_length=32)


class VersionUpdateSerializer(serializers.Serializer):
    graph = serializers.JSONField(required=False)
    readme = serializers.CharField(required=False, allow_blank=True, max_length=200000)
    scenarios = serializers.JSONField(required=False)


class CompileSerializer(serializers.Serializer):
    params = serializers.JSONField(required=False, default=dict)


class ValidateSerializer(serializers.Serializer):
    graph = serializers.JSONField()
    params = serializers.JSONField(required=False, default=None)


class SimulateSerializer(serializers.Serializer):
    graph = serializers.JSONField(required=False)
    params = serializers.JSONField(required=False, default=None)
    trace = serializers.JSONField(required=False)
    blueprint = serializers.SlugField(required=False)
    version = serializers.CharField(required=False)
    scenario = serializers.CharField(required=False)
    series = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=20, default=list
    )

    def validate(self, attrs):
        by_graph = "graph" in attrs and "trace" in attrs
        by_scenario = all(k in attrs for k in ("blueprint", "version", "scenario"))
        if not by_graph and not by_scenario:
            raise serializers.ValidationError("give graph and trace, or blueprint, version and scenario")
        if "trace" in attrs and not isinstance(attrs["trace"], list):
            raise serializers.ValidationError({"trace": "a list of trace lines"})
        return attrs


class BundleSerializer(serializers.ModelSerializer):
    blueprint = serializers.CharField(source="blueprint_slug")
    version = serializers.CharField(source="blueprint_version")
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Bundle
        fields = ["bundle_id", "blueprint", "version", "params", "size", "created_by", "created_at", "download_url"]

    def get_download_url(self, obj) -> str:
        return reverse("bundle-download", kwargs={"tenant": obj.tenant.slug, "bundle_id": obj.bundle_id})


class DeviceSerializer(serializers.ModelSerializer):
    bundle = serializers.CharField(source="bundle_id", read_only=True)

    class Meta:
        model = Device
        fields = ["device_id", "name", "group", "state", "bundle", "last_status", "last_seen", "created_at"]
        read_only_fields = ["device_id", "state", "bundle", "last_status", "last_seen", "created_at"]


class DeviceCreatedSerializer(DeviceSerializer):
    """The answer to registering a device: the device and its token."""

    token = serializers.CharField(read_only=True, help_text="the device token, shown once")

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "token"]


class DeviceCreateSerializer(serializers.Serializer):
    device_id = serializers.RegexField(r"^[A-Za-z0-9_.-]{1,128}$")
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    group = serializers.CharField(required=False, allow_blank=True, max_length=128, default="")


class AlertSerializer(serializers.ModelSerializer):
    device = serializers.CharField(source="device_ref")
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", default=None, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "device",
            "action",
            "name",
            "severity",
            "message",
            "key",
            "ts",
            "values",
            "received_at",
            "acknowledged_by",
            "acknowledged_at",
        ]
