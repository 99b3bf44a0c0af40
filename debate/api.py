"""Read API over the corpus, and the health check."""

from __future__ import annotations

from typing import cast

from django.db import DatabaseError, connection
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from debate.filters import CommentFilter
from debate.models import Article, Comment
from debate.serializers import ArticleDetailSerializer, ArticleSerializer, CommentSerializer


class ArticleViewSet(viewsets.ReadOnlyModelViewSet[Article]):
    """Imported articles with their author, tags and comment count; the detail adds the body."""

    queryset = Article.objects.with_listing().order_by("source")

    def get_serializer_class(self) -> type[BaseSerializer[Article]]:
        return ArticleDetailSerializer if self.action == "retrieve" else ArticleSerializer

    def get_queryset(self) -> QuerySet[Article]:
        queryset = super().get_queryset()
        return queryset if self.action == "retrieve" else queryset.defer("body", "author_bio")


class CommentViewSet(viewsets.ReadOnlyModelViewSet[Comment]):
    """Comments in file order (article, then number), with their reply links."""

    queryset = Comment.objects.with_thread().in_file_order()
    serializer_class = CommentSerializer
    filterset_class = CommentFilter


class HealthView(APIView):
    """Liveness and database reachability; open to anyone, for load balancers and monitors."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        responses=inline_serializer("Health", {"status": serializers.CharField(), "database": serializers.CharField()})
    )
    def get(self, request: Request) -> Response:
        database = "postgresql" if connection.vendor == "postgresql" else connection.vendor
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as error:
            return Response(
                {"status": "error", "database": database, "detail": f"database unreachable: {error}".splitlines()[0]},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"status": "ok", "database": database})


class TokenView(ObtainAuthToken):
    """POST username and password, get the token for `Authorization: Token <token>`.

    DRF's view pins its own parsers; these are the project's, which answer malformed JSON with a 400."""

    parser_classes = cast(list[type[BaseParser]], api_settings.DEFAULT_PARSER_CLASSES)  # classes once loaded
