"""The database side of the quality measures: rows fetched for the pure modules `agreement` and `flow`.

Every function here runs a fixed number of queries, whatever the size of the corpus.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal, TypeVar

from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, Max, OuterRef, QuerySet
from django.db.models.functions import Coalesce

from annotations.assignment.queries import agreement_sample
from annotations.models import Annotation, AssignmentSettings, Consensus, Topic
from annotations.quality.agreement import STANCES, TopicReport, confusion_matrix, depth_bucket, topic_report_from_arrays
from annotations.quality.flow import FlowSummary, summarise
from annotations.vocabulary import SIDES, ConsensusStatus, takes_both_sides
from debate.db import among, stream_rows
from debate.models import Article, Comment, ReplyLink

# Categories of a consensus distribution: the four stances, and items whose annotators disagree.
CATEGORIES = (*STANCES, ConsensusStatus.UNRESOLVED.value)

# Which items a measure reads: every item, the comments only, or the articles' own items only.
ItemSelection = Literal["all", "comments", "articles"]
ITEM_SELECTIONS: tuple[ItemSelection, ...] = ("all", "comments", "articles")
DEFAULT_ITEMS: ItemSelection = "all"
ARTICLE_BUCKET = "article"  # the depth-bucket group of the articles' own items
QS = TypeVar("QS", bound=QuerySet[Any])


def _of(users: QuerySet[User] | None, labels: QS) -> QS:
    """The labels of `users`, or everyone's."""
    return labels if users is None else labels.filter(annotator__in=users)


def _selected(rows: QS, items: ItemSelection) -> QS:
    if items not in ITEM_SELECTIONS:
        raise ValueError(f"items must be one of {', '.join(ITEM_SELECTIONS)}, not {items!r}")
    if items == "all":
        return rows
    return rows.filter(comment__isnull=items == "articles")


# One integer per item: a comment's id, or minus the article's id for the article itself (ids are positive).
ITEM_KEY = Coalesce(F("comment_id"), -F("article_id"))


def agreement(topic: Topic, *, article: Article | None = None, items: ItemSelection = DEFAULT_ITEMS) -> TopicReport:
    """Every agreement measure for one topic (optionally one article), annotators named by username, over
    `items`: every item (default), the comments only, or the articles' own labels only. The articles' own items
    form the group `article` of the depth breakdown.

    Narrow queries rather than one wide join: for a million labels, decoding the rows is most of the time, so
    the labels come as three numbers through a binary cursor, and the items' groups and the annotators' names,
    far fewer, on their own.
    """
    labels: QuerySet[Annotation] = _selected(Annotation.objects.filter(topic=topic).order_by(), items)
    if article is not None:
        labels = labels.filter(article=article)
    # On the overlap sample when work is assigned, and never on check or qualification answers.
    labels, _ = agreement_sample(labels, AssignmentSettings.current())
    rows = list(stream_rows(labels.annotate(item_key=ITEM_KEY).values_list("item_key", "annotator_id", "stance")))
    # Column by column: zip(*rows) would pass a million arguments, several times slower.
    keys, annotator_ids, stances = (list(map(itemgetter(column), rows)) for column in range(3))
    names = dict(User.objects.filter(pk__in=set(annotator_ids)).values_list("pk", "username"))
    groups: dict[Hashable, dict[str, Hashable]] = {}
    if items != "articles":
        labelled = Comment.objects.filter(Exists(labels.filter(comment=OuterRef("pk"))))
        groups.update(
            (comment_id, {"article": article_id, "depth_bucket": depth_bucket(depth)})
            for comment_id, article_id, depth in stream_rows(labelled.values_list("pk", "article_id", "depth"))
        )
    if items != "comments":
        articles = labels.filter(comment=None).values_list("article_id", flat=True).distinct()
        groups.update((-article_id, {"article": article_id, "depth_bucket": ARTICLE_BUCKET}) for article_id in articles)
    return topic_report_from_arrays(keys, [names[pk] for pk in annotator_ids], stances, groups)


