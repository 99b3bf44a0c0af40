"""Query vocabulary for annotations, shared by the API, the pages and the exports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Prefetch, QuerySet

from annotations.permissions import sees_all_labels

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    # Models named in QuerySet[...] strings, which ruff does not read as uses.
    from annotations.models import Annotation, Consensus, Topic  # noqa: F401
    from debate.models import Comment


class TopicQuerySet(models.QuerySet["Topic", Any]):
    def active(self) -> TopicQuerySet:
        return self.filter(is_active=True)


class AnnotationQuerySet(models.QuerySet["Annotation", Any]):
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


class ConsensusQuerySet(models.QuerySet["Consensus", Any]):
    def for_topic(self, topic: Topic | str) -> ConsensusQuerySet:
        return self.filter(topic__slug=topic) if isinstance(topic, str) else self.filter(topic=topic)


def with_labels_for(comments: QuerySet[Comment], user: AbstractBaseUser | AnonymousUser) -> QuerySet[Comment]:
    """Prefetch what a comment record shows this user: their own labels, and consensus and gold labels if they
    may see them.

    Three queries per page, whatever its size: `comment.my_labels`, `comment.consensus_rows`, `comment.gold_rows`.
    """
    from annotations.models import Annotation, Consensus, GoldLabel

    mine: QuerySet[Any] = (
        Annotation.objects.filter(annotator_id=user.pk).select_related("topic")
        if user.is_authenticated
        else Annotation.objects.none()
    )
    consensus: QuerySet[Any] = (
        Consensus.objects.select_related("topic").exclude(status=None)
        if sees_all_labels(user)
        else Consensus.objects.none()
    )
    gold: QuerySet[Any] = (
        GoldLabel.objects.select_related("topic", "set_by") if sees_all_labels(user) else GoldLabel.objects.none()
    )
    return comments.prefetch_related(
        Prefetch("annotations", queryset=mine, to_attr="my_labels"),
        Prefetch("consensus", queryset=consensus, to_attr="consensus_rows"),
        Prefetch("gold_labels", queryset=gold, to_attr="gold_rows"),
    )
