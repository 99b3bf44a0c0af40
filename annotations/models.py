"""Topics, stance annotations, their computed consensus, and the append-only history of changes."""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.querysets import AnnotationQuerySet, ConsensusQuerySet, TopicQuerySet
from annotations.vocabulary import STANCE_CHOICES, STANCE_VALUES, STATUS_CHOICES, ConsensusStatus, Stance
from debate.models import Article, Comment, Job

__all__ = [
    "ARTICLE_ITEM",
    "COMMENT_ITEM",
    "Annotation",
    "AnnotatorStatus",
    "Assignment",
    "AssignmentReason",
    "AssignmentSettings",
    "ChangeEvent",
    "Consensus",
    "ConsensusStatus",
    "GoldLabel",
    "GuidelineVersion",
    "ItemType",
    "QualificationItem",
    "QualificationStatus",
    "Release",
    "Stance",
    "Topic",
]


class ItemType(models.TextChoices):
    """What a label is about: a comment, or the article itself (its `comment` is NULL)."""

    ARTICLE = "article", "Article"
    COMMENT = "comment", "Comment"


# An item is a (article, comment) pair: a comment of the article, or, with comment NULL, the article itself.
# `article` is set for comment items too (the comment's article): "every label of an article's items" is one
# indexed filter, and a composite foreign key (migration 0004) holds it to the comment's article.
ARTICLE_ITEM = Q(comment__isnull=True)
COMMENT_ITEM = Q(comment__isnull=False)


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
    guideline_version = models.PositiveIntegerField(
        default=1, help_text="The current version of the statement and guidelines; changes go through the admin."
    )

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["ordering", "slug"]

    def __str__(self) -> str:
        return self.name


class Annotation(models.Model):
    """One annotator's stance label for one item (a comment, or the article itself) on one topic."""

    # PROTECT: re-importing a changed article must not silently drop labels on comments it removes.
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="annotations")
    # Comment and annotator get no index of their own: the unique constraint (comment, topic, annotator) and
    # the index (annotator, topic, stance) lead with them and serve every lookup by either. A page's labels
    # (`comment = ANY(1,000 ids) AND annotator = me`) then take the unique index with both conditions, where
    # the planner chose the index on comment alone and read every annotator's labels of those comments to
    # drop nine in ten (EXPLAIN ANALYZE, 10 annotators: 30,000 rows read, 18-25 ms; now 3,000, 10-12 ms), and
    # each new label updates two indexes fewer.
    comment = models.ForeignKey(
        Comment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="annotations",
        help_text=ITEM_HELP,
        db_index=False,
    )
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations", db_index=False
    )
    stance = models.CharField(max_length=16, choices=STANCE_CHOICES)
    unsure = models.BooleanField(default=False)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1 (low) to 3 (high).")
    note = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True, help_text="Spans of the body: {start, end, text}.")
    version = models.PositiveIntegerField(default=1)
    guideline_version = models.PositiveIntegerField(
        default=1, help_text="The version of the topic's guidelines the label was made (or last confirmed) under."
    )
    lead_time_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Milliseconds the annotator spent on the item before this label's last change (measured in the "
        "browser); empty when the client did not say.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the annotator was shown when they last set this label (issue 16): whether a hint was on the panel,
    # which stance it suggested and from which model version, and which queue stream served the item.
    suggestion_shown = models.BooleanField(default=False)
    suggested_stance = models.CharField(max_length=16, choices=STANCE_CHOICES, blank=True)
    suggestion_model_version = models.PositiveIntegerField(null=True, blank=True)
    stream = models.CharField(
        max_length=16,
        blank=True,
        help_text="uncertain / random when the queue was ordered by uncertainty.",
    )

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["article_id", "comment_id", "topic__ordering", "annotator_id"]
        constraints = [
            # NULLs are distinct: this one holds comment items; the next one article items.
            models.UniqueConstraint(fields=["comment", "topic", "annotator"], name="one_label_per_annotator"),
            models.UniqueConstraint(
                fields=["article", "topic", "annotator"], condition=ARTICLE_ITEM, name="one_article_label_per_annotator"
            ),
            models.CheckConstraint(condition=Q(stance__in=STANCE_VALUES), name="annotation_stance_valid"),
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
    stance = models.CharField(max_length=16, choices=STANCE_CHOICES)
    note = models.TextField(blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gold_labels")
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "topic"], name="one_gold_label_per_item"),
            models.UniqueConstraint(
                fields=["article", "topic"], condition=ARTICLE_ITEM, name="one_gold_label_per_article_item"
            ),
            models.CheckConstraint(condition=Q(stance__in=STANCE_VALUES), name="gold_stance_valid"),
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
    stance = models.CharField(max_length=16, choices=STANCE_CHOICES, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, null=True, blank=True)  # noqa: DJ001
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


