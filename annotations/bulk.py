"""Bulk label import: many annotators' labels in one transaction, for synthetic corpora and dataset loads.

`import_labels` writes what `annotations.actions.set_stance` would for each new label — the Annotation row,
its `create` ChangeEvent, and the recomputed Consensus of every item it touches — but with a handful of
statements per thousand labels instead of a dozen per label. It only creates: a label that already exists
for its (comment, topic, annotator) refuses the whole import, so nothing is overwritten without a trace.

Concurrency: like set_stance, it takes each item's lock (its Consensus row, created if missing) before
it reads the item's labels, and holds them to the end, so a concurrent set_stance on one of those items
waits, then sees the imported labels, and the consensus never misses a label. Locks are taken batch by
batch, in (comment, topic) order within a batch: two bulk imports over the same items at the same time may
deadlock, and PostgreSQL then aborts one of them, which writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from annotations.actions import TopicClosed, check_label_values, clean_label, evidence_of
from annotations.consensus import compute_consensus
from annotations.labels import LabelValues
from annotations.models import Annotation, ChangeEvent, Consensus, GoldLabel, Topic
from annotations.permissions import can_annotate
from debate.db import insert_rows
from debate.errors import Conflict
from debate.models import Comment

__all__ = ["BulkImportResult", "LabelRow", "import_labels"]

BATCH_SIZE = 10_000


@dataclass(frozen=True)
class LabelRow:
    """One new label: an annotator's stance on a comment for a topic, with set_stance's optional values."""

    comment_id: int
    topic_id: int
    annotator_id: int
    stance: str
    unsure: bool = False
    confidence: int | None = None
    note: str = ""
    evidence: Sequence[Mapping[str, object]] = field(default_factory=tuple)

    def values(self) -> LabelValues:
        """The label's values as `set_stance` takes them; raises ValidationError for evidence that is not spans."""
        return LabelValues(self.stance, self.unsure, self.confidence, self.note, evidence_of(list(self.evidence)))


@dataclass(frozen=True)
class BulkImportResult:
    labels: int  # annotations created, and as many history events
    items: int  # (comment, topic) items whose consensus was recomputed


class LabelExists(Conflict):
    """A label to import is already there; the import writes nothing."""


@transaction.atomic
def import_labels(*, labels: Iterable[LabelRow], actor: User | None = None) -> BulkImportResult:
    """Create these labels with their history and the consensus of every item they touch; all or nothing.

    The history records `actor` as who made the change, or each label's annotator when None (labels an
    annotator gave elsewhere). Raises ValidationError for a bad value, PermissionDenied for an annotator
    whose role cannot label, TopicClosed for an inactive topic, LabelExists for a label already stored.
    """
    topics = {topic.pk: topic for topic in Topic.objects.all()}
    users: dict[int, User] = {}
    items: set[tuple[int, int]] = set()
    article_of: dict[int, int] = {}
    created = 0
    for batch in _batches(labels, BATCH_SIZE):
        _check_values(batch, topics)
        _load_annotators(batch, users)
        _load_articles(batch, article_of)
        batch_items = sorted({(row.comment_id, row.topic_id) for row in batch} - items)
        _lock_items(batch_items, article_of)
        items.update(batch_items)
        created += _write(batch, topics, users, actor, article_of)
    _store_consensus(sorted(items), article_of)
    return BulkImportResult(labels=created, items=len(items))


