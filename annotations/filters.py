"""FilterSets for comments-with-labels and for labels: one each, used by the API and the HTML pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django_filters import rest_framework as filters

from annotations.models import Annotation, Consensus, ConsensusStatus, Stance, Topic
from annotations.querysets import sees_all_labels
from debate.filters import CommentFilter as CorpusCommentFilter
from debate.models import Article, Comment

BLIND = "annotators see only their own labels (blind annotation)"


def _ignore(queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
    """These filters work together; `filter_queryset` applies them as a whole."""
    return queryset


class TopicFilter(filters.ModelChoiceFilter):
    """A topic named by its slug; an unknown slug is an error naming it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Topic.objects.all())
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("error_messages", {"invalid_choice": "unknown topic; use a slug from /api/topics/"})
        super().__init__(**kwargs)


class CommentFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("stance") or data.get("status")) and not data.get("topic"):
            field = "stance" if data.get("stance") else "status"
            self.add_error(field, "needs a topic: add topic=<slug>")
        return data


class CommentFilter(CorpusCommentFilter):
    """Comments by their labels: consensus (`topic` + `stance`/`status`), one annotator's labels
    (`annotator` + `topic` + `stance`), or the caller's queue (`unannotated=true`, optionally per topic)."""

    topic = TopicFilter(method=_ignore, label="Topic")
    stance = filters.ChoiceFilter(choices=Stance.choices, method=_ignore, label="Stance")
    status = filters.ChoiceFilter(choices=ConsensusStatus.choices, method=_ignore, label="Consensus status")
    annotator = filters.CharFilter(method=_ignore, label="Annotator (username)")
    unannotated = filters.BooleanFilter(method=_ignore, label="Not yet labelled by me")

    class Meta(CorpusCommentFilter.Meta):
        fields = [*CorpusCommentFilter.Meta.fields, "topic", "stance", "status", "annotator", "unannotated"]
        form = CommentFilterForm

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        user = _user_of(self.request)
        topic: Topic | None = data.get("topic")
        stance, status, annotator, unannotated = (
            data.get(name) for name in ("stance", "status", "annotator", "unannotated")
        )

        if annotator:
            if not sees_all_labels(user) and annotator != user.get_username():
                raise PermissionDenied(BLIND)
            labels = Annotation.objects.filter(comment=OuterRef("pk"), annotator__username=annotator)
            if topic:
                labels = labels.filter(topic=topic)
            if stance:
                labels = labels.filter(stance=stance)
            queryset = queryset.filter(Exists(labels))
        elif stance or status:
            if not sees_all_labels(user):
                raise PermissionDenied(f"{BLIND}: filter by annotator=<your username> instead of consensus")
            consensus = Consensus.objects.filter(comment=OuterRef("pk"), topic=topic)
            if stance:
                consensus = consensus.filter(stance=stance)
            if status:
                consensus = consensus.filter(status=status)
            queryset = queryset.filter(Exists(consensus))
        elif topic and not unannotated:
            # A topic alone: comments with labels on it, as far as the caller may see labels.
            if sees_all_labels(user):
                queryset = queryset.filter(
                    Exists(Consensus.objects.filter(comment=OuterRef("pk"), topic=topic).exclude(status=None))
                )
            else:
                queryset = queryset.filter(
                    Exists(Annotation.objects.filter(comment=OuterRef("pk"), topic=topic, annotator_id=user.pk))
                )

        if unannotated and user.is_authenticated:
            queryset = unfinished_by(queryset, user, topic)
        return queryset


def _user_of(request: HttpRequest | None) -> AbstractBaseUser | AnonymousUser:
    return request.user if request is not None else AnonymousUser()


def unfinished_by(queryset: QuerySet[Any], user: Any, topic: Topic | None = None) -> QuerySet[Any]:
    """Comments the user has not labelled on `topic`, or, without one, on some active topic."""
    mine = Annotation.objects.filter(comment=OuterRef("pk"), annotator=user)
    if topic is not None:
        return queryset.exclude(Exists(mine.filter(topic=topic)))
    active = Topic.objects.active().count()
    done = mine.filter(topic__is_active=True).values("comment").annotate(n=Count("*")).values("n")
    return queryset.annotate(my_label_count=Subquery(done)).filter(
        Q(my_label_count__lt=active) | Q(my_label_count__isnull=True)
    )


class AnnotationFilter(filters.FilterSet):
    article = filters.ModelChoiceFilter(field_name="comment__article", queryset=Article.objects.all())
    comment = filters.ModelChoiceFilter(queryset=Comment.objects.all())
    topic = TopicFilter()
    stance = filters.ChoiceFilter(choices=Stance.choices)
    annotator = filters.CharFilter(method="filter_annotator", label="Annotator (username)")
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Annotation
        fields = ["article", "comment", "topic", "stance", "annotator", "updated_since"]

    def filter_annotator(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        user = _user_of(self.request)
        if not sees_all_labels(user) and value != user.get_username():
            raise PermissionDenied(BLIND)
        return queryset.filter(annotator__username=value)
