"""Read API over the corpus, and the health check."""

from __future__ import annotations

from typing import cast

from django.db import DatabaseError, connection
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from debate.actions import article_thread_report
from debate.filters import CommentFilter
from debate.models import Article, Comment
from debate.serializers import ArticleDetailSerializer, ArticleSerializer, CommentSerializer
from debate.thread_report import BadReference, article_reference, report_as_dict


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


_SCORES = inline_serializer(
    "ThreadReportScores",
    {
        "min": serializers.FloatField(allow_null=True),
        "median": serializers.FloatField(allow_null=True),
        "mean": serializers.FloatField(allow_null=True),
        "max": serializers.FloatField(allow_null=True),
    },
)
_REPORT = inline_serializer(
    "ThreadReport",
    {
        "documents": serializers.ListField(child=serializers.CharField()),
        "comments": serializers.IntegerField(),
        "links": serializers.IntegerField(),
        "methods": inline_serializer(
            "ThreadReportMethod",
            {
                "method": serializers.ChoiceField(choices=["mention", "quote", "content", "manual"]),
                "links": serializers.IntegerField(),
                "scores": _SCORES,
                "correct": serializers.IntegerField(required=False, help_text="With a reference."),
                "wrong": serializers.IntegerField(required=False),
                "precision": serializers.FloatField(required=False, allow_null=True),
                "recall": serializers.FloatField(required=False, allow_null=True),
                "primary_parents": serializers.IntegerField(required=False),
                "primary_accuracy": serializers.FloatField(required=False, allow_null=True),
            },
            many=True,
        ),
        "reference": inline_serializer(
            "ThreadReportReference",
            {
                "links": serializers.IntegerField(),
                "correct": serializers.IntegerField(),
                "wrong": serializers.IntegerField(),
                "missed": serializers.IntegerField(),
                "precision": serializers.FloatField(),
                "recall": serializers.FloatField(),
                "primary_compared": serializers.IntegerField(),
                "primary_accuracy": serializers.FloatField(),
                "wrong_links": serializers.ListField(child=serializers.DictField()),
                "missed_links": serializers.ListField(child=serializers.DictField()),
            },
            required=False,
            help_text="Only when a reference was posted.",
        ),
    },
)


class ThreadReportView(APIView):
    """How good an imported article's reply links are: per method (mention, quote, content, and a curator's
    manual ones) how many links there are and their scores. POST a reference of hand-made links to get
    precision, recall and primary-parent accuracy too: `{"5": [1], "36": [30, 28]}` (comment number to the
    numbers it replies to, primary first), or the `thread_report --reference` file format keyed by the
    article's source name. Reply links are no labels: any signed-in user may read them."""

    @extend_schema(operation_id="articles_thread_report_retrieve", responses=_REPORT)
    def get(self, request: Request, pk: int) -> Response:
        return Response(report_as_dict(article_thread_report(article_id=pk)))

    @extend_schema(
        operation_id="articles_thread_report_score",
        request=inline_serializer(
            "ThreadReportReferenceLinks",
            {"<comment number>": serializers.ListField(child=serializers.IntegerField())},
        ),
        responses=_REPORT,
    )
    def post(self, request: Request, pk: int) -> Response:
        source = Article.objects.filter(pk=pk).values_list("source", flat=True).first()
        if source is None:
            raise NotFound("no such article")
        try:
            reference = article_reference(request.data, source)
            report = article_thread_report(article_id=pk, reference=reference)
        except BadReference as error:
            raise ValidationError(str(error)) from None
        return Response(report_as_dict(report))
