"""Filters over the corpus, shared by the API and the HTML pages."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_filters import rest_framework as filters

from debate.models import SEARCH_CONFIG, Article, Comment, CommentSearch


def full_text_search(queryset: QuerySet[Comment], text: str) -> QuerySet[Comment]:
    """Comments whose body matches `text`: PostgreSQL full-text search (GIN-indexed), plain text elsewhere."""
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        # Stored vectors through their GIN index; the few comments whose vector the workers have not computed
        # yet (just imported, or edited) through the partial index of pending rows, computed here the same way.
        stored = CommentSearch.objects.filter(vector=query).values("comment_id")
        pending = (
            CommentSearch.objects.filter(vector__isnull=True)
            .alias(computed=SearchVector("comment__body", config=SEARCH_CONFIG))
            .filter(computed=query)
            .values("comment_id")
        )
        return queryset.filter(Q(pk__in=stored) | Q(pk__in=pending))
    for word in text.split():
        queryset = queryset.filter(body__icontains=word)
    return queryset


class CommentFilter(filters.FilterSet):
    article = filters.ModelChoiceFilter(queryset=Article.objects.all())
    author = filters.CharFilter(field_name="author__name", lookup_expr="iexact", label="Author name")
    has_replies = filters.BooleanFilter(method="filter_has_replies", label="Has replies")
    search = filters.CharFilter(method="filter_search", label="Full-text search")

    class Meta:
        model = Comment
        fields = ["article", "author", "has_replies", "search"]

    def filter_has_replies(self, queryset: QuerySet[Comment], name: str, value: bool | None) -> QuerySet[Comment]:
        if value is None:
            return queryset
        replies = Exists(Comment.objects.filter(parent=OuterRef("pk")))
        return queryset.filter(replies if value else ~replies)

    def filter_search(self, queryset: QuerySet[Comment], name: str, value: str) -> QuerySet[Comment]:
        return full_text_search(queryset, value)
