"""URLs: the API, its schema and docs, and the browser app for every other path."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from blueprints.views import frontend

urlpatterns = [
    path("api/v1/", include("blueprints.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^(?!api/|ws/|static/).*$", frontend, name="frontend"),
]

# Errors Django answers itself (no route, a bad Host, a bug outside DRF's views): JSON under /api/,
# Django's pages for the browser app's paths. DRF's views answer theirs in blueprints/api/errors.py.
handler400 = "blueprints.api.errors.bad_request"
handler403 = "blueprints.api.errors.permission_denied"
handler404 = "blueprints.api.errors.not_found"
handler500 = "blueprints.api.errors.server_error"
