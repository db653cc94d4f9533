"""The browser app: Django serves the built frontend's index.html for every non-API path."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie

NOT_BUILT = """<!doctype html><title>AIoT Studio</title>
<p>The browser app is not built: run <code>make studio</code> (it runs <code>npm ci && npm run build</code>
in <code>frontend/</code>). The API is at <a href="/api/docs/">/api/docs/</a>.</p>"""


@ensure_csrf_cookie
def frontend(request: HttpRequest) -> HttpResponse:
    index = settings.FRONTEND_DIST / "index.html"
    if not index.is_file():
        return HttpResponse(NOT_BUILT, status=503)
    return HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
