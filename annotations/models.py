"""Topics, stance annotations, their computed consensus, and the append-only history of changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.querysets import AnnotationQuerySet, ConsensusQuerySet, TopicQuerySet
from debate.models import Article, Comment


class Stance(models.TextChoices):
    FAVOR = "favor", "Favor"
    AGAINST = "against", "Against"
    NEUTRAL = "neutral", "Neutral"  # discusses the topic without taking a side
    NOT_ABOUT = "not_about", "Not about"  # does not address the topic


class ItemType(models.TextChoices):
    """What a label is about: a comment, or the article itself (its `comment` is NULL)."""

    ARTICLE = "article", "Article"
    COMMENT = "comment", "Comment"


# An item is a (article, comment) pair: a comment of the article, or, with comment NULL, the article itself.
# `article` is set for comment items too (the comment's article): "every label of an article's items" is one
# indexed filter, and a composite foreign key (migration 0004) holds it to the comment's article.
ARTICLE_ITEM = Q(comment__isnull=True)
COMMENT_ITEM = Q(comment__isnull=False)


class ConsensusStatus(models.TextChoices):
    GOLD = "gold", "Gold (adjudicated)"
    UNANIMOUS = "unanimous", "Unanimous"
    MAJORITY = "majority", "Majority"
    UNRESOLVED = "unresolved", "Unresolved"
    SINGLE = "single", "Single label"


ITEM_HELP = "The comment labelled; NULL when the label is about the article itself."


def item_key(row: Annotation | GoldLabel | Consensus) -> str:
    """`a3` for article 3 itself, `c17` for comment 17: how records name an item in messages."""
    return f"a{row.article_id}" if row.comment_id is None else f"c{row.comment_id}"


class Topic(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    statement = models.TextField(help_text="The proposition annotators judge.")
    guidelines = models.TextField(blank=True, help_text="Markdown.")
    ordering = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["ordering", "slug"]

    def __str__(self) -> str:
        return self.name


class Annotation(models.Model):
    """One annotator's stance label for one item (a comment, or the article itself) on one topic."""

    # PROTECT: re-importing a changed article must not silently drop labels on comments it removes.
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="annotations")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.PROTECT, related_name="annotations", help_text=ITEM_HELP
    )
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="annotations")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations")
    stance = models.CharField(max_length=16, choices=Stance.choices)
    unsure = models.BooleanField(default=False)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1 (low) to 3 (high).")
    note = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True, help_text="Spans of the body: {start, end, text}.")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["article_id", "comment_id", "topic__ordering", "annotator_id"]
        constraints = [
            # NULLs are distinct: this one holds comment items; the next one article items.
            models.UniqueConstraint(fields=["comment", "topic", "annotator"], name="one_label_per_annotator"),
            models.UniqueConstraint(
                fields=["article", "topic", "annotator"], condition=ARTICLE_ITEM, name="one_article_label_per_annotator"
            ),
            models.CheckConstraint(condition=Q(stance__in=Stance.values), name="annotation_stance_valid"),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=1, confidence__lte=3),
                name="annotation_confidence_1_to_3",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="annotation_version_positive"),
        ]
        indexes = [
            models.Index(fields=["topic", "comment"], name="annotation_topic_comment"),
            models.Index(fields=["annotator", "topic", "stance"], name="annotation_annotator_topic"),
            models.Index(fields=["updated_at"], name="annotation_updated_at"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id} on {item_key(self)}/{self.topic_id}: {self.stance}"


class GoldLabel(models.Model):
    """A curator's adjudicated label for an (item, topic); it overrides the annotators' consensus."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="gold_labels")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.PROTECT, related_name="gold_labels", help_text=ITEM_HELP
    )
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="gold_labels")
    stance = models.CharField(max_length=16, choices=Stance.choices)
    note = models.TextField(blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gold_labels")
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "topic"], name="one_gold_label_per_item"),
            models.UniqueConstraint(
                fields=["article", "topic"], condition=ARTICLE_ITEM, name="one_gold_label_per_article_item"
            ),
            models.CheckConstraint(condition=Q(stance__in=Stance.values), name="gold_stance_valid"),
        ]

    def __str__(self) -> str:
        return f"gold {self.stance} for {item_key(self)}/{self.topic_id}"


class Consensus(models.Model):
    """The computed consensus of an (item, topic): recomputed by every write, never edited by hand.

    A cache of `annotations.consensus.compute_consensus` over the item's labels and gold label, kept so that
    filtering by consensus is an indexed lookup. Its row lock also serialises writers of the same item.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="consensus")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="consensus", help_text=ITEM_HELP
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="consensus")
    # NULL, not "": no consensus (unresolved, or no labels yet) is not a stance and must not match one.
    stance = models.CharField(max_length=16, choices=Stance.choices, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(max_length=16, choices=ConsensusStatus.choices, null=True, blank=True)  # noqa: DJ001
    n = models.PositiveIntegerField(default=0, help_text="Number of labels.")
    counts = models.JSONField(default=dict, blank=True, help_text="Labels per stance.")

    objects = ConsensusQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "topic"], name="one_consensus_per_item"),
            models.UniqueConstraint(
                fields=["article", "topic"], condition=ARTICLE_ITEM, name="one_consensus_per_article_item"
            ),
        ]
        indexes = [models.Index(fields=["topic", "stance", "comment"], name="consensus_topic_stance")]

    def __str__(self) -> str:
        return f"{item_key(self)}/{self.topic_id}: {self.stance} ({self.status})"


class ChangeEvent(models.Model):
    """Append-only record of every change users make: labels, gold labels and reply links.

    Values are snapshots (ids, slugs, usernames), not foreign keys, so the record outlives what it
    describes. Database triggers refuse UPDATE and DELETE on this table.
    """

    class Kind(models.TextChoices):
        ANNOTATION = "annotation"
        GOLD = "gold"
        PARENT = "parent"

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    action = models.CharField(max_length=16, choices=Action.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150)
    item_type = models.CharField(max_length=16, choices=ItemType.choices, default=ItemType.COMMENT)
    comment_id = models.BigIntegerField(null=True, blank=True, help_text="NULL when the item is the article.")
    article_id = models.BigIntegerField()
    topic_slug = models.CharField(max_length=64, blank=True)
    annotator_username = models.CharField(max_length=150, blank=True, help_text="Whose label, for annotations.")
    version = models.PositiveIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["comment_id", "topic_slug"], name="change_event_item"),
            models.Index(fields=["annotator_username", "topic_slug"], name="change_event_annotator"),
            models.Index(fields=["article_id", "topic_slug"], name="change_event_article_item"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(item_type=ItemType.COMMENT, comment_id__isnull=False)
                | Q(item_type=ItemType.ARTICLE, comment_id__isnull=True, kind__in=["annotation", "gold"]),
                name="change_event_item_type_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.action} by {self.actor_username} at {self.at:%Y-%m-%d %H:%M}"
