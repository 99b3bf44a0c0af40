"""The corpus: articles with their authors, comments and the reply links between comments."""

from __future__ import annotations

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


class ReplyLink(models.Model):
    """One piece of evidence that a comment answers an earlier one."""

    class Method(models.TextChoices):
        MENTION = "mention", "@Name: marker"
        QUOTE = "quote", "quoted passage"
        CONTENT = "content", "@Name: marker, the comment chosen by what the reply says"
        MANUAL = "manual", "set by a curator"

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
