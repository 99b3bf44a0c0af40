"""The database side of the exports: filtered, ordered, lazily fetched rows for `annotations.export.formats`.

Each stream is one query read through a server-side cursor in chunks, so memory stays flat and the
number of queries does not depend on the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, F, FilteredRelation, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django_filters import FilterSet
from rest_framework.exceptions import ValidationError

from annotations.export.formats import ANNOTATION_COLUMNS, LABEL_FIELDS, comment_records
from annotations.filters import AnnotationFilter, CommentFilter
from annotations.models import GOLD_REASONS, Annotation, Consensus, GoldLabel, ItemType, Topic
from debate.db import CHUNK_SIZE, UtcIsoText, binary_rows
from debate.models import Comment, ReplyLink

# Export column -> ORM path, in ANNOTATION_COLUMNS order.
_ANNOTATION_PATHS = {
    "comment_id": "comment_id",
    "article_id": "article_id",
    "comment_number": "comment__number",
    "parent_id": "comment__parent_id",
    "depth": "comment__depth",
    "author": "item_author",
    "annotator": "annotator__username",
    "topic": "topic__slug",
    **{field: field for field in LABEL_FIELDS},  # the label's own columns
    "gold": "gold_stance",
    "item_type": "item_type",
    "label_role": "label_role",
    "guideline_version": "guideline_version",
    "lead_time_ms": "lead_time_ms",
    "suggestion_shown": "suggestion_shown",
    "suggested_stance": "suggested_stance",
    "suggestion_model_version": "suggestion_model_version",
    "stream": "stream",
}
LABEL_RECORD = ("annotator", "topic", *LABEL_FIELDS)  # a label in a comment record's `annotations`
if tuple(_ANNOTATION_PATHS) != ANNOTATION_COLUMNS:  # the columns' order is the export's contract
    raise ImportError("annotations.export.rows names the export columns in another order than formats.py")


def export_filename(kind: str, extension: str) -> str:
    return f"debate-{kind}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.{extension}"


def _filtered(filterset_class: type[FilterSet], request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
    params = getattr(request, "query_params", request.GET)
    filterset = filterset_class(params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def annotation_rows(annotations: QuerySet[Annotation]) -> Iterator[dict[str, Any]]:
    """Long-format rows, ordered by article (its own labels first), comment number, topic and annotator.

    A label of the article itself has `item_type` "article", no comment fields, and the article's author."""
    # Joins on the item's gold label (at most one: unique per item and topic), not a subquery per row:
    # PostgreSQL hashes the gold labels once instead of probing them a million times. A comment's gold comes
    # through the comment, the article's own through the article.
    comment_gold = FilteredRelation("comment__gold_labels", condition=Q(comment__gold_labels__topic=F("topic")))
    article_gold = FilteredRelation(
        "article__gold_labels",
        condition=Q(article__gold_labels__topic=F("topic"), article__gold_labels__comment__isnull=True),
    )
    # Likewise the annotator's own check or qualification assignment of the comment, if the label answers one.
    gold_work = FilteredRelation(
        "comment__assignments",
        condition=Q(comment__assignments__annotator=F("annotator"), comment__assignments__reason__in=GOLD_REASONS),
    )
    is_article = Q(comment__isnull=True)
    ordered = (
        annotations.annotate(comment_gold=comment_gold, article_gold=article_gold, gold_work=gold_work)
        .annotate(
            gold_stance=Case(When(is_article, then=F("article_gold__stance")), default=F("comment_gold__stance")),
            item_author=Case(When(is_article, then=F("article__author__name")), default=F("comment__author__name")),
            item_type=Case(
                When(is_article, then=Value(ItemType.ARTICLE.value)),
                default=Value(ItemType.COMMENT.value),
                output_field=CharField(),
            ),
            label_role=Coalesce(F("gold_work__reason"), Value("ordinary"), output_field=CharField()),
        )
        .order_by(
            "article_id",
            F("comment__number").asc(nulls_first=True),
            "topic__ordering",
            "topic__slug",
            "annotator__username",
        )
    )
    if connection.vendor != "postgresql":
        for row in ordered.values_list(*_ANNOTATION_PATHS.values()).iterator(chunk_size=CHUNK_SIZE):
            yield dict(zip(ANNOTATION_COLUMNS, row, strict=True))
        return
    # Timestamps as the text the export writes anyway, made by PostgreSQL: no datetime object per value.
    paths = {**_ANNOTATION_PATHS, "created_at": "created_iso", "updated_at": "updated_iso"}
    rows = ordered.annotate(created_iso=UtcIsoText("created_at"), updated_iso=UtcIsoText("updated_at"))
    for row in binary_rows(rows.values_list(*paths.values())):
        yield dict(zip(ANNOTATION_COLUMNS, row, strict=True))


