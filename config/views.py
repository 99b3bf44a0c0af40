"""The project's 403, 404 and 500 pages: JSON under /api/, the app's own pages elsewhere, also under DEBUG.

Django answers a missing page under DEBUG with its technical page, before any handler404 is consulted;
`AppErrorPages` puts the app's page in its place, so that a newcomer on `make run` who mistypes a URL gets a
way back rather than a URL dump.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import server_error as django_server_error


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _message(exception: Exception | None) -> str:
    """A view's own explanation (Http404("…")), but never the resolver's dump of URL patterns."""
    if exception is None or not exception.args or not isinstance(exception.args[0], str):
        return ""
    return exception.args[0]


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown URLs under /api/ answer like the API does: JSON with a one-line detail; pages get the app's."""
    if _wants_json(request):
        return JsonResponse({"detail": f"no API endpoint at {request.path}"}, status=404)
    response = render(request, "404.html", {"message": _message(exception)}, status=404)
    response.app_error_page = True  # type: ignore[attr-defined]
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django itself refuses (a SuspiciousOperation, a body it cannot parse): JSON under /api/."""
    if _wants_json(request):
        return JsonResponse({"detail": _message(exception) or "bad request"}, status=400)
    return django_bad_request(request, exception or Exception())


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": _message(exception) or "your role cannot do this"}, status=403)
    response = render(request, "403.html", {"message": _message(exception)}, status=403)
    response.app_error_page = True  # type: ignore[attr-defined]
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "internal error; the server log has the details"}, status=500)
    return django_server_error(request)


class AppErrorPages:
    """Under DEBUG too: a page view's Http404 or PermissionDenied, and a URL nothing matches, get the app's
    404 and 403 pages (htmx requests keep their fragments; the API its JSON)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not getattr(response, "app_error_page", False)
            and not getattr(request, "htmx", False)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return not_found(request)  # JSON under /api/, as without DEBUG
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not settings.DEBUG or _wants_json(request):
            return None
        if isinstance(exception, Http404):
            return not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return forbidden(request, exception)
        return None
