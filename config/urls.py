"""Project URLs: the API under /api/, the browser pages at the root."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from debate.views import ArticleViewSet, HealthView, TokenView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("articles", ArticleViewSet, basename="article")

api_patterns: list[URLPattern | URLResolver] = [
    path("health/", HealthView.as_view(), name="health"),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny]),
        name="swagger-ui",
    ),
    path("", include(router.urls)),
    # Comments are served with their labels by the annotations app (the corpus app does not know labels).
    path("", include("annotations.urls")),
]

handler404 = "debate.views.not_found"
handler500 = "debate.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("annotations.page_urls")),
]
