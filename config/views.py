"""The project's 404 and 500 handlers: JSON under /api/, Django's pages elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Unknown URLs under /api/ answer like the API does: JSON with a one-line detail."""
    if _wants_json(request):
        return JsonResponse({"detail": f"no API endpoint at {request.path}"}, status=404)
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "internal error; the server log has the details"}, status=500)
    return django_server_error(request)
