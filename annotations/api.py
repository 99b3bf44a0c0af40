"""REST API for topics, labels, reply-link corrections, threads, history and dataset exports."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from annotations import actions, records
from annotations.assignment import actions as assignment_actions
from annotations.assignment import queries as assignment_queries
from annotations.export.formats import ANNOTATION_COLUMNS, csv_lines, in_blocks, jsonl_lines
from annotations.export.rows import annotation_export_rows, comment_export_records, export_filename
from annotations.filters import AnnotationFilter, ArticleFilter, ChangeEventFilter, CommentFilter
from annotations.guidelines import guideline_history, outdated, revise_guidelines
from annotations.items import LabelItem
from annotations.models import Annotation, AssignmentSettings, ChangeEvent, Topic
from annotations.permissions import (
    CanCorrectReplyLinks,
    CanCurate,
    CanExport,
    SeesAllLabels,
    WritesOwnLabels,
    sees_all_labels,
)
from annotations.quality import queries
from annotations.querysets import with_labels_for
from annotations.serializers import (
    AnnotationSerializer,
    BatchSerializer,
    BatchWriteSerializer,
    ChangeEventSerializer,
    GoldInputSerializer,
    LabelInputSerializer,
    LabelledArticleDetailSerializer,
    LabelledArticleSerializer,
    LabelledCommentSerializer,
    ParentInputSerializer,
    ThreadNodeSerializer,
    TopicSerializer,
    annotation_record,
    consensus_of,
    gold_of,
)
from annotations.suggestions.queries import suggestions_for
from config.drf import exception_handler
from debate.api import ArticleViewSet, CommentViewSet
from debate.db import one_snapshot
from debate.models import Article, Comment
from debate.roles import Role, authenticated_user, has_role
from debate.trees import nested_json


# `get`, not `filter().first()`: a unique key needs no ordering, and compiling the default one cost every
# label write 0.2 ms of CPU per lookup.
def topic_or_404(slug: str) -> Topic:
    try:
        return Topic.objects.get(slug=slug)
    except Topic.DoesNotExist:
        raise NotFound(f"unknown topic {slug!r}; see /api/topics/") from None


def comment_or_404(comment_id: int) -> Comment:
    try:
        return Comment.objects.get(pk=comment_id)
    except Comment.DoesNotExist:
        raise NotFound(f"no comment with id {comment_id}") from None


def article_or_404(article_id: int) -> Article:
    try:
        return Article.objects.get(pk=article_id)
    except Article.DoesNotExist:
        raise NotFound(f"no article with id {article_id}") from None


def item_or_404(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The labelled item a URL names, as the actions' keyword: `{"comment": ...}` or `{"article": ...}`."""
    if "comment_id" in kwargs:
        return {"comment": comment_or_404(kwargs["comment_id"])}
    return {"article": article_or_404(kwargs["article_id"])}


def flag_param(request: Request, name: str) -> bool:
    """A true/false query parameter (also 1/0); absent or empty is false, anything else a 400 naming it."""
    value = request.query_params.get(name, "")
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0", ""):
        return False
    raise ValidationError({name: [f"{value!r} is not a boolean; use true or false"]})


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("all", OpenApiTypes.BOOL, description="Include inactive topics too (default: false)")
        ]
    )
)
class TopicViewSet(viewsets.ReadOnlyModelViewSet[Topic]):
    """The topics annotators judge, in their display order; `?all=true` includes inactive ones."""

    serializer_class = TopicSerializer
    lookup_field = "slug"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Topic]:
        if self.action == "list" and not flag_param(self.request, "all"):
            return Topic.objects.active()
        return Topic.objects.all()


