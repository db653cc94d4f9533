"""``/api/v1/``: see docs/api.md."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import catalog, deploy, fleet, library, tenancy

tenant_router = SimpleRouter()
tenant_router.trailing_slash = "/?"  # docs/api.md writes actions without the slash; both work
tenant_router.register("blueprints", library.BlueprintViewSet, basename="blueprint")
tenant_router.register(r"blueprints/(?P<slug>[-a-z0-9]+)/versions", library.VersionViewSet, basename="version")
tenant_router.register("bundles", fleet.BundleViewSet, basename="bundle")
tenant_router.register("devices", fleet.DeviceViewSet, basename="device")
tenant_router.register("alerts", fleet.AlertViewSet, basename="alert")
tenant_router.register("deployments", deploy.DeploymentViewSet, basename="deployment")
tenant_router.register("members", tenancy.MemberViewSet, basename="member")
tenant_router.register("tokens", tenancy.TokenViewSet, basename="token")
tenant_router.register("audit", tenancy.AuditViewSet, basename="audit")

root_router = SimpleRouter()
root_router.trailing_slash = "/?"
root_router.register("tenants", tenancy.TenantViewSet, basename="tenant")
root_router.register("catalog", catalog.CatalogViewSet, basename="catalog")

urlpatterns = [
    path("auth/login", tenancy.login_view, name="login"),
    path("auth/logout", tenancy.logout_view, name="logout"),
    path("auth/me", tenancy.me_view, name="me"),
    path("node-types", library.node_types_view, name="node-types"),
    path("validate", library.validate_view, name="validate"),
    path("t/<slug:tenant>/simulate", library.SimulateView.as_view(), name="simulate"),
    path("t/<slug:tenant>/tasks/<str:task_id>", library.TaskView.as_view(), name="task"),
    path("t/<slug:tenant>/bundles/<str:bundle_id>/download", fleet.bundle_download, name="bundle-download"),
    path("t/<slug:tenant>/", include(tenant_router.urls)),
    path("", include(root_router.urls)),
]