def pair_confusion(
    topic: Topic, annotator_a: str, annotator_b: str, *, items: ItemSelection = DEFAULT_ITEMS
) -> dict[str, Any]:
    """How two annotators' labels on a topic cross: rows are a's labels, columns b's."""
    labels = Annotation.objects.filter(topic=topic, annotator__username__in=[annotator_a, annotator_b])
    rows = _selected(labels, items).annotate(item_key=ITEM_KEY).values_list("item_key", "annotator__username", "stance")
    matrix = confusion_matrix(list(rows), annotator_a, annotator_b)
    return {
        "topic": topic.slug,
        "annotator_a": annotator_a,
        "annotator_b": annotator_b,
        "labels": list(STANCES),
        "matrix": matrix,
        "overlap": sum(sum(row) for row in matrix),
    }


@dataclass(frozen=True)
class AnnotatorProgress:
    username: str
    labels: int  # labels given, over all active topics
    comments_done: int  # comments labelled on every active topic
    comments: int  # comments in the corpus
    articles_done: int = 0  # articles whose own item is labelled on every active topic
    articles: int = 0  # articles in the corpus

    @property
    def items_done(self) -> int:
        return self.comments_done + self.articles_done

    @property
    def items(self) -> int:
        return self.comments + self.articles

    def as_dict(self) -> dict[str, Any]:
        return {
            "annotator": self.username,
            "labels": self.labels,
            "comments_done": self.comments_done,
            "comments": self.comments,
            "articles_done": self.articles_done,
            "articles": self.articles,
            "items_done": self.items_done,
            "items": self.items,
            "share_done": self.items_done / self.items if self.items else None,
        }


def progress(users: QuerySet[User] | None = None) -> list[AnnotatorProgress]:
    """Labelling progress of each annotator (or of the given users): comments and articles (their own items)
    labelled on every active topic."""
    active = list(Topic.objects.active().values_list("pk", flat=True))
    comments, articles = Comment.objects.count(), Article.objects.count()
    labels = _of(users, Annotation.objects.filter(topic_id__in=active))
    per_item = (
        labels.values("annotator__username", "article_id", "comment_id")
        .annotate(n=Count("pk"))
        .values_list("annotator__username", "comment_id", "n")
    )
    comments_done: Counter[str] = Counter()
    articles_done: Counter[str] = Counter()
    given: Counter[str] = Counter()
    for username, comment_id, n in per_item.iterator(chunk_size=20_000):
        given[username] += n
        (articles_done if comment_id is None else comments_done)[username] += n >= len(active)
    names = sorted(given) if users is None else sorted(users.values_list("username", flat=True))
    return [
        AnnotatorProgress(name, given[name], comments_done[name], comments, articles_done[name], articles)
        for name in names
    ]


@dataclass(frozen=True)
class LeadTime:
    """How long an annotator spends on an item: per item, the longest lead time of its labels (the time from
    arriving on it to the last label set there), summarised over the items timed."""

    username: str
    items: int
    median_seconds: float
    p90_seconds: float


def lead_times(users: QuerySet[User] | None = None) -> list[LeadTime]:
    """Median (and 90th percentile) seconds per item for each annotator, over the items whose labels carry a
    lead time (written from the browser workspace; imports and the API without `lead_time_ms` are not timed)."""
    labels = _of(users, Annotation.objects.exclude(lead_time_ms=None))
    per_item = (
        labels.values("annotator__username", "article_id", "comment_id")
        .annotate(longest=Max("lead_time_ms"))
        .values_list("annotator__username", "longest")
        .order_by()
    )
    times: dict[str, list[int]] = defaultdict(list)
    for username, longest in per_item.iterator(chunk_size=20_000):
        times[username].append(longest)
    result = []
    for username in sorted(times):
        ordered = sorted(times[username])
        result.append(
            LeadTime(
                username,
                len(ordered),
                round(statistics.median(ordered) / 1000, 1),
                round(ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))] / 1000, 1),
            )
        )
    return result


