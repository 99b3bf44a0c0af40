"""Root URLconf: the API under /api/ (namespace `api`), the workspace pages at the root (namespace `workspace`)."""

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

api_patterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        # The split view serves its start-up script as a file (?script), not inline: the CSP allows only files.
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", permission_classes=[AllowAny], template_name="api/swagger_ui.html"
        ),
        name="swagger-ui",
    ),
    path("", include("debate.api_urls")),
    # Articles and comments are served with their labels by the annotations app (the corpus app does not know labels).
    path("", include("annotations.api_urls")),
]

PASSWORD_RESET_VIEWS = {"password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete"}


def needs_mail(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Password reset mails a link: without mail set up (EMAIL_URL) its pages are not there, rather than
    failing on every request."""

    @functools.wraps(view)
    def served_with_mail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.EMAIL_URL:
            raise Http404("password reset needs mail, and this server has none set up")
        return view(request, *args, **kwargs)

    return served_with_mail


account_patterns = [
    path(str(pattern.pattern), needs_mail(pattern.callback), name=pattern.name)
    if isinstance(pattern, URLPattern) and pattern.name in PASSWORD_RESET_VIEWS
    else pattern
    for pattern in auth_urls.urlpatterns
]

handler400 = "config.views.bad_request"
handler403 = "config.views.forbidden"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
    path("accounts/", include(account_patterns)),
    path("", include("annotations.urls")),
]
