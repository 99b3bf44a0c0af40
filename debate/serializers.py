"""Serializers for the corpus. They read only what the querysets in `debate.querysets` load."""

from __future__ import annotations

from rest_framework import serializers

from debate.models import Article, Comment, ReplyLink


class ArticleSerializer(serializers.ModelSerializer[Article]):
    author = serializers.CharField(source="author.name", allow_null=True, read_only=True, default=None)
    comment_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Article
        fields = ["id", "title", "subtitle", "author", "tags", "source", "comment_count"]


class ArticleDetailSerializer(ArticleSerializer):
    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "title_derived", "author_bio", "body"]


class ReplyLinkSerializer(serializers.ModelSerializer[ReplyLink]):
    comment = serializers.IntegerField(source="target_id", read_only=True)
    comment_number = serializers.IntegerField(source="target.number", read_only=True)

    class Meta:
        model = ReplyLink
        fields = ["comment", "comment_number", "method", "score", "evidence", "basis"]


class CommentSerializer(serializers.ModelSerializer[Comment]):
    author = serializers.CharField(source="author.name", allow_null=True, read_only=True, default=None)
    is_article_author = serializers.BooleanField(read_only=True)
    reply_to = ReplyLinkSerializer(source="reply_links", many=True, read_only=True)

    class Meta:
        model = Comment
        fields = [
            "id",
            "article",
            "number",
            "author",
            "is_article_author",
            "body",
            "parent",
            "parent_is_manual",
            "depth",
            "thread_order",
            "quotes_article",
            "quoted_spans",
            "reply_to",
        ]
