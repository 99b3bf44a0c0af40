"""The export's fast paths give exactly what the plain ORM would: PostgreSQL-formatted timestamps, the gold
label joined rather than looked up per row, a binary server-side cursor, and lines sent in blocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.db.models import F

from annotations.actions import set_gold
from annotations.export.formats import ANNOTATION_COLUMNS, in_blocks
from annotations.export.rows import annotation_rows
from annotations.models import Annotation, GoldLabel, Topic
from debate.models import Article
from debate.roles import Role
from tests.conftest import comments_by_number, label


def reference_rows() -> list[dict[str, object]]:
    """The rows as the ORM gives them, one lookup per label: slow, obviously right."""
    rows = []
    for annotation in Annotation.objects.select_related(
        "comment__author", "article__author", "annotator", "topic"
    ).order_by(
        "article_id",
        F("comment__number").asc(nulls_first=True),
        "topic__ordering",
        "topic__slug",
        "annotator__username",
    ):
        comment = annotation.comment
        gold = GoldLabel.objects.filter(article=annotation.article, comment=comment, topic=annotation.topic).first()
        author = comment.author if comment else annotation.article.author
        rows.append(
            {
                "comment_id": comment.pk if comment else None,
                "article_id": annotation.article_id,
                "comment_number": comment.number if comment else None,
                "parent_id": comment.parent_id if comment else None,
                "depth": comment.depth if comment else None,
                "author": author.name if author else None,
                "annotator": annotation.annotator.username,
                "topic": annotation.topic.slug,
                "stance": annotation.stance,
                "unsure": annotation.unsure,
                "confidence": annotation.confidence,
                "note": annotation.note,
                "evidence": annotation.evidence,
                "created_at": annotation.created_at.isoformat(),
                "updated_at": annotation.updated_at.isoformat(),
                "gold": gold.stance if gold else None,
                "item_type": "comment" if comment else "article",
                "label_role": "ordinary",
                "guideline_version": annotation.guideline_version,
                "lead_time_ms": annotation.lead_time_ms,
                "suggestion_shown": annotation.suggestion_shown,
                "suggested_stance": annotation.suggested_stance,
                "suggestion_model_version": annotation.suggestion_model_version,
                "stream": annotation.stream,
            }
        )
    return rows


@pytest.mark.django_db
def test_rows_equal_the_orms_with_timestamps_as_isoformat_writes_them(
    cluster_article: Article, topics: dict[str, Topic], make_user: Callable[..., User]
) -> None:
    comments = comments_by_number(cluster_article)
    first, second = make_user(Role.ANNOTATOR, "ann-a"), make_user(Role.ANNOTATOR, "ann-b")
    label(first, comments[3], topics["cluster-munitions"], "favor", note='ünïcödé, "quoted"\nnext line')
    label(second, comments[3], topics["cluster-munitions"], "against", confidence=2)
    label(first, comments[1], topics["strikes-in-russia"], "neutral", unsure=True)
    label(
        second,
        comments[2],
        topics["trainers-in-ukraine"],
        "not_about",
        evidence=[{"start": 0, "end": 4, "text": comments[2].body[:4]}],
    )
    GoldLabel.objects.create(
        article_id=comments[3].article_id,
        comment=comments[3],
        topic=topics["cluster-munitions"],
        stance="favor",
        set_by=make_user(Role.CURATOR),
    )
    # The article itself: its labels are rows too, with its gold label (and not a comment's).
    label(first, cluster_article, topics["cluster-munitions"], "against", note="the article's own")
    label(second, cluster_article, topics["cluster-munitions"], "favor")
    label(second, cluster_article, topics["trainers-in-ukraine"], "not_about")
    set_gold(
        actor=make_user(Role.CURATOR), article=cluster_article, topic=topics["cluster-munitions"], stance="against"
    )
    # isoformat() leaves out the microseconds when they are zero; PostgreSQL's formatting must as well.
    Annotation.objects.filter(comment=comments[1]).update(
        created_at=datetime(2024, 5, 17, 9, 30, 5, tzinfo=UTC),
        updated_at=datetime(2024, 5, 17, 9, 30, 5, 120000, tzinfo=UTC),
    )
    # What the annotators were shown (issue 16): a hint and its stream on one label, the random stream on another.
    Annotation.objects.filter(comment=comments[3], annotator=first).update(
        suggestion_shown=True, suggested_stance="against", suggestion_model_version=2, stream="uncertain"
    )
    Annotation.objects.filter(comment=comments[1], annotator=first).update(stream="random")
    rows = list(annotation_rows(Annotation.objects.all()))
    assert rows == reference_rows()
    names = ("annotator", "suggestion_shown", "suggested_stance", "suggestion_model_version", "stream")
    shown = [tuple(row[name] for name in names) for row in rows if row["stream"]]
    assert shown == [("ann-a", False, "", None, "random"), ("ann-a", True, "against", 2, "uncertain")]
    assert [list(row) for row in rows] == [list(ANNOTATION_COLUMNS)] * 7
    article_rows = [row for row in rows if row["item_type"] == "article"]
    assert [(row["annotator"], row["topic"], row["stance"], row["gold"]) for row in article_rows] == [
        ("ann-a", "cluster-munitions", "against", "against"),
        ("ann-b", "cluster-munitions", "favor", "against"),
        ("ann-b", "trainers-in-ukraine", "not_about", None),
    ]
    assert rows[:3] == article_rows  # the article's own labels come first
    assert {row["comment_id"] for row in article_rows} == {None}
    by_comment = {row["comment_id"]: row for row in rows}
    assert by_comment[comments[1].pk]["created_at"] == "2024-05-17T09:30:05+00:00"
    assert by_comment[comments[1].pk]["updated_at"] == "2024-05-17T09:30:05.120000+00:00"
    assert {row["gold"] for row in rows if row["comment_id"] == comments[3].pk} == {"favor"}
    # Filters and visibility still apply: the query is the queryset's own.
    assert [row["annotator"] for row in annotation_rows(Annotation.objects.filter(annotator=second))] == ["ann-b"] * 4


def test_in_blocks_keeps_every_byte_and_groups_lines() -> None:
    lines = [f"line {number}: ünïcödé\n" for number in range(1000)]
    blocks = list(in_blocks(iter(lines), size=500))
    assert b"".join(blocks) == "".join(lines).encode()
    assert all(len(block) >= 500 for block in blocks[:-1])
    assert len(blocks) < len(lines) / 10
    assert list(in_blocks(iter([]))) == []
