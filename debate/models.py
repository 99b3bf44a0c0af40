"""The corpus: articles with their authors, comments and the reply links between comments."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.functions import Lower

from debate.querysets import ArticleQuerySet, CommentQuerySet


class Author(models.Model):
    """A display name as printed: one row per distinct name, shared by articles and comments."""

    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(Lower("name"), name="author_name_lower")]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    source = models.CharField(max_length=255, unique=True, help_text="File name the article was imported from.")
    origin = models.TextField(
        blank=True, help_text="Where the file came from (the importing command's folder); empty when unknown."
    )
    content_sha256 = models.CharField(max_length=64, help_text="Digest of the imported file's bytes.")
    title = models.CharField(max_length=500)
    title_derived = models.BooleanField(default=False, help_text="The file had no title line.")
    subtitle = models.CharField(max_length=1000, blank=True)
    body = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.PROTECT, related_name="articles")
    author_bio = models.TextField(blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["source"]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    number = models.PositiveIntegerField(help_text="The number printed before the comment.")
    position = models.PositiveIntegerField(help_text="Order of appearance in the file, from 0.")
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.PROTECT, related_name="comments")
    body = models.TextField(blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    parent_is_manual = models.BooleanField(default=False, help_text="A curator set the parent; re-imports keep it.")
    root = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="thread_members",
        help_text="The top-level comment of this comment's thread (itself for a top-level comment).",
    )
    depth = models.PositiveSmallIntegerField(default=0)
    thread_order = models.PositiveIntegerField(default=0, help_text="Pre-order position in the reply tree.")
    quotes_article = models.BooleanField(default=False)
    external_id = models.CharField(
        max_length=255, blank=True, default="", help_text="The comment's id in imported thread data (JSONL/CSV)."
    )
    posted_at = models.DateTimeField(null=True, blank=True, help_text="When it was posted, if the data says.")
    quoted_spans = models.JSONField(
        default=list,
        blank=True,
        help_text="Character spans of the body that quote earlier text: {start, end, source}.",
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["article_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="comment_number_unique_per_article"),
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="comment_not_own_parent"),
        ]
        indexes = [models.Index(fields=["article", "thread_order"], name="comment_thread_order")]

    def __str__(self) -> str:
        return f"#{self.number} by {self.author or 'unknown'}"


SEARCH_CONFIG = "english"  # PostgreSQL's text search configuration of comment bodies


class CommentSearch(models.Model):
    """A comment's full-text search vector, on PostgreSQL, computed after the comment is written rather than
    with it: tokenising and stemming a body costs more than writing the comment itself (0.45 s of a
    5,000-comment import), so an import commits without it and the job workers fill it in
    (`debate.actions.index_comment_search`). Database triggers keep one row per comment, its vector NULL
    until computed and again whenever the body changes; the search filter reads the stored vector where there
    is one and computes it where there is not yet, so results never depend on the workers having caught up."""

    comment = models.OneToOneField(Comment, primary_key=True, on_delete=models.CASCADE, related_name="+")
    vector = SearchVectorField(null=True)

    class Meta:
        indexes = [
            GinIndex(fields=["vector"], name="comment_search_vector"),
            models.Index(fields=["comment"], condition=models.Q(vector__isnull=True), name="comment_search_pending"),
        ]

    def __str__(self) -> str:
        return f"search vector of comment {self.comment_id}" + ("" if self.vector is not None else " (pending)")


class ReplyLink(models.Model):
    """One piece of evidence that a comment answers an earlier one."""

    class Method(models.TextChoices):
        MENTION = "mention", "@Name: marker"
        QUOTE = "quote", "quoted passage"
        CONTENT = "content", "@Name: marker, the comment chosen by what the reply says"
        MANUAL = "manual", "set by a curator"
        GIVEN = "given", "given by the imported thread data"

    source = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reply_links")
    target = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="incoming_links")
    method = models.CharField(max_length=10, choices=Method.choices)
    score = models.FloatField(help_text="Confidence of the match, 0 to 1.")
    evidence = models.TextField(blank=True, help_text="The marker or passage that gave the link away.")
    position = models.PositiveIntegerField(default=0, help_text="Where the evidence starts in the body.")
    basis = models.TextField(
        blank=True,
        default="",
        help_text="For a link chosen by content: the words that decided it and the runner-up's similarity.",
    )

    class Meta:
        ordering = ["source_id", "position", "target_id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="reply_link_unique_pair"),
            models.CheckConstraint(condition=~models.Q(source=models.F("target")), name="reply_link_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -> {self.target_id} ({self.method})"


class Job(models.Model):
    """A piece of work a background worker runs (django-tasks, database backend): its progress, outcome and
    heartbeat. `debate.jobs` holds the plumbing; the task row of the queue itself is django_tasks_db's."""

    class Kind(models.TextChoices):
        IMPORT = "import", "import of uploaded files"
        RELEASE = "release", "dataset release"
        TRAIN = "train", "suggestion model training"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the running worker.")
    worker = models.CharField(max_length=64, blank=True, help_text="The worker running it (or that ran it last).")
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(
        default=1, help_text="Runs allowed: more than one only for work that is safe to run again."
    )
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="What the job was asked to do, beyond its rows.")
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.UUIDField(null=True, blank=True, help_text="The queue's task row (django_tasks_db).")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat")]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"


class ImportFile(models.Model):
    """One uploaded file of an import job, its bytes kept in the database until the job has read them, and
    its outcome: created / updated / unchanged, or refused with a one-line reason."""

    class Outcome(models.TextChoices):
        CREATED = "created"
        UPDATED = "updated"
        UNCHANGED = "unchanged"
        REFUSED = "refused"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    data = models.BinaryField(editable=False)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    reason = models.TextField(blank=True)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    comments = models.PositiveIntegerField(default=0)
    reply_links = models.PositiveIntegerField(default=0)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["job_id", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="import_file_position_unique")]

    def __str__(self) -> str:
        return self.name
