"""API routes of the corpus app; included under /api/ in the `api` namespace by config/urls.py."""

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

from debate.api import ArticleViewSet, HealthView, TokenView

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("articles", ArticleViewSet, basename="article")

urlpatterns: list[URLPattern | URLResolver] = [
    path("health/", HealthView.as_view(), name="health"),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("", include(router.urls)),
]
