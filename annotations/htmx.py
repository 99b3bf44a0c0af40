"""htmx on the pages: the typed request django-htmx's middleware makes, and the answers pages share."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through `HtmxMiddleware` (django-htmx's documented typing recipe)."""

    htmx: HtmxDetails


# Pages and their partials share URLs; caches must keep them apart.
vary_on_htmx = vary_on_headers("HX-Request")


def refusal(request: HtmxHttpRequest, message: str, *, status: int) -> HttpResponse:
    """A refused request: for htmx, a fragment holding the one-line error and nothing else; otherwise the
    error page for the status."""
    if request.htmx:
        return render(request, "_refusal.html", {"message": message}, status=status)
    if status == 403:
        raise PermissionDenied(message)
    raise Http404(message)
