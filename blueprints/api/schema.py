"""What the OpenAPI schema (``/api/schema/``) needs beyond the views: how callers authenticate,
the one error shape every endpoint answers with (component ``Error``), and the shapes of answers
that are not a model serializer's. Documentation only: no view uses these to parse or render.

Imported by ``BlueprintsConfig.ready()`` so that the authentication extensions are registered
before drf-spectacular first looks at a view."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from ..roles import CAPABILITIES, Role
from .errors import CODES

# --- authentication ------------------------------------------------------------------------------


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "blueprints.api.auth.BearerTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "aiot_api_<prefix>_<secret>",
            "description": "A user's API token (POST /t/{tenant}/tokens/): `Authorization: Bearer aiot_api_…`.",
        }


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "blueprints.api.auth.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "aiot_dev_<prefix>_<secret>",
            "description": "A device's token (POST /t/{tenant}/devices/); opens the bundle download only.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "blueprints.api.auth.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The browser's session (POST /auth/login). Unsafe methods also need the "
            "`csrftoken` cookie's value as `X-CSRFToken`.",
        }


# --- the error shape -----------------------------------------------------------------------------

ERROR_CODES = sorted({*CODES.values(), "parse_error", "server_error", "error"})


class ProblemSerializer(serializers.Serializer):
    """One validation problem of a graph."""

    node = serializers.CharField(allow_null=True)
    path = serializers.CharField(help_text="a JSON pointer into the graph")
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ERROR_CODES)
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True, help_text="the request field at fault, if one")
    details = serializers.JSONField(required=False, help_text="DRF's error details (by field) for validation errors")
    problems = ProblemSerializer(
        many=True, required=False, help_text="POST /t/{tenant}/simulate only: the graph's problems"
    )


class ErrorSerializer(serializers.Serializer):
    """Every API error: ``{"error": {"code", "message", "field", "details"?}}``."""

    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "invalid request (`validation`, `parse_error`)",
    401: "not signed in, or a bad token (`not_authenticated`)",
    403: "your role may not do this, or a missing CSRF token (`forbidden`)",
    404: "no such object, or a tenant you are not a member of (`not_found`)",
    409: "the object's state forbids it (`conflict`)",
    413: "the request body is too large (`too_large`)",
    415: "the body is not JSON (`unsupported_media_type`)",
}


def errors(*statuses: int) -> dict:
    """Responses for these error statuses, each the shared ``Error`` component."""
    return {s: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[s]) for s in statuses}


# Status sets most operations share.
SIGNED_IN = (401,)
TENANT_READ = (401, 403, 404)
BODY = (400, 413, 415)  # a JSON request body: invalid, too large, not JSON
TENANT_WRITE = (*BODY, 401, 403, 404)


# --- shapes of answers ---------------------------------------------------------------------------


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_platform_admin = serializers.BooleanField()


class TenantSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class MeMembershipSerializer(serializers.Serializer):
    tenant = TenantSerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    capabilities = serializers.ListField(child=serializers.ChoiceField(choices=list(CAPABILITIES)))


class MeSerializer(serializers.Serializer):
    user = UserSerializer()
    memberships = MeMembershipSerializer(many=True)


class ValidationResultSerializer(serializers.Serializer):
    problems = ProblemSerializer(many=True, help_text="empty when the graph is valid")


class NodeTypesSerializer(serializers.Serializer):
    """The node-type registry (``aiot.node-types/v1``)."""

    format = serializers.CharField()
    groups = serializers.ListField(child=serializers.DictField())
    port_types = serializers.ListField(child=serializers.CharField())
    compatibility = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    node_types = serializers.ListField(
        child=serializers.DictField(),
        help_text="per type: type, group, doc, params_schema, inputs, output, stateful, variadic?, open_ports?",
    )


class SimulationSerializer(serializers.Serializer):
    records = serializers.ListField(child=serializers.DictField(), help_text="the action records, in order")
    summary = serializers.DictField()
    series = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField()), help_text="per charted node: [[ts, key, value], …]"
    )
    counts = serializers.DictField(child=serializers.DictField(), help_text="per node: {evaluated, fired}")
    truncated = serializers.BooleanField()


class TaskSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    state = serializers.CharField(help_text="Celery's: PENDING, STARTED, PROGRESS, SUCCESS, FAILURE, …")
    progress = serializers.FloatField(allow_null=True)
    step = serializers.CharField(allow_null=True)
    result = serializers.JSONField(required=False, help_text="when the task succeeded")
    error = serializers.CharField(required=False, help_text="when the task failed")


class TaskStartedSerializer(serializers.Serializer):
    task_id = serializers.CharField()


class CertificationStartedSerializer(serializers.Serializer):
    certification = serializers.IntegerField()
    task_id = serializers.CharField()


class CertificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField(help_text="running, certified or failed")
    steps = serializers.ListField(child=serializers.DictField())
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    report_available = serializers.BooleanField()


class DiffPartSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.CharField(), required=False)


class VersionDiffSerializer(serializers.Serializer):
    nodes = DiffPartSerializer()
    edges = DiffPartSerializer()
    params = DiffPartSerializer()


class UpgradeSerializer(serializers.Serializer):
    catalog_id = serializers.IntegerField()
    version = serializers.CharField()
    diff = VersionDiffSerializer()


class ForkedFromSerializer(serializers.Serializer):
    tenant = serializers.SlugField()
    blueprint = serializers.SlugField()
    version = serializers.CharField()


class DeviceTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="the new device token, shown once")


class InstalledSerializer(serializers.Serializer):
    tenant = serializers.SlugField()
    slug = serializers.SlugField()
    version = serializers.CharField()


class TelemetrySerializer(serializers.Serializer):
    source = serializers.CharField(help_text="the source node's id")
    topic = serializers.CharField(allow_null=True)
    key = serializers.CharField(allow_null=True)
    schema = serializers.JSONField(allow_null=True)


class CertificateSerializer(serializers.Serializer):
    verdict = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)
    figures = serializers.DictField(child=serializers.DictField(), help_text="per step")
    signed_report = serializers.DictField(required=False, help_text="an entry's own page only, not the list")


# --- request examples (also what schemathesis's examples phase sends first) ------------------------

EXAMPLE_GRAPH = {
    "format": "aiot.graph/v1",
    "name": "overspeed",
    "params": {"type": "object", "properties": {"limit": {"type": "number", "default": 8}}},
    "nodes": [
        {
            "id": "forklift",
            "type": "source.telemetry",
            "params": {
                "topic": "site/+/forklift/+/telemetry",
                "key": "topic:3",
                "schema": {
                    "type": "object",
                    "required": ["speed_kmh"],
                    "properties": {"speed_kmh": {"type": "number"}},
                },
            },
        },
        {"id": "speed", "type": "field", "params": {"path": "speed_kmh"}},
        {"id": "fast", "type": "compare", "params": {"op": "gt", "value": {"$param": "limit"}}},
        {"id": "alarm", "type": "action.alert", "params": {"name": "overspeed"}},
    ],
    "edges": [
        {"from": "forklift", "to": "speed"},
        {"from": "speed", "to": "fast.a"},
        {"from": "fast", "to": "alarm.trigger"},
    ],
}
EXAMPLE_TRACE = [
    {"topic": "site/a/forklift/f1/telemetry", "payload": {"ts": 1000, "speed_kmh": 6}},
    {"topic": "site/a/forklift/f1/telemetry", "payload": {"ts": 2000, "speed_kmh": 12}},
]

VALIDATE_EXAMPLES = [
    OpenApiExample("a graph", value={"graph": EXAMPLE_GRAPH, "params": {"limit": 10}}, request_only=True)
]
SIMULATE_EXAMPLES = [
    OpenApiExample(
        "a graph and a trace",
        value={"graph": EXAMPLE_GRAPH, "trace": EXAMPLE_TRACE, "series": ["speed"]},
        request_only=True,
    ),
    OpenApiExample(
        "a version's scenario",
        value={"blueprint": "overspeed", "version": "0.1.0", "scenario": "one"},
        request_only=True,
    ),
]
BLUEPRINT_EXAMPLES = [
    OpenApiExample(
        "a blueprint",
        value={
            "slug": "cold-chain",
            "title": "Cold chain",
            "category": "logistics",
            "tags": ["temperature"],
            "graph": EXAMPLE_GRAPH,
        },
        request_only=True,
    )
]
VERSION_EXAMPLES = [
    OpenApiExample("a new draft", value={"graph": EXAMPLE_GRAPH, "readme": "# Overspeed"}, request_only=True)
]
INSTALL_EXAMPLES = [
    OpenApiExample(
        "into a tenant of mine", value={"tenant": "acme", "slug": "warehouse-copy", "params": {}}, request_only=True
    )
]


def document_refused_text(result, generator, request, public):
    """A drf-spectacular postprocessing hook for the answers every operation may give: 400 when
    its path or a query parameter holds text no database can store
    (``api.middleware.RejectUnstorableText``), 406 when the ``Accept`` header admits no JSON (DRF's
    content negotiation)."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    every = {
        "400": "the path or a query parameter holds a NUL character or invalid UTF-8 (`validation`)",
        "406": "the `Accept` header admits no JSON, the only media type answered (`not_acceptable`)",
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for status, description in every.items():
                operation["responses"].setdefault(status, {"description": description, "content": error})
    return result