def annotation_export_rows(*, request: HttpRequest) -> Iterator[dict[str, Any]]:
    """The request's filters applied (invalid ones raise now, before any byte is streamed)."""
    return annotation_rows(_filtered(AnnotationFilter, request, Annotation.objects.visible_to(request.user)))


def comment_rows(comments: QuerySet[Comment], topics: list[str]) -> Iterator[dict[str, Any]]:
    """One record per comment with its reply links, labels and consensus, merged from sorted streams."""
    selected = comments.values("pk")
    comment_stream = (
        comments.order_by("article_id", "number")
        .annotate(
            key_article=F("article_id"),
            key_number=F("number"),
            author_name=F("author__name"),
            article_source=F("article__source"),
            parent_number=F("parent__number"),
        )
        .values(
            "key_article",
            "key_number",
            "pk",
            "article_id",
            "article_source",
            "number",
            "author_name",
            "body",
            "parent_id",
            "parent_number",
            "depth",
            "thread_order",
            "quotes_article",
        )
    )
    links = (
        ReplyLink.objects.filter(source__in=selected)
        .order_by("source__article_id", "source__number", "position")
        .values_list("source__article_id", "source__number", "target_id", "target__number", "method", "score")
    )
    labels = (
        Annotation.objects.filter(comment__in=selected)
        .order_by("comment__article_id", "comment__number", "topic__ordering", "annotator__username")
        .values_list("comment__article_id", "comment__number", "annotator__username", "topic__slug", *LABEL_FIELDS)
    )
    gold = (
        GoldLabel.objects.filter(comment__in=selected)
        .order_by("comment__article_id", "comment__number", "topic__ordering")
        .values_list(
            "comment__article_id", "comment__number", "topic__slug", "stance", "note", "set_by__username", "set_at"
        )
    )
    consensus = (
        Consensus.objects.filter(comment__in=selected)
        .exclude(status=None)
        .order_by("comment__article_id", "comment__number", "topic__ordering")
        .values_list("comment__article_id", "comment__number", "topic__slug", "stance", "status", "n")
    )
    return comment_records(
        (
            {
                "key": (row["key_article"], row["key_number"]),
                "comment_id": row["pk"],
                "article_id": row["article_id"],
                "article_source": row["article_source"],
                "comment_number": row["number"],
                "author": row["author_name"],
                "body": row["body"],
                "parent_id": row["parent_id"],
                "parent_number": row["parent_number"],
                "depth": row["depth"],
                "thread_order": row["thread_order"],
                "quotes_article": row["quotes_article"],
            }
            for row in comment_stream.iterator(chunk_size=CHUNK_SIZE)
        ),
        links=(
            {"key": (row[0], row[1]), "comment_id": row[2], "comment_number": row[3], "method": row[4], "score": row[5]}
            for row in links.iterator(chunk_size=CHUNK_SIZE)
        ),
        annotations=(
            {"key": (row[0], row[1]), **dict(zip(LABEL_RECORD, row[2:], strict=True))}
            for row in labels.iterator(chunk_size=CHUNK_SIZE)
        ),
        consensus=(
            {"key": (row[0], row[1]), "topic": row[2], "stance": row[3], "status": row[4], "n": row[5]}
            for row in consensus.iterator(chunk_size=CHUNK_SIZE)
        ),
        topics=topics,
        gold=(
            {
                "key": (row[0], row[1]),
                "topic": row[2],
                "stance": row[3],
                "note": row[4],
                "set_by": row[5],
                "set_at": row[6],
            }
            for row in gold.iterator(chunk_size=CHUNK_SIZE)
        ),
    )


def comment_export_records(*, request: HttpRequest) -> Iterator[dict[str, Any]]:
    comments = _filtered(CommentFilter, request, Comment.objects.all())
    return comment_rows(comments, list(Topic.objects.values_list("slug", flat=True)))
