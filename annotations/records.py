"""Comment records of `GET /api/comments/` built straight from rows, for whole threads at once.

`LabelledCommentSerializer` builds a record from model instances (the comment, its author, each reply link
and its target, each label and its topic) through a DRF field per value: about 0.4 ms per comment, most of
it instance and field churn. Here the page is read as tuples in five queries (the comments; their reply
links; the caller's labels; and for those who see them the consensus and gold labels; plus the both-sides
query of `label_context`) and each record is a dict built in one pass. The records are exactly the
serializer's, key for key and value for value, so the response is byte for byte the same
(tests/test_comment_records.py holds them equal); a change to the serializer's fields must be made here too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from annotations.models import Annotation, Consensus, GoldLabel
from annotations.permissions import sees_all_labels
from annotations.quality.queries import authors_taking_both_sides_of
from annotations.suggestions.queries import suggestions_for_ids
from debate.db import UtcIsoText, among
from debate.models import Comment, ReplyLink

# The page's columns, in the order `record` reads them.
COLUMNS = (
    "id",
    "article_id",
    "number",
    "author__name",
    "is_article_author",
    "body",
    "parent_id",
    "parent_is_manual",
    "depth",
    "thread_order",
    "quotes_article",
    "quoted_spans",
    "author_id",
)


def rows_of(comments: QuerySet[Comment]) -> QuerySet[Any]:
    """The comments (filtered, ordered) as tuples of COLUMNS: what `records` takes, page by page."""
    return comments.prefetch_related(None).values_list(
        *(_json_column(column) if column == "quoted_spans" else column for column in COLUMNS)
    )


def _timestamps() -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    """How to select a timestamp column, and how to render what was selected, as DRF renders a datetime.

    In SQL where DRF's output is the UTC form `UtcIsoText` writes with `Z` (its default ISO 8601 format,
    UTC the current time zone): a page's 3,000 label times cost about 1 µs each there, where loading each as a
    datetime (psycopg) and rendering it again (DRF) cost about 12 µs each. Else the datetime is loaded and
    DRF renders it, its time zone looked up once."""
    current = timezone.get_current_timezone()
    if (
        connection.vendor == "postgresql"
        and api_settings.DATETIME_FORMAT == ISO_8601
        and timezone.get_current_timezone_name() == "UTC"
    ):
        return partial(UtcIsoText, utc="Z"), _as_is
    return F, serializers.DateTimeField(default_timezone=current).to_representation


def _as_is(value: Any) -> Any:
    return value


def _json_column(column: str) -> Any:
    """A JSON column as its text, which `_load_json` decodes: orjson reads it in a fifth of the time the
    standard library's decoder (JSONField's) takes, into the same values."""
    return Cast(column, TextField())


def _load_json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def records(rows: Sequence[tuple[Any, ...]], user: AbstractBaseUser | AnonymousUser) -> list[dict[str, Any]]:
    """The records of these comment rows for this user, as `LabelledCommentSerializer` gives them."""
    ids = [row[0] for row in rows]
    timestamp, _datetime = _timestamps()
    links: dict[int, list[dict[str, Any]]] = defaultdict(list)
    # The target's number by a subquery per link (an index lookup each), not a join: for a page's thousand ids
    # the planner expects tens of thousands of links and hashes the whole comment table to join them (50 ms
    # on a corpus of 100,000 comments, where the lookups take one).
    target_number = Comment.objects.filter(pk=OuterRef("target_id")).values("number")
    for source, target, number_of_target, method, score, evidence, basis in (
        ReplyLink.objects.filter(among("source_id", ids))
        .order_by("position", "pk")
        .values_list("source_id", "target_id", Subquery(target_number), "method", "score", "evidence", "basis")
    ):
        links[source].append(
            {
                "comment": target,
                "comment_number": number_of_target,
                "method": method,
                "score": float(score),
                "evidence": evidence,
                "basis": basis,
            }
        )
    mine: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    if user.is_authenticated and ids:
        labels = Annotation.objects.filter(among("comment_id", ids), annotator_id=user.pk)
        for comment, topic, stance, unsure, confidence, note, evidence, version, updated_at in labels.values_list(
            "comment_id",
            "topic__slug",
            "stance",
            "unsure",
            "confidence",
            "note",
            _json_column("evidence"),
            "version",
            timestamp("updated_at"),
        ):
            mine[comment][topic] = {
                "stance": stance,
                "unsure": unsure,
                "confidence": confidence,
                "note": note,
                "evidence": _load_json(evidence),
                "version": version,
                "updated_at": _datetime(updated_at),
            }
    sees_all = sees_all_labels(user)
    consensus: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    gold: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    both_sides: dict[tuple[int, int], list[str]] = {}
    if sees_all and ids:
        for comment, topic, agreed, status, n in (
            Consensus.objects.filter(among("comment_id", ids))
            .exclude(status=None)
            .order_by("topic__ordering", "topic__slug")
            .values_list("comment_id", "topic__slug", "stance", "status", "n")
        ):
            consensus[comment][topic] = {"stance": agreed, "status": status, "n": n}
        for comment, topic, stance, note, set_by, set_at in (
            GoldLabel.objects.filter(among("comment_id", ids))
            .order_by("topic__ordering", "topic__slug")
            .values_list("comment_id", "topic__slug", "stance", "note", "set_by__username", timestamp("set_at"))
        ):
            gold[comment][topic] = {"stance": stance, "note": note, "set_by": set_by, "set_at": _datetime(set_at)}
        both_sides = authors_taking_both_sides_of({(row[1], row[12]) for row in rows if row[12]})
    # Issue 16: the model's suggestions the caller may see (every one for those who see all labels, hints
    # on an annotator's single items), one query.
    suggested = suggestions_for_ids(user, ids)
    result = []
    for (
        pk,
        article,
        number,
        author,
        is_article_author,
        body,
        parent,
        parent_is_manual,
        depth,
        thread_order,
        quotes_article,
        quoted_spans,
        author_id,
    ) in rows:
        record = {
            "id": pk,
            "article": article,
            "number": number,
            "author": author,
            "is_article_author": bool(is_article_author),
            "body": body,
            "parent": parent,
            "parent_is_manual": parent_is_manual,
            "depth": depth,
            "thread_order": thread_order,
            "quotes_article": quotes_article,
            "quoted_spans": _load_json(quoted_spans),
            "reply_to": links.get(pk, []),
            "my_annotations": mine.get(pk, {}),
        }
        if sees_all:
            record["consensus"] = consensus.get(pk, {})
            record["gold"] = gold.get(pk, {})
            record["author_takes_both_sides"] = both_sides.get((article, author_id or 0), [])
        record["suggestions"] = suggested.get(pk, {})
        result.append(record)
    return result