# --- who labels what: assignment, qualification, attention checks (issue 15) ----------------------------


class AssignmentReason(models.TextChoices):
    OVERLAP = "overlap", "Overlap sample"  # labelled by several annotators, for agreement
    SINGLE = "single", "Single"  # labelled by one annotator
    QUALIFICATION = "qualification", "Qualification"  # a gold item a new annotator labels first
    CHECK = "check", "Attention check"  # a gold item mixed into the queue


ORDINARY_REASONS = (AssignmentReason.OVERLAP, AssignmentReason.SINGLE)
GOLD_REASONS = (AssignmentReason.QUALIFICATION, AssignmentReason.CHECK)


class OneRowSettings(models.Model):
    """Settings kept in one row (pk 1); until someone saves them, the model's defaults."""

    class Meta:
        abstract = True

    @classmethod
    def current(cls) -> Self:
        try:  # `get`: `filter().first()` compiled an ordering for the one row on every label write
            return cls._default_manager.get(pk=1)
        except cls.DoesNotExist:
            return cls(pk=1)


class AssignmentSettings(OneRowSettings):
    """How the corpus is shared out among annotators: one row (the topic set is the whole corpus today).

    The defaults (everything in the overlap sample, labelled by every annotator, no checks, no qualification)
    are the tool's behaviour before assignment existed: every annotator's queue is every comment.
    """

    overlap_share = models.FloatField(default=1.0, help_text="Share of the items every overlap annotator labels.")
    overlap_annotators = models.PositiveIntegerField(
        null=True, blank=True, help_text="Annotators per overlap item; empty: all of them."
    )
    per_annotator_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most ordinary items one annotator is given; empty: no cap."
    )
    check_share = models.FloatField(default=0.0, help_text="Share of each queue made of attention checks.")
    check_threshold = models.FloatField(default=0.6, help_text="Check accuracy below which an annotator is flagged.")
    check_minimum = models.PositiveIntegerField(default=5, help_text="Checked labels needed before judging.")
    pause_on_failed_checks = models.BooleanField(default=False, help_text="Pause a flagged annotator too.")
    qualification_required = models.BooleanField(default=False, help_text="New annotators qualify first.")
    qualification_size = models.PositiveIntegerField(default=5, help_text="Qualification items per annotator.")
    qualification_pass = models.FloatField(default=0.8, help_text="Accuracy needed to pass qualification.")
    planned_for = models.CharField(max_length=64, blank=True, help_text="Digest of the facts the plan was made for.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "assignment settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="assignment_settings_single_row"),
            models.CheckConstraint(condition=Q(overlap_share__gte=0, overlap_share__lte=1), name="overlap_share_0_1"),
            models.CheckConstraint(
                condition=Q(overlap_annotators__isnull=True) | Q(overlap_annotators__gte=2),
                name="overlap_annotators_at_least_2",
            ),
            models.CheckConstraint(
                condition=Q(per_annotator_cap__isnull=True) | Q(per_annotator_cap__gte=1), name="cap_at_least_1"
            ),
            models.CheckConstraint(condition=Q(check_share__gte=0, check_share__lt=1), name="check_share_0_1"),
            models.CheckConstraint(
                condition=Q(check_threshold__gte=0, check_threshold__lte=1), name="check_threshold_0_1"
            ),
            models.CheckConstraint(
                condition=Q(qualification_pass__gte=0, qualification_pass__lte=1), name="qualification_pass_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"overlap {self.overlap_share:.0%}, {self.overlap_annotators or 'all'} annotators per overlap item"


class QualificationStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", "Not required"  # qualification was off, or they labelled before it was on
    PENDING = "pending", "Pending"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class AnnotatorStatus(models.Model):
    """An annotator's standing: qualification, attention-check flag, pause. No row: not required, not
    flagged, not paused."""

    annotator = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotator_status", primary_key=True
    )
    qualification = models.CharField(
        max_length=16, choices=QualificationStatus.choices, default=QualificationStatus.NOT_REQUIRED
    )
    qualification_correct = models.PositiveIntegerField(default=0)
    qualification_scored = models.PositiveIntegerField(default=0)
    qualified_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    flag_reason = models.TextField(blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False)
    pause_reason = models.TextField(blank=True)
    guidelines_seen = models.JSONField(default=dict, blank=True, help_text="Topic slug -> guideline version seen.")

    class Meta:
        verbose_name_plural = "annotator statuses"
        constraints = [
            models.CheckConstraint(
                condition=Q(qualification__in=QualificationStatus.values), name="annotator_qualification_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id}: {self.qualification}{', flagged' if self.flagged else ''}"


class Assignment(models.Model):
    """One item in one annotator's queue, and why. An item is a comment today; `comment` is nullable so that
    an article itself can become an item later (then `comment` is NULL and `article` is the item)."""

    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="assignments")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments")
    reason = models.CharField(max_length=16, choices=AssignmentReason.choices)
    position = models.PositiveIntegerField(help_text="Place in the annotator's queue, from 0.")
    created_at = models.DateTimeField(auto_now_add=True)
    # Gold items (qualification, checks): the first complete answer is scored once, so that seeing the gold
    # answer afterwards and changing the label does not change the score.
    scored_at = models.DateTimeField(null=True, blank=True)
    correct = models.PositiveIntegerField(null=True, blank=True, help_text="Topics answered as the gold label.")
    scored = models.PositiveIntegerField(null=True, blank=True, help_text="Topics with a gold label.")

    class Meta:
        ordering = ["annotator_id", "position"]
        constraints = [
            # Not partial, so that the plan can be written with ON CONFLICT; NULL comments never conflict.
            models.UniqueConstraint(fields=["annotator", "comment"], name="one_assignment_per_comment"),
            models.UniqueConstraint(
                fields=["annotator", "article"], condition=Q(comment__isnull=True), name="one_assignment_per_article"
            ),
            models.CheckConstraint(condition=Q(reason__in=AssignmentReason.values), name="assignment_reason_valid"),
        ]
        indexes = [
            models.Index(fields=["annotator", "reason", "position"], name="assignment_queue"),
            models.Index(fields=["comment", "reason"], name="assignment_item"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id} <- {self.comment_id or f'article {self.article_id}'} ({self.reason})"


class QualificationItem(models.Model):
    """A gold item a curator chose for qualification: new annotators label it first and see its answer."""

    comment = models.OneToOneField(Comment, on_delete=models.CASCADE, related_name="qualification_item")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["comment_id"]

    def __str__(self) -> str:
        return f"qualification item {self.comment_id}"


class GuidelineVersion(models.Model):
    """One version of a topic's statement and guidelines. Version 1 is the text the topic started with; an
    admin's change makes the next one, and labels made under older ones are flagged for review."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="guideline_versions")
    number = models.PositiveIntegerField()
    statement = models.TextField()
    guidelines = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="What changed, in the admin's words.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["topic_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "number"], name="one_guideline_version_number_per_topic"),
            models.CheckConstraint(condition=Q(number__gte=1), name="guideline_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} v{self.number}"


class Release(models.Model):
    """A dataset release: immutable files written once by a background job (`annotations.releases`), under
    RELEASES_ROOT in `folder`, described by their manifest and dataset card."""

    name = models.CharField(max_length=200)
    filters = models.JSONField(default=dict, blank=True, help_text="The export filters the release applied.")
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="release")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="releases"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    folder = models.CharField(max_length=100, unique=True, help_text="Its folder under RELEASES_ROOT.")
    manifest = models.JSONField(default=dict, blank=True)
    card = models.TextField(blank=True, help_text="README.md: the dataset card.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


# --- stance suggestions (issue 16) -----------------------------------------------------------------------


class Band(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"


class Stream(models.TextChoices):
    """Which part of an uncertainty-ordered queue an item came from: researchers keep the random one as an
    unbiased sample."""

    UNCERTAIN = "uncertain", "Uncertain (active learning)"
    RANDOM = "random", "Random"


class SuggestionModel(models.Model):
    """A topic's trained stance model: what it learned from, how good it measured, and its bytes.

    Only the latest model of a topic suggests, and only when `usable` (its cross-validated quality beats the
    majority-class baseline); the older rows stay as the learning curve, their bytes dropped."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="suggestion_models")
    version = models.PositiveIntegerField(help_text="1, 2, ... per topic.")
    trained_at = models.DateTimeField(auto_now_add=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    label_count = models.PositiveIntegerField(help_text="Consensus labels it was trained on.")
    usable = models.BooleanField(default=False)
    reason = models.TextField(blank=True, help_text="Why it is not used, when it is not.")
    metrics = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(default=0.0, help_text="Time taken to measure and train.")
    data = models.BinaryField(blank=True, default=b"", help_text="The serialised model; emptied when superseded.")

    class Meta:
        ordering = ["topic_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "version"], name="one_suggestion_model_version_per_topic")
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} model v{self.version} ({self.label_count} labels)"


class Suggestion(models.Model):
    """The current model's suggestion for one comment on one topic, computed when the model was trained (and
    for new comments when they are next asked for), so that a page reads it with a join."""

    model = models.ForeignKey(SuggestionModel, on_delete=models.CASCADE, related_name="suggestions")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="suggestions")
    stance = models.CharField(max_length=16, choices=STANCE_CHOICES)
    probability = models.FloatField()
    band = models.CharField(max_length=8, choices=Band.choices, blank=True, help_text="Empty: no hint shown.")
    uncertainty = models.FloatField(help_text="1 - the top probability.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "topic"], name="one_suggestion_per_item")]
        indexes = [models.Index(fields=["topic", "uncertainty"], name="suggestion_topic_uncertainty")]

    def __str__(self) -> str:
        return f"c{self.comment_id}/{self.topic_id}: {self.stance} {self.probability:.2f}"


class SuggestionSettings(OneRowSettings):
    """How suggestions are used: one row, curators set it (`PUT /api/suggestions/settings/`)."""

    hints = models.BooleanField(default=True, help_text="Show hints to annotators (never on overlap items).")
    active_learning = models.BooleanField(default=False, help_text="Order queues by the model's uncertainty.")
    random_share = models.FloatField(default=0.2, help_text="Share of an ordered queue drawn at random.")
    retrain_every = models.PositiveIntegerField(
        default=50, help_text="New consensus labels on a topic after which its model is trained again."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "suggestion settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="suggestion_settings_single_row"),
            models.CheckConstraint(condition=Q(random_share__gte=0, random_share__lte=1), name="random_share_0_1"),
            models.CheckConstraint(condition=Q(retrain_every__gte=1), name="retrain_every_at_least_1"),
        ]

    def __str__(self) -> str:
        return f"hints {'on' if self.hints else 'off'}, active learning {'on' if self.active_learning else 'off'}"
