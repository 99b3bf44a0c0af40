"""Query vocabulary for annotations, shared by the API, the pages and the exports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

from django.db import models
from django.db.models import F, Prefetch, Q, QuerySet

from annotations.permissions import sees_all_labels
from annotations.vocabulary import OPPOSING_PAIRS, Relation

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    # Models named in QuerySet[...] strings, which ruff does not read as uses.
    from annotations.models import Annotation, Consensus, Topic  # noqa: F401
    from debate.models import Article, Comment


class TopicQuerySet(models.QuerySet["Topic"]):
    def active(self) -> TopicQuerySet:
        return self.filter(is_active=True)


class AnnotationQuerySet(models.QuerySet["Annotation"]):
    def visible_to(self, user: AbstractBaseUser | AnonymousUser) -> AnnotationQuerySet:
        if sees_all_labels(user):
            return self
        if not user.is_authenticated:
            return self.none()
        return self.filter(annotator_id=user.pk)

    def for_topic(self, topic: Topic | str) -> AnnotationQuerySet:
        return self.filter(topic__slug=topic) if isinstance(topic, str) else self.filter(topic=topic)

    def with_names(self) -> AnnotationQuerySet:
        """Topic slug, annotator username and the comment's place, joined in, for records and exports."""
        return self.select_related("topic", "annotator", "comment")

    def of_item_type(self, item_type: str) -> AnnotationQuerySet:
        """`article` (the articles' own labels), `comment`, or `all`."""
        return _of_item_type(self, item_type)


class ConsensusQuerySet(models.QuerySet["Consensus"]):
    def for_topic(self, topic: Topic | str) -> ConsensusQuerySet:
        return self.filter(topic__slug=topic) if isinstance(topic, str) else self.filter(topic=topic)

    def of_item_type(self, item_type: str) -> ConsensusQuerySet:
        """`article` (the articles' own items), `comment`, or `all`."""
        return _of_item_type(self, item_type)


def relation_condition(queryset: QuerySet[Any], wanted: Relation, *, answered: str, reply: str) -> QuerySet[Any]:
    """Rows whose stance `reply` (a field or annotation) stands in the relation `wanted` to the stance it answers,
    `answered`: `annotations.vocabulary.relation` as a query, the "opposes" rule read from `OPPOSING_PAIRS`."""
    agrees = Q(**{reply: F(answered)})
    opposes = Q()
    for answered_stance, reply_stance in OPPOSING_PAIRS:
        opposes |= Q(**{answered: answered_stance, reply: reply_stance})
    if wanted is Relation.AGREES:
        return queryset.filter(agrees)
    if wanted is Relation.OPPOSES:
        return queryset.filter(opposes)
    return queryset.exclude(agrees).exclude(opposes)


_Rows = TypeVar("_Rows", bound=QuerySet[Any])


def _of_item_type(queryset: _Rows, item_type: str) -> _Rows:
    if item_type == "all":
        return queryset
    if item_type not in ("article", "comment"):
        raise ValueError(f"unknown item type {item_type!r}")
    return queryset.filter(comment__isnull=item_type == "article")


@overload
def with_labels_for(items: QuerySet[Comment], user: AbstractBaseUser | AnonymousUser) -> QuerySet[Comment]: ...


@overload
def with_labels_for(items: QuerySet[Article], user: AbstractBaseUser | AnonymousUser) -> QuerySet[Article]: ...


def with_labels_for(items: QuerySet[Any], user: AbstractBaseUser | AnonymousUser) -> QuerySet[Any]:
    """Prefetch what a comment or article record shows this user about its own item: their own labels, and
    consensus and gold labels if they may see them (an article's, not its comments').

    Three queries per page, whatever its size: `item.my_labels`, `item.consensus_rows`, `item.gold_rows`.
    """
    return items.prefetch_related(*label_prefetches(items.model, user))


def label_prefetches(
    model: type[Any], user: AbstractBaseUser | AnonymousUser, *, gold: bool = True
) -> list[Prefetch[Any]]:
    """The prefetches of `with_labels_for`, for `prefetch_related_objects` on rows already loaded (without the
    gold labels when `gold` is false: the annotation panel does not show them)."""
    from annotations.models import Annotation, Consensus, GoldLabel
    from debate.models import Article

    mine: QuerySet[Any] = (
        Annotation.objects.filter(annotator_id=user.pk).select_related("topic")
        if user.is_authenticated
        else Annotation.objects.none()
    )
    consensus: QuerySet[Any] = (
        Consensus.objects.select_related("topic").exclude(status=None).order_by("topic__ordering", "topic__slug")
        if sees_all_labels(user)
        else Consensus.objects.none()
    )
    gold_labels: QuerySet[Any] = (
        GoldLabel.objects.select_related("topic", "set_by").order_by("topic__ordering", "topic__slug")
        if sees_all_labels(user)
        else GoldLabel.objects.none()
    )
    if model is Article:  # the article's own item only, not its comments'
        mine, consensus, gold_labels = (rows.filter(comment=None) for rows in (mine, consensus, gold_labels))
    return [
        Prefetch("annotations", queryset=mine, to_attr="my_labels"),
        Prefetch("consensus", queryset=consensus, to_attr="consensus_rows"),
        *([Prefetch("gold_labels", queryset=gold_labels, to_attr="gold_rows")] if gold else []),
    ]
