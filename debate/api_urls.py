"""API routes of the corpus app; included under /api/ in the `api` namespace by config/urls.py."""

from django.urls import URLPattern, URLResolver, path

from debate.api import HealthView, LogoutAllView, LogoutView, ThreadReportView, TokenView

# Articles and comments are served with their labels by the annotations app (which subclasses this app's
# ArticleViewSet and CommentViewSet): the corpus app does not know labels.
urlpatterns: list[URLPattern | URLResolver] = [
    path("health/", HealthView.as_view(), name="health"),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="auth-logout-all"),
    path("articles/<int:pk>/thread-report/", ThreadReportView.as_view(), name="article-thread-report"),
]