class LabelledCommentViewSet(CommentViewSet):
    """Comments with the caller's own labels and, for curators, researchers and admins, the consensus."""

    serializer_class = LabelledCommentSerializer
    filterset_class = CommentFilter

    # Lists are built from rows by annotations.records, the same records without per-object overhead.
    records_from_rows = True

    def get_queryset(self) -> QuerySet[Comment]:
        return with_labels_for(super().get_queryset(), self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not self.records_from_rows:
            return super().list(request, *args, **kwargs)
        comments = self.filter_queryset(self.get_queryset())
        rows: Any = records.rows_of(comments)
        if request.query_params.get("unannotated") == "true":  # the caller's queue, in the page's order
            order = assignment_queries.steered_order(request.user, comments)
            if order is not None:
                rows = InOrder(rows, order)
        page = self.paginate_queryset(rows)
        data = records.records(list(rows) if page is None else page, request.user)
        return Response(data) if page is None else self.get_paginated_response(data)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        comments = args[0] if args else kwargs.get("instance")
        if comments is not None:
            kwargs["context"] = label_context(self.request, comments)
        return super().get_serializer(*args, **kwargs)


class InOrder:
    """Rows of these ids in this order, fetched a page at a time: what the paginator slices."""

    def __init__(self, rows: QuerySet[Any], ids: list[int]) -> None:
        self.rows, self.ids = rows, ids

    def count(self) -> int:
        return len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: slice) -> list[Any]:
        wanted = self.ids[index]
        found = {row[0]: row for row in self.rows.filter(pk__in=wanted)}
        return [found[pk] for pk in wanted if pk in found]

    def __iter__(self) -> Iterator[Any]:
        return iter(self[:])


class LabelledArticleViewSet(ArticleViewSet):
    """Articles with the caller's own labels on the article itself and, for curators, researchers and admins,
    its consensus and gold labels; `topic` + `stance`/`status`/`annotator`/`unannotated` find articles by their
    own stance, as on /api/comments/."""

    filterset_class = ArticleFilter

    def get_serializer_class(self) -> Any:
        return LabelledArticleDetailSerializer if self.action == "retrieve" else LabelledArticleSerializer

    def get_queryset(self) -> QuerySet[Article]:
        return with_labels_for(super().get_queryset(), self.request.user)


def label_context(
    request: Request, comments: Comment | Iterable[Comment], *, suggestions: bool = True
) -> dict[str, Any]:
    """Serializer context for comment records: the request, and for those who see labels, which authors take
    both sides of a topic in the records' articles (one query for the whole page)."""
    context: dict[str, Any] = {"request": request}
    if suggestions:
        listed = [comments] if isinstance(comments, Comment) else comments
        context["suggestions"] = suggestions_for(request.user, listed)
    if sees_all_labels(request.user):
        context["both_sides"] = queries.authors_taking_both_sides(
            [comments] if isinstance(comments, Comment) else comments
        )
    return context


_ETAG_VERSION = re.compile(r'^(?:W/)?"?(\d+)"?$')


def parse_if_match(request: Request) -> actions.IfMatch | None:
    """If-Match: "3" (or several, or *) names the label a write replaces; If-None-Match: * says there must be
    none yet (a client's first write of a label, which must not overwrite one made elsewhere meanwhile)."""
    return precondition(request.headers.get("If-Match"), request.headers.get("If-None-Match"))


def precondition(header: str | None, absent: str | None) -> actions.IfMatch | None:
    """The precondition of an If-Match value (`header`) and an If-None-Match value (`absent`)."""
    if absent is not None:
        if absent.strip() != "*" or header is not None:
            raise ValidationError({"If-None-Match": ["only If-None-Match: * is understood, and not with If-Match"]})
        return "absent"
    if header is None:
        return None
    if header.strip() == "*":
        return "*"
    versions = set()
    for tag in header.split(","):
        match = _ETAG_VERSION.match(tag.strip())
        if match is None:
            raise ValidationError({"If-Match": [f'{tag.strip()!r} is not an ETag of this API, such as "3"']})
        versions.add(int(match.group(1)))
    return frozenset(versions)


IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": r'^\s*(\*|(W/)?"?\d+"?(\s*,\s*(W/)?"?\d+"?)*)\s*$'},
    OpenApiParameter.HEADER,
    required=False,
    description='The ETag of the label this write replaces (`"3"`), several, or `*` (any): else 412',
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    {"type": "string", "pattern": r"^\s*\*\s*$"},
    OpenApiParameter.HEADER,
    required=False,
    description="`*`: refuse (412) if a label exists already; not together with If-Match (400)",
)


def etag(version: int) -> str:
    return f'"{version}"'


_label_inputs = threading.local()


def _label_input() -> LabelInputSerializer:
    """This thread's checker of label bodies. DRF deep-copies a serializer's declared fields for every new
    instance (0.3 ms a write); `run_validation` keeps no state on the instance, so one per thread serves
    every request, as one serves every write of a batch."""
    checker: LabelInputSerializer | None = getattr(_label_inputs, "checker", None)
    if checker is None:
        checker = _label_inputs.checker = LabelInputSerializer()
    return checker


class CommentLabelView(APIView):
    """The caller's own label for a comment on a topic (and, at /api/articles/{id}/annotations/{topic}/, for
    the article itself: the same rules)."""

    permission_classes = [WritesOwnLabels]

    def _label_response(self, annotation: Annotation, status_code: int = status.HTTP_200_OK) -> Response:
        response = Response(annotation_record(annotation), status=status_code)
        response["ETag"] = etag(annotation.version)
        return response

    @extend_schema(responses={200: AnnotationSerializer, 404: OpenApiResponse(description="no label yet")})
    def get(self, request: Request, topic_slug: str, **ids: int) -> Response:
        item, topic = LabelItem.of(*item_or_404(ids).values()), topic_or_404(topic_slug)
        annotation = (
            Annotation.objects.with_names().filter(**item.keys, topic=topic, annotator_id=request.user.pk).first()
        )
        if annotation is None:
            raise NotFound(f"you have no label for {item} on {topic.slug!r}")
        return self._label_response(annotation)

    @extend_schema(
        request=LabelInputSerializer,
        responses={200: AnnotationSerializer, 201: AnnotationSerializer},
        parameters=[IF_MATCH, IF_NONE_MATCH],
    )
    def put(self, request: Request, topic_slug: str, **ids: int) -> Response:
        item, topic = item_or_404(ids), topic_or_404(topic_slug)
        payload = _label_input().run_validation(request.data)
        result = actions.set_stance(
            actor=authenticated_user(request),
            **item,
            topic=topic,
            if_match=parse_if_match(request),
            values=LabelInputSerializer.values_of(payload),
            lead_time_ms=payload.get("lead_time_ms"),
        )
        return self._label_response(
            result.annotation, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    @extend_schema(
        responses={204: None},
        parameters=[IF_MATCH],
    )
    def delete(self, request: Request, topic_slug: str, **ids: int) -> Response:
        item, topic = item_or_404(ids), topic_or_404(topic_slug)
        actions.clear_stance(actor=authenticated_user(request), **item, topic=topic, if_match=parse_if_match(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LabelBatchView(APIView):
    """Several of the caller's own label writes in one request, applied in order, each with its own result.

    Each write is what `PUT` (or `DELETE`) of `/api/comments/{id}/annotations/{topic}/` (or the article's)
    would do, with the same rules, and answers as it would: `status` (201 created, 200 changed or unchanged,
    204 removed, 400, 403, 404, 409, 412), with `etag` and `label` for a label set, `version` for one removed,
    or `detail` (and `version` of the current label on a 412, `errors` on a 400) for a refused write. A
    refused write changes nothing and the others go on. The writes share one transaction: the response comes
    after they all committed."""

    permission_classes = [WritesOwnLabels]

    @extend_schema(request=BatchSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        batch = BatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        writes = batch.validated_data["writes"]
        requests: list[actions.LabelRequest | None] = []
        parsed: list[Any] = []
        checker = BatchWriteSerializer()  # one instance for every write: DRF builds its fields once
        for write in writes:
            try:
                data = checker.run_validation(write)
                requests.append(
                    actions.LabelRequest(
                        topic_slug=data["topic"],
                        comment_id=data.get("comment"),
                        article_id=data.get("article"),
                        values=None if data["delete"] else checker.values_of(data),
                        lead_time_ms=data["lead_time_ms"],
                        if_match=precondition(data.get("if_match"), data.get("if_none_match")),
                    )
                )
                parsed.append(None)
            except ValidationError as exc:
                requests.append(None)
                parsed.append(exc)
        outcomes = iter(
            actions.write_labels(
                actor=authenticated_user(request), requests=[one for one in requests if one is not None]
            )
        )
        results = [
            _batch_result(error if one is None else next(outcomes), request)
            for one, error in zip(requests, parsed, strict=True)
        ]
        return Response({"results": results})


def _batch_result(outcome: Any, request: Request) -> dict[str, Any]:
    if isinstance(outcome, actions.LabelWrite):
        annotation = outcome.annotation
        return {
            "status": status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
            "etag": etag(annotation.version),
            "label": annotation_record(annotation),
        }
    if isinstance(outcome, actions.Removal):
        return {"status": status.HTTP_204_NO_CONTENT, "version": outcome.version}
    response = exception_handler(outcome, {"request": request, "view": None})
    if response is None:
        raise outcome
    return {"status": response.status_code, **response.data}


class CommentParentView(APIView):
    """A curator's correction of a comment's parent (stored as a manual link, kept through re-imports)."""

    permission_classes = [CanCorrectReplyLinks]

    @extend_schema(request=ParentInputSerializer, responses=LabelledCommentSerializer)
    def put(self, request: Request, comment_id: int) -> Response:
        comment = comment_or_404(comment_id)
        payload = ParentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        actions.set_parent(actor=authenticated_user(request), comment=comment, parent=payload.validated_data["parent"])
        record = with_labels_for(Comment.objects.with_thread(), request.user).get(pk=comment.pk)
        return Response(LabelledCommentSerializer(record, context=label_context(request, record)).data)


class ThreadView(APIView):
    """The reply subtree rooted at a comment, nested, in thread order, to any depth."""

    @extend_schema(responses=ThreadNodeSerializer)
    def get(self, request: Request, comment_id: int) -> HttpResponse:
        # The subtree is found from the root's thread order and depth: both reads must see the same tree, or a
        # curator's concurrent correction would make this answer with some other comment's subtree.
        with one_snapshot():
            root = comment_or_404(comment_id)
            nodes = list(with_labels_for(Comment.objects.subtree(root).with_thread(), request.user))
        # Each comment is serialized flat and the nesting written around the records by a loop: a reply chain
        # can be deeper than Python's recursion limit, which both a nested serializer and json.dumps of a
        # nested structure would run into.
        records = LabelledCommentSerializer(
            nodes, many=True, context=label_context(request, nodes, suggestions=False)
        ).data
        text = nested_json(records, (node.depth - root.depth for node in nodes), encoder=JSONEncoder)
        return HttpResponse("".join(text), content_type="application/json")


class AnnotationViewSet(viewsets.ReadOnlyModelViewSet[Annotation]):
    """Labels, newest changes last; annotators see only their own."""

    serializer_class = AnnotationSerializer
    filterset_class = AnnotationFilter

    def get_queryset(self) -> QuerySet[Annotation]:
        return Annotation.objects.visible_to(self.request.user).with_names().order_by("updated_at", "id")


class ChangeEventList(generics.ListAPIView[ChangeEvent]):
    """The append-only history of label, gold and reply-link changes; annotators see their own labels'."""

    serializer_class = ChangeEventSerializer
    filterset_class = ChangeEventFilter

    def get_queryset(self) -> QuerySet[ChangeEvent]:
        events = ChangeEvent.objects.order_by("at", "id")
        if sees_all_labels(self.request.user):
            return events
        return events.filter(kind=ChangeEvent.Kind.ANNOTATION, annotator_username=self.request.user.get_username())


class _ExportView(APIView):
    permission_classes = [CanExport]
    # For the OpenAPI schema: the filters each export applies (annotations.export.rows applies them itself).
    filter_backends = [DjangoFilterBackend]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The stream has its own media type, so an `Accept: text/csv` must not be refused with a 406 because
        # the API's renderers only speak JSON; those still render any error.
        return super().perform_content_negotiation(request, force=True)

    def stream(self, lines: Iterator[str], filename: str, content_type: str) -> StreamingHttpResponse:
        response = StreamingHttpResponse(in_blocks(lines), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class AnnotationExportJsonl(_ExportView):
    """Every visible label, one JSON object per line (long format); the same filters as /api/annotations/."""

    filterset_class = AnnotationFilter
    queryset = Annotation.objects.none()

    @extend_schema(responses={(200, "application/jsonl"): OpenApiTypes.STR}, filters=True)
    def get(self, request: Request) -> StreamingHttpResponse:
        rows = annotation_export_rows(request=request)
        return self.stream(
            jsonl_lines(rows), export_filename("annotations", "jsonl"), "application/jsonl; charset=utf-8"
        )


class AnnotationExportCsv(_ExportView):
    """Every visible label, one CSV row each (long format); `evidence` is JSON text; the same filters as
    /api/annotations/."""

    filterset_class = AnnotationFilter
    queryset = Annotation.objects.none()

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR}, filters=True)
    def get(self, request: Request) -> StreamingHttpResponse:
        rows = annotation_export_rows(request=request)
        return self.stream(
            csv_lines(rows, ANNOTATION_COLUMNS), export_filename("annotations", "csv"), "text/csv; charset=utf-8"
        )


class CommentExportJsonl(_ExportView):
    """One JSON object per comment: text, thread fields, its labels and consensus; comment filters apply."""

    filterset_class = CommentFilter
    queryset = Comment.objects.none()

    @extend_schema(responses={(200, "application/jsonl"): OpenApiTypes.STR}, filters=True)
    def get(self, request: Request) -> StreamingHttpResponse:
        records = comment_export_records(request=request)
        return self.stream(
            jsonl_lines(records), export_filename("comments", "jsonl"), "application/jsonl; charset=utf-8"
        )


class CommentGoldView(APIView):
    """A curator's gold label for a comment on a topic (and, at /api/articles/{id}/gold/{topic}/, for the
    article itself); consensus then reads it first."""

    permission_classes = [CanCurate]

    def _response(self, item: LabelItem, topic: Topic, status_code: int = status.HTTP_200_OK) -> Response:
        record: Comment | Article
        if item.comment is not None:
            record = with_labels_for(Comment.objects.filter(pk=item.comment.pk), self.request.user).get()
        else:
            record = with_labels_for(Article.objects.filter(pk=item.article_id), self.request.user).get()
        return Response(
            {
                "item_type": item.item_type.value,
                "article": item.article_id,
                "comment": item.comment_id,
                "topic": topic.slug,
                "gold": gold_of(record).get(topic.slug),
                "consensus": consensus_of(record).get(topic.slug),
            },
            status=status_code,
        )

    @extend_schema(request=GoldInputSerializer, responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT})
    def put(self, request: Request, topic_slug: str, **ids: int) -> Response:
        target, topic = item_or_404(ids), topic_or_404(topic_slug)
        item = LabelItem.of(*target.values())
        payload = GoldInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        result = actions.set_gold(
            actor=authenticated_user(request), **target, topic=topic, stance=data["stance"], note=data["note"]
        )
        return self._response(item, topic, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, topic_slug: str, **ids: int) -> Response:
        target, topic = item_or_404(ids), topic_or_404(topic_slug)
        actions.clear_gold(actor=authenticated_user(request), **target, topic=topic)
        return Response(status=status.HTTP_204_NO_CONTENT)


ITEMS_PARAMETER = OpenApiParameter(
    "items",
    OpenApiTypes.STR,
    enum=list(queries.ITEM_SELECTIONS),
    default=queries.DEFAULT_ITEMS,
    description="Which labelled items count: `all` (default: comments and the articles' own labels), "
    "`comments` only, or `articles` only",
)


def items_param(request: Request) -> queries.ItemSelection:
    value = request.query_params.get("items") or queries.DEFAULT_ITEMS
    for selection in queries.ITEM_SELECTIONS:
        if value == selection:
            return selection
    raise ValidationError({"items": [f"{value!r} is not one of {', '.join(queries.ITEM_SELECTIONS)}"]})


class AgreementView(APIView):
    """Inter-annotator agreement per topic: Krippendorff's α with a bootstrap interval, per stage (about the
    topic? which stance?), by article and reply depth; Cohen's κ per pair, Fleiss' κ, percent agreement."""

    permission_classes = [SeesAllLabels]

    @extend_schema(
        parameters=[
            OpenApiParameter("topic", OpenApiTypes.STR, description="A topic slug; every active topic if omitted"),
            OpenApiParameter("article", OpenApiTypes.INT, description="Only this article's items"),
            ITEMS_PARAMETER,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        items = items_param(request)
        slug = request.query_params.get("topic")
        topics = [topic_or_404(slug)] if slug else list(Topic.objects.active())
        article = None
        if request.query_params.get("article"):
            article = Article.objects.filter(pk=_positive_int(request.query_params["article"], "article")).first()
            if article is None:
                raise NotFound(f"no article with id {request.query_params['article']}")
        _, sample = assignment_queries.agreement_sample(Annotation.objects.none(), AssignmentSettings.current())
        return Response(
            {
                "article": article.pk if article else None,
                "items": items,
                # "overlap": computed on the overlap sample only (work is assigned); "all": on every item.
                # Each topic's own `items` says how many items it rests on.
                "sample": sample,
                "topics": [
                    {"topic": topic.slug, **queries.agreement(topic, article=article, items=items).as_dict()}
                    for topic in topics
                ],
            }
        )


def _positive_int(value: str, name: str) -> int:
    if not value.isdigit():
        raise ValidationError({name: [f"{value!r} is not a whole number"]})
    return int(value)


class ConfusionView(APIView):
    """How two annotators' labels on a topic cross (rows: annotator a, columns: annotator b)."""

    permission_classes = [SeesAllLabels]

    @extend_schema(
        parameters=[
            OpenApiParameter("topic", OpenApiTypes.STR, required=True),
            OpenApiParameter("a", OpenApiTypes.STR, required=True, description="username"),
            OpenApiParameter("b", OpenApiTypes.STR, required=True, description="username"),
            ITEMS_PARAMETER,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        missing = [name for name in ("topic", "a", "b") if not request.query_params.get(name)]
        if missing:
            raise ValidationError({name: ["this parameter is required"] for name in missing})
        items = items_param(request)
        topic = topic_or_404(request.query_params["topic"])
        params = request.query_params
        return Response({**queries.pair_confusion(topic, params["a"], params["b"], items=items), "items": items})


class ProgressView(APIView):
    """Labelling progress per annotator; an annotator sees only their own."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        user = authenticated_user(request)
        users = None if sees_all_labels(user) else User.objects.filter(pk=user.pk)
        return Response({"annotators": [row.as_dict() for row in queries.progress(users)]})


class DistributionView(APIView):
    """Consensus stance counts per topic, overall and per article."""

    permission_classes = [SeesAllLabels]

    @extend_schema(parameters=[ITEMS_PARAMETER], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        items = items_param(request)
        return Response(
            {
                "items": items,
                "categories": list(queries.CATEGORIES),
                "overall": queries.stance_distribution(items=items).get("all", {}),
                "by_article": queries.stance_distribution(by_article=True, items=items),
            }
        )


class ArticleStanceSummaryView(APIView):
    """Per topic: consensus stance counts of an article's comments, whether its reply links agree, oppose or
    shift, with the share of opposing replies, and the article's own consensus stance with how the comments that
    answer it (top-level ones, and those quoting it) relate to it."""

    permission_classes = [SeesAllLabels]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, article_id: int) -> Response:
        article = Article.objects.filter(pk=article_id).first()
        if article is None:
            raise NotFound(f"no article with id {article_id}")
        return Response({"article": article.pk, "topics": queries.flow_summary(article)})


# --- assignment ---------------------------------------------------------------------------------------


class ManagesAssignment(CanCurate):
    message = "only curators and admins manage assignment"


def assignment_settings_data(settings: AssignmentSettings) -> dict[str, Any]:
    return {
        **{name: getattr(settings, name) for name in assignment_actions.SETTING_FIELDS},
        "mode": "assigned" if assignment_queries.assignment_mode(settings) else "everyone labels everything",
        "updated_at": settings.updated_at if settings.pk and not settings._state.adding else None,
    }


Row = TypeVar("Row")


def json_object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    """A JSON request body of the named fields only (the server refuses any other with a 400)."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False, "description": description}
    return {"application/json": schema}


NULLABLE_WHOLE = {"type": "integer", "nullable": True, "maximum": assignment_actions.MAX_WHOLE}
WHOLE = {"type": "integer", "maximum": assignment_actions.MAX_WHOLE}
ASSIGNMENT_SETTINGS = json_object(
    {
        "overlap_share": {"type": "number", "minimum": 0, "maximum": 1},
        "overlap_annotators": {**NULLABLE_WHOLE, "minimum": 2, "description": "null: every annotator"},
        "per_annotator_cap": {**NULLABLE_WHOLE, "minimum": 1, "description": "null: no cap"},
        "check_share": {"type": "number", "minimum": 0, "maximum": 0.5},
        "check_threshold": {"type": "number", "minimum": 0, "maximum": 1},
        "check_minimum": {**WHOLE, "minimum": 1},
        "pause_on_failed_checks": {"type": "boolean"},
        "qualification_required": {"type": "boolean"},
        "qualification_size": {**WHOLE, "minimum": 1},
        "qualification_pass": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "The settings to change; those left out keep their value",
)
ANNOTATOR_STATUS = json_object(
    {
        "paused": {"type": "boolean"},
        "pause_reason": {"type": "string"},
        "flagged": {"type": "boolean", "enum": [False], "description": "only false: clears the flag"},
        "qualification": {"type": "string", "enum": ["passed", "failed", "pending", "not_required"]},
    },
    "What to change about the annotator",
)


class SettingsView(APIView, Generic[Row]):
    """A row of settings there is one of: GET shows it; PUT sets the fields a JSON object names (its action
    checks each value and the caller's role) and answers the row as it now stands. A subclass says which row,
    which action and how the row reads, and declares its PUT body with `extend_schema_view`."""

    def current(self) -> Row:
        raise NotImplementedError

    def update(self, *, actor: User, values: Mapping[str, object]) -> Row:
        raise NotImplementedError

    def present(self, settings: Row) -> dict[str, Any]:
        raise NotImplementedError

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(self.present(self.current()))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def put(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationError({"detail": ["send a JSON object of settings"]})
        return Response(self.present(self.update(actor=authenticated_user(request), values=request.data)))


@extend_schema_view(put=extend_schema(request=ASSIGNMENT_SETTINGS, responses=OpenApiTypes.OBJECT))
class AssignmentSettingsView(SettingsView[AssignmentSettings]):
    """Who labels what: the overlap share, annotators per overlap item (null: all), a cap per annotator (null:
    none), attention checks and qualification. PUT sets the fields it names; the plan follows at once."""

    permission_classes = [ManagesAssignment]

    def current(self) -> AssignmentSettings:
        return AssignmentSettings.current()

    def update(self, *, actor: User, values: Mapping[str, object]) -> AssignmentSettings:
        return assignment_actions.update_assignment_settings(actor=actor, values=values)

    def present(self, settings: AssignmentSettings) -> dict[str, Any]:
        return assignment_settings_data(settings)


class AssignmentSummaryView(APIView):
    """Per annotator: items assigned, done, overlap items done, remaining; attention-check accuracy (overall
    and per topic); qualification result; flag and pause with their reasons."""

    permission_classes = [SeesAllLabels]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        settings = assignment_actions.ensure_plan()
        return Response(
            {
                "mode": assignment_settings_data(settings)["mode"],
                "annotators": assignment_queries.assignment_summary(settings),
            }
        )


class AnnotatorStatusView(APIView):
    """A curator pauses or resumes an annotator (`paused`, `pause_reason`), clears an attention-check flag
    (`flagged: false`) or decides a qualification by hand (`qualification`: passed, failed, pending, not_required)."""

    permission_classes = [ManagesAssignment]

    @extend_schema(request=ANNOTATOR_STATUS, responses=OpenApiTypes.OBJECT)
    def put(self, request: Request, username: str) -> Response:
        annotator = User.objects.filter(username=username).first()
        if annotator is None:
            raise NotFound(f"no user {username!r}")
        if not isinstance(request.data, dict):
            raise ValidationError({"detail": ["send a JSON object"]})
        assignment_actions.update_annotator_status(
            actor=authenticated_user(request), annotator=annotator, values=request.data
        )
        settings = assignment_actions.ensure_plan()
        rows = [row for row in assignment_queries.assignment_summary(settings) if row["annotator"] == username]
        if not rows:  # neither an annotator nor holding assignments: their standing alone
            status_row = assignment_actions.status_of(annotator)
            return Response({"annotator": username, "paused": status_row.paused, "flagged": status_row.flagged})
        return Response(rows[0])


class QualificationItemView(APIView):
    """A curator marks a gold item (a comment with a gold label) as a qualification item, or unmarks it."""

    permission_classes = [ManagesAssignment]

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT})
    def put(self, request: Request, comment_id: int) -> Response:
        comment = comment_or_404(comment_id)
        created = assignment_actions.mark_qualification_item(actor=authenticated_user(request), comment=comment)
        return Response(
            {"comment": comment.pk, "qualification": True},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request, comment_id: int) -> Response:
        comment = comment_or_404(comment_id)
        assignment_actions.unmark_qualification_item(actor=authenticated_user(request), comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- guideline versions ---------------------------------------------------------------------------------


class TopicGuidelinesView(APIView):
    """A topic's guideline versions, oldest first, with how many labels each was used for. An admin POSTs a
    new statement and guidelines (and a note on what changed): that is a new version, and labels made under
    older ones are flagged for review (`outdated` on /api/annotations/ and /api/comments/)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, slug: str) -> Response:
        topic = topic_or_404(slug)
        return Response({"topic": topic.slug, "versions": guideline_history(Topic.objects.filter(pk=topic.pk))})

    @extend_schema(
        request=json_object(
            {
                "statement": {"type": "string", "pattern": r"\S", "description": "not empty nor only spaces"},
                "guidelines": {"type": "string"},
                "note": {"type": "string"},
            },
            "The new statement and guidelines (each defaults to the current one) and a note on what changed",
        ),
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, slug: str) -> Response:
        if not has_role(request.user, Role.ADMIN):
            raise PermissionDenied("only admins change guidelines")
        topic = topic_or_404(slug)
        if not isinstance(request.data, dict):
            raise ValidationError({"detail": ["send a JSON object with statement, guidelines and note"]})
        unknown = sorted(set(request.data) - {"statement", "guidelines", "note"})
        if unknown:
            raise ValidationError({name: ["unknown field; known: statement, guidelines, note"] for name in unknown})
        version = revise_guidelines(
            actor=authenticated_user(request),
            topic=topic,
            statement=request.data.get("statement", topic.statement),
            guidelines=request.data.get("guidelines", topic.guidelines),
            note=request.data.get("note", ""),
        )
        body = {
            "topic": topic.slug,
            "version": topic.guideline_version,
            "created": version is not None,
            "outdated_labels": outdated(Annotation.objects.filter(topic=topic)).count(),
        }
        return Response(body, status=status.HTTP_201_CREATED if version else status.HTTP_200_OK)
