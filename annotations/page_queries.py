"""The reads the workspace pages need beside the QuerySets and FilterSets: a fixed number of queries each."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from annotations.filters import ADJUDICATION_RELATED
from annotations.items import LabelItem, label_item
from annotations.models import Annotation, Consensus, GoldLabel, Topic
from annotations.querysets import with_labels_for
from debate.models import Article, Comment

ItemKey = tuple[int, int | None, int]  # (article id, comment id or None, topic id)


def annotator_names() -> list[str]:
    """Everyone who has labelled something, by username."""
    return list(
        User.objects.filter(annotations__isnull=False)
        .distinct()
        .order_by("username")
        .values_list("username", flat=True)
    )


def article_choices() -> QuerySet[Article]:
    """The articles as filter forms list them."""
    return Article.objects.order_by("source").only("id", "title")


def article_listing(user: User) -> list[Article]:
    """Every article with its author, comment count and the user's labels on it (and its consensus)."""
    return list(with_labels_for(Article.objects.with_listing().defer("body", "author_bio").order_by("source"), user))


def threads() -> QuerySet[Article]:
    """Articles as a thread page shows them: author and comment count."""
    return Article.objects.with_listing()


def thread_comments(user: User, article: Article, start: int, size: int) -> list[Comment]:
    """One chunk of a thread, with what the comment template shows of the user's labels."""
    return list(with_labels_for(Comment.objects.thread_window(article, start, size).with_thread(), user))


def comment_for(user: User, comment_id: int) -> Comment:
    """One comment as the queue and the panel show it."""
    return with_labels_for(Comment.objects.with_thread().select_related("article"), user).get(pk=comment_id)


def browse_rows(user: User) -> QuerySet[Comment]:
    """What the browse page filters: comments with their thread context and the user's labels, in file order."""
    return with_labels_for(Comment.objects.with_thread().select_related("article"), user).order_by(
        "article_id", "number"
    )


@dataclass(frozen=True)
class LabelTarget:
    """The item a URL names, as the actions' keyword (`comment=` or `article=`), and the topic."""

    comment: Comment | None
    article: Article | None
    topic: Topic

    @property
    def item(self) -> LabelItem:
        return label_item(comment=self.comment, article=self.article)


def label_target(topic_slug: str, *, comment_id: int | None = None, article_id: int | None = None) -> LabelTarget:
    """The comment (or, with `article_id`, the article itself) and the topic a write URL names; 404 if either
    does not exist."""
    comment = article = None
    if comment_id is not None:
        comment = get_object_or_404(Comment.objects.select_related("article"), pk=comment_id)
    else:
        article = get_object_or_404(Article, pk=article_id)
    topic = Topic.objects.filter(slug=topic_slug).first()
    if topic is None:
        raise Http404(f"unknown topic {topic_slug!r}")
    return LabelTarget(comment=comment, article=article, topic=topic)


def adjudication_row(target: LabelTarget) -> Consensus | None:
    """The consensus row of one item and topic, as the adjudication page shows it."""
    return (
        Consensus.objects.select_related(*ADJUDICATION_RELATED).filter(**target.item.keys, topic=target.topic).first()
    )


def labels_and_gold(
    rows: list[Consensus],
) -> tuple[dict[ItemKey, list[Annotation]], dict[ItemKey, GoldLabel]]:
    """Every annotator's label and the gold label of each (item, topic) of `rows`: two queries for a page."""
    article_ids = {row.article_id for row in rows}
    topic_ids = {row.topic_id for row in rows}
    wanted = {(row.article_id, row.comment_id, row.topic_id) for row in rows}
    labels: dict[ItemKey, list[Annotation]] = defaultdict(list)
    # By article (indexed), then only the page's items: the article's own item and its comments' alike.
    for label in (
        Annotation.objects.filter(article_id__in=article_ids, topic_id__in=topic_ids)
        .select_related("annotator")
        .order_by("annotator__username")
    ):
        key = (label.article_id, label.comment_id, label.topic_id)
        if key in wanted:
            labels[key].append(label)
    gold = {
        (row.article_id, row.comment_id, row.topic_id): row
        for row in GoldLabel.objects.filter(article_id__in=article_ids, topic_id__in=topic_ids).select_related("set_by")
    }
    return labels, gold


def only(user: User) -> QuerySet[User]:
    """The user alone, for the measures that take a set of annotators."""
    return User.objects.filter(pk=user.pk)
