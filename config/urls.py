"""Root URLconf: the API under /api/ (namespace `api`), the workspace pages at the root (namespace `workspace`)."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

api_patterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api:schema", permission_classes=[AllowAny]),
        name="swagger-ui",
    ),
    path("", include("debate.api_urls")),
    # Articles and comments are served with their labels by the annotations app (the corpus app does not know labels).
    path("", include("annotations.api_urls")),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("annotations.urls")),
]
