"""Query vocabulary for the corpus, so that views and serializers never trigger a query per row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce

if TYPE_CHECKING:
    # Article names the QuerySet's model in a string, which ruff does not read as a use.
    from debate.models import Article, Comment


class ArticleQuerySet(models.QuerySet["Article"]):
    def with_listing(self) -> ArticleQuerySet:
        """Author and comment count, as the article list shows them."""
        return self.select_related("author").annotate(comment_count=Count("comments"))


class CommentQuerySet(models.QuerySet["Comment"]):
    def with_thread(self) -> CommentQuerySet:
        """Author, parent number and author, and every reply link: what a thread needs to render."""
        from debate.models import Article, ReplyLink

        # A subquery rather than a join on the article: the join would stay in every COUNT(*) of a filtered
        # list, making PostgreSQL scan all comments to count a page's worth of matches.
        wrote_article = Exists(Article.objects.filter(pk=OuterRef("article_id"), author_id=OuterRef("author_id")))
        return (
            self.select_related("author", "parent__author")
            .prefetch_related(
                Prefetch("reply_links", queryset=ReplyLink.objects.select_related("target").order_by("position", "pk"))
            )
            .annotate(is_article_author=wrote_article)
        )

    def ancestors_of(self, comment: Comment) -> CommentQuerySet:
        """The comment's parent chain, root first: at each shallower depth, the last comment before it in tree
        order. One query whatever the depth."""
        if comment.depth == 0:
            return self.none()
        orders = (
            self.model._default_manager.filter(
                article_id=comment.article_id, thread_order__lt=comment.thread_order, depth__lt=comment.depth
            )
            .values("depth")
            .annotate(last=Max("thread_order"))
            .values("last")
        )
        return (
            self.filter(article_id=comment.article_id, thread_order__in=Subquery(orders))
            .select_related("author")
            .order_by("thread_order")
        )

    def thread_window(self, article: Article, start: int, size: int) -> CommentQuerySet:
        """`size` comments of the article's thread from thread position `start`, in thread order."""
        return self.filter(article=article, thread_order__gte=start, thread_order__lt=start + size).order_by(
            "thread_order"
        )

    def thread_order_of(self, pk: int, article: Article) -> int | None:
        """The thread position of comment `pk` if it belongs to `article`."""
        order: int | None = self.filter(pk=pk, article=article).values_list("thread_order", flat=True).first()
        return order

    def numbered(self, article_id: int, number: int) -> Comment | None:
        """The comment of the article with this number (as the source file numbers them)."""
        return self.filter(article_id=article_id, number=number).first()

    def in_thread_order(self) -> CommentQuerySet:
        return self.order_by("article_id", "thread_order")

    def in_file_order(self) -> CommentQuerySet:
        return self.order_by("article_id", "number")

    def subtree(self, root: Comment) -> CommentQuerySet:
        """The root and every comment below it, in thread order.

        Pre-order numbering puts a subtree in one contiguous run: from the root up to the next comment at
        the root's depth or shallower.
        """
        following = (
            self.model._default_manager.filter(
                article_id=root.article_id, thread_order__gt=root.thread_order, depth__lte=root.depth
            )
            .order_by("thread_order")
            .values("thread_order")[:1]
        )
        end = Coalesce(Subquery(following), Value(2**31 - 1))
        return self.filter(
            article_id=root.article_id, thread_order__gte=root.thread_order, thread_order__lt=end
        ).order_by("thread_order")
