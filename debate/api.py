"""Read API over the corpus, and the health check."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, user_logged_in
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from config.login_limits import lockout_response
from debate.actions import article_thread_report, issue_api_token, revoke_api_tokens
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


class CredentialsSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class IssuedTokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`; shown only this once.")
    expiry = serializers.DateTimeField(allow_null=True, help_text="After this the token no longer works.")


class TokenView(APIView):
    """POST username and password, get a new token for `Authorization: Token <token>`.

    Only the token's digest is stored; it expires (`expiry`), `logout/` revokes it and `logout-all/` every
    token of the user, as does a password change. Too many wrong passwords answer 429 with Retry-After
    (see config/login_limits.py) without checking the password at all."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        request=CredentialsSerializer,
        responses={
            200: IssuedTokenSerializer,
            400: OpenApiResponse(description="wrong username or password, or a malformed body"),
            429: OpenApiResponse(
                response=inline_serializer(
                    "LockedOut", {"detail": serializers.CharField(), "retry_after": serializers.IntegerField()}
                ),
                description="too many failed logins from this client or for this account; see Retry-After",
            ),
        },
        summary="Log in: a new API token",
    )
    def post(self, request: Request) -> Response | HttpResponse:
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        # Django's own request, so that django-axes can flag a lockout where its middleware looks.
        http_request = request._request
        user = authenticate(http_request, **credentials.validated_data)
        if user is None:
            if getattr(http_request, "axes_locked_out", False):
                return lockout_response(http_request, None, {"username": credentials.validated_data["username"]})
            raise ValidationError("Unable to log in with provided credentials.")
        user_logged_in.send(sender=type(user), request=http_request, user=user)
        issued = issue_api_token(user=user)
        return Response(IssuedTokenSerializer(issued).data)


class LogoutView(APIView):
    """Revoke the token this request is authenticated with."""

    @extend_schema(
        request=None,
        responses={204: None, 400: OpenApiResponse(description="the request was not made with an API token")},
        summary="Revoke this API token",
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, AuthToken):
            raise ValidationError("this request carries no API token to revoke (it is authenticated by a session)")
        revoke_api_tokens(user=request.user, token=request.auth)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    """Revoke every API token of the requesting user (with a token or a browser session)."""

    @extend_schema(
        request=None,
        responses={200: inline_serializer("Revoked", {"revoked": serializers.IntegerField()})},
        summary="Revoke all my API tokens",
    )
    def post(self, request: Request) -> Response:
        return Response({"revoked": revoke_api_tokens(user=request.user)})  # type: ignore[arg-type]


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