def stance_distribution(
    *, by_article: bool = False, items: ItemSelection = DEFAULT_ITEMS, annotator: User | None = None
) -> dict[str, Any]:
    """Consensus stances per topic (and per article) over `items`: counts of favor, against, neutral,
    not_about and unresolved items. With `annotator`, that annotator's own labels instead of the consensus
    (what blind annotation lets an annotator see)."""
    labels: QuerySet[Any] = (
        Consensus.objects.exclude(status=None) if annotator is None else Annotation.objects.filter(annotator=annotator)
    )
    rows = _selected(labels, items).values("topic__slug", "stance")
    if by_article:
        rows = rows.values("article_id", "topic__slug", "stance")
    counted = rows.annotate(n=Count("pk")).order_by()
    result: dict[Any, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: dict.fromkeys(CATEGORIES, 0))
    )
    for row in counted:
        key = row["article_id"] if by_article else "all"
        result[key][row["topic__slug"]][row["stance"] or ConsensusStatus.UNRESOLVED.value] += row["n"]
    return {str(key): {topic: dict(counts) for topic, counts in topics.items()} for key, topics in result.items()}


def flow_summary(article: Article, topics: Iterable[Topic] | None = None) -> dict[str, dict[str, Any]]:
    """Per topic (the active ones unless given): consensus stance counts of the article's comments, what their
    reply links do, and how the comments that answer the article itself (top-level ones, and those quoting
    it) relate to the article's own consensus stance."""
    stance_of: dict[tuple[int | None, int], str] = {}  # (comment id, or None for the article; topic id)
    answering: set[int] = set()  # labelled comments that answer the article: top-level, or quoting it
    for comment_id, topic_id, stance, parent_id, quotes_article in (
        Consensus.objects.filter(article=article)
        .exclude(stance=None)
        .values_list("comment_id", "topic_id", "stance", "comment__parent_id", "comment__quotes_article")
    ):
        if stance is not None:  # excluded above; the check is for the type checker
            stance_of[(comment_id, topic_id)] = stance
        if comment_id is not None and (parent_id is None or quotes_article):
            answering.add(comment_id)
    links = list(ReplyLink.objects.filter(source__article=article).values_list("source_id", "target_id"))
    summaries: dict[str, FlowSummary] = {}
    for topic in Topic.objects.active() if topics is None else topics:
        stances = [
            stance for (comment_id, topic_id), stance in stance_of.items() if topic_id == topic.pk and comment_id
        ]
        pairs = [
            (stance_of[(target, topic.pk)], stance_of[(source, topic.pk)])
            for source, target in links
            if (source, topic.pk) in stance_of and (target, topic.pk) in stance_of
        ]
        own = stance_of.get((None, topic.pk))
        to_article = (
            [(own, stance_of[(pk, topic.pk)]) for pk in sorted(answering) if (pk, topic.pk) in stance_of] if own else []
        )
        summaries[topic.slug] = summarise(stances, pairs, article_stance=own, article_links=to_article)
    return {slug: summary.as_dict() for slug, summary in summaries.items()}


def authors_taking_both_sides(comments: Iterable[Comment]) -> dict[tuple[int, int], list[str]]:
    """(article id, author id) -> topics on which that author's comments in that article have consensus
    favor and against both; for the authors and articles of `comments` only."""
    return authors_taking_both_sides_of(
        {(comment.article_id, comment.author_id) for comment in comments if comment.author_id}
    )


def authors_taking_both_sides_of(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], list[str]]:
    """`authors_taking_both_sides` for (article id, author id) pairs."""
    if not pairs:
        return {}
    rows = (
        Consensus.objects.filter(
            among("comment__article_id", {article for article, _ in pairs}),
            among("comment__author_id", {author for _, author in pairs}),
            stance__in=sorted(SIDES),
        )
        .exclude(comment__author=None)
        .values_list("comment__article_id", "comment__author_id", "topic__slug", "stance")
        .distinct()
    )
    stances: dict[tuple[int, int, str], set[str]] = defaultdict(set)
    for article_id, author_id, topic, stance in rows:
        if stance is not None and author_id is not None:
            stances[(article_id, author_id, topic)].add(stance)
    flagged: dict[tuple[int, int], list[str]] = defaultdict(list)
    for (article_id, author_id, topic), seen in sorted(stances.items()):
        if takes_both_sides(seen):
            flagged[(article_id, author_id)].append(topic)
    return dict(flagged)