def _batches(rows: Iterable[LabelRow], size: int) -> Iterator[list[LabelRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _check_values(batch: list[LabelRow], topics: dict[int, Topic]) -> None:
    """The checks set_stance makes, per label; evidence is checked against the comment's body."""
    with_evidence = {row.comment_id for row in batch if row.evidence}
    bodies = (
        {comment.pk: comment for comment in Comment.objects.filter(pk__in=with_evidence).only("id", "body")}
        if with_evidence
        else {}
    )
    for row in batch:
        topic = topics.get(row.topic_id)
        if topic is None:
            raise ValidationError({"topic": f"no topic with id {row.topic_id}"})
        if not topic.is_active:
            raise TopicClosed(f"topic {topic.slug!r} is closed for annotation")
        if row.evidence:
            comment = bodies.get(row.comment_id)
            if comment is None:
                raise ValidationError({"comment": f"no comment with id {row.comment_id}"})
            clean_label(item=comment, values=row.values())
            continue
        # Without evidence no comment body is needed: the same checks, without loading a million comments.
        check_label_values(row.values())


def _load_annotators(batch: list[LabelRow], users: dict[int, User]) -> None:
    missing = {row.annotator_id for row in batch} - users.keys()
    if not missing:
        return
    found = {user.pk: user for user in User.objects.filter(pk__in=missing).prefetch_related("groups")}
    for pk in sorted(missing):
        user = found.get(pk)
        if user is None:
            raise ValidationError({"annotator": f"no user with id {pk}"})
        if not can_annotate(user):
            raise PermissionDenied(f"{user.get_username()}'s role cannot write labels")
        users[pk] = user


def _load_articles(batch: list[LabelRow], article_of: dict[int, int]) -> None:
    """The article of every comment of the batch (each label row carries its comment's article)."""
    missing = {row.comment_id for row in batch} - article_of.keys()
    if not missing:
        return
    article_of.update(Comment.objects.filter(pk__in=missing).values_list("id", "article_id"))
    if not missing <= article_of.keys():
        raise ValidationError({"comment": f"no comment with id {min(missing - article_of.keys())}"})


def _lock_items(items: list[tuple[int, int]], article_of: dict[int, int]) -> None:
    """Each item's lock, as set_stance takes it: the Consensus row, created when missing, in (comment, topic)
    order."""
    if not items:
        return
    Consensus.objects.bulk_create(
        [Consensus(article_id=article_of[comment], comment_id=comment, topic_id=topic) for comment, topic in items],
        ignore_conflicts=True,
        batch_size=BATCH_SIZE,
    )
    comments = sorted({comment for comment, _ in items})
    topics = sorted({topic for _, topic in items})
    wanted = set(items)
    locked = (
        Consensus.objects.select_for_update()
        .filter(comment_id__in=comments, topic_id__in=topics)
        .order_by("comment_id", "topic_id")
        .values_list("comment_id", "topic_id")
    )
    # The filter may lock a few more rows (other topics of the same comments): harmless, and one query.
    if not wanted <= set(locked):
        raise Conflict("an item's consensus row vanished while importing; try again")


def _write(
    batch: list[LabelRow],
    topics: dict[int, Topic],
    users: dict[int, User],
    actor: User | None,
    article_of: dict[int, int],
) -> int:
    """The batch's Annotation rows and their history; versions continue any earlier history of the label."""
    comments = {row.comment_id for row in batch}
    # Deleted labels leave history behind; their versions are never reused (set_stance's _next_version).
    last_versions = {
        (comment, slug, username): version
        for comment, slug, username, version in ChangeEvent.objects.filter(
            kind=ChangeEvent.Kind.ANNOTATION, comment_id__in=comments
        )
        .values("comment_id", "topic_slug", "annotator_username")
        .annotate(last=Max("version"))
        .values_list("comment_id", "topic_slug", "annotator_username", "last")
    }
    annotations: list[Annotation] = []
    events: list[ChangeEvent] = []
    for row in batch:
        annotator = users[row.annotator_id]
        topic = topics[row.topic_id]
        version = (last_versions.get((row.comment_id, topic.slug, annotator.get_username())) or 0) + 1
        evidence = [dict(span) for span in row.evidence]
        annotation = Annotation(
            article_id=article_of[row.comment_id],
            comment_id=row.comment_id,
            topic_id=row.topic_id,
            annotator_id=row.annotator_id,
            stance=row.stance,
            unsure=row.unsure,
            confidence=row.confidence,
            note=row.note,
            evidence=evidence,
            version=version,
            guideline_version=topic.guideline_version,
        )
        annotations.append(annotation)
        who = actor or annotator
        events.append(
            ChangeEvent(
                kind=ChangeEvent.Kind.ANNOTATION,
                action=ChangeEvent.Action.CREATE,
                actor_id=who.pk,
                actor_username=who.get_username(),
                comment_id=row.comment_id,
                article_id=article_of[row.comment_id],
                topic_slug=topic.slug,
                annotator_username=annotator.get_username(),
                version=version,
                after={
                    "stance": row.stance,
                    "unsure": row.unsure,
                    "confidence": row.confidence,
                    "note": row.note,
                    "evidence": evidence,
                    "version": version,
                },
            )
        )
    try:
        with transaction.atomic():
            insert_rows(annotations)
    except IntegrityError as error:
        if "one_label_per_annotator" not in str(error):
            raise
        raise LabelExists(_existing_label(batch, users, topics)) from None
    insert_rows(events)
    return len(annotations)


def _existing_label(batch: list[LabelRow], users: dict[int, User], topics: dict[int, Topic]) -> str:
    """Names a label of the batch that is already stored (or repeated within the import)."""
    seen = set(
        Annotation.objects.filter(comment_id__in={row.comment_id for row in batch}).values_list(
            "comment_id", "topic_id", "annotator_id"
        )
    )
    for row in batch:
        key = (row.comment_id, row.topic_id, row.annotator_id)
        if key in seen:
            return (
                f"{users[row.annotator_id].get_username()} already has a label for comment {row.comment_id} "
                f"on {topics[row.topic_id].slug!r}; the import wrote nothing"
            )
        seen.add(key)
    return "a label of the import already exists; the import wrote nothing"


def _store_consensus(items: list[tuple[int, int]], article_of: dict[int, int]) -> None:
    """Recompute every touched item's consensus from all its labels (imported or not) and gold label."""
    for start in range(0, len(items), BATCH_SIZE):
        chunk = items[start : start + BATCH_SIZE]
        comments = sorted({comment for comment, _ in chunk})
        topics = sorted({topic for _, topic in chunk})
        stances: dict[tuple[int, int], list[str]] = defaultdict(list)
        for comment, topic, stance in Annotation.objects.filter(
            comment_id__in=comments, topic_id__in=topics
        ).values_list("comment_id", "topic_id", "stance"):
            stances[(comment, topic)].append(stance)
        gold = {
            (comment, topic): stance
            for comment, topic, stance in GoldLabel.objects.filter(
                Q(comment_id__in=comments) & Q(topic_id__in=topics)
            ).values_list("comment_id", "topic_id", "stance")
        }
        rows = []
        for comment, topic in chunk:
            result = compute_consensus(stances.get((comment, topic), ()), gold.get((comment, topic)))
            rows.append(
                Consensus(
                    article_id=article_of[comment],
                    comment_id=comment,
                    topic_id=topic,
                    stance=result.stance,
                    status=result.status,
                    n=result.n,
                    counts=result.counts,
                )
            )
        Consensus.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["comment", "topic"],
            update_fields=["stance", "status", "n", "counts"],
            batch_size=2000,
        )
