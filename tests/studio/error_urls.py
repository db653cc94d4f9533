"""The studio's URLconf with plain Django views (no DRF) in front, under /api/ and elsewhere, so
that tests/studio/test_errors.py can reach the errors Django answers itself: a failed CSRF check,
a PermissionDenied, a bug, a body too large."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path

from aiot_studio import urls as studio


def plain(request):
    """Not CSRF-exempt, unlike DRF's views; reads a form body."""
    return HttpResponse(f"{len(request.POST)} fields")


def boom(request):
    raise RuntimeError("a bug outside DRF's views")


def denied(request):
    raise PermissionDenied("plain Django says no")


urlpatterns = [
    *(path(f"{prefix}test/plain", plain) for prefix in ("api/", "")),
    *(path(f"{prefix}test/boom", boom) for prefix in ("api/", "")),
    *(path(f"{prefix}test/denied", denied) for prefix in ("api/", "")),
    *studio.urlpatterns,
]

# The studio's handlers (Django's defaults where it has none).
handler400 = getattr(studio, "handler400", "django.views.defaults.bad_request")
handler403 = getattr(studio, "handler403", "django.views.defaults.permission_denied")
handler404 = getattr(studio, "handler404", "django.views.defaults.page_not_found")
handler500 = getattr(studio, "handler500", "django.views.defaults.server_error")
