"""FilterSets for comments-with-labels and for labels: one each, used by the API and the HTML pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from django_filters.widgets import BooleanWidget

from annotations.assignment.queries import restrict_to_queue
from annotations.models import Annotation, ChangeEvent, Consensus, Suggestion, Topic
from annotations.permissions import BLIND, sees_all_labels, sees_labels_of
from annotations.querysets import relation_condition
from annotations.vocabulary import STANCE_CHOICES, STANCE_LIST, STATUS_CHOICES, ConsensusStatus, Relation, Stance
from debate.filters import CommentFilter as CorpusCommentFilter
from debate.models import Article, Comment


def _ignore(queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
    """These filters work together; `filter_queryset` applies them as a whole."""
    return queryset


class TopicFilter(filters.ModelChoiceFilter):
    """A topic named by its slug; an unknown slug is an error naming it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Topic.objects.all())
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("error_messages", {"invalid_choice": "unknown topic %(value)r; use a slug from /api/topics/"})
        super().__init__(**kwargs)


class StanceFilter(filters.ChoiceFilter):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("choices", STANCE_CHOICES)
        kwargs.setdefault(
            "error_messages", {"invalid_choice": f"%(value)r is not a stance; choose one of {STANCE_LIST}"}
        )
        super().__init__(**kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """true/false/1/0, or absent; anything else is an error rather than silently no filter at all."""

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]  # None is "no filter"
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        # The value goes in as a parameter, never into the message itself: django-filter's DRF backend
        # %-formats every message with its params, and a `%s` sent as the value would break that (a 500).
        raise ValidationError("%(value)r is not a boolean; use true or false", code="invalid", params={"value": value})


class StrictBooleanWidget(BooleanWidget):
    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = super().value_from_datadict(data, files, name)
        # The parent maps anything it does not know to None ("no filter"); keep it for the field to refuse.
        return data.get(name) if value is None else value


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, turned to UTC before it reaches a query. Python accepts UTC offsets up to ±23:59 but
    PostgreSQL only up to ±15:59 (`+20:31` was a DataError, a 500), and a moment at the very edge of the
    calendar may have no UTC equivalent at all: both are a 400 naming the parameter."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None or timezone.is_naive(moment):
            return moment
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError(
                "%(value)r has no UTC equivalent; use a moment between years 1 and 9999",
                code="invalid",
                params={"value": value},
            ) from None


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class WholeNumberField(forms.IntegerField):
    """A whole number within PostgreSQL's bigint, as the ids the schema declares (int64)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)


class WholeNumberFilter(filters.Filter):
    """An id: a whole number (django-filter's NumberFilter takes `0.5`, or a number past any id, and quietly
    matches nothing)."""

    field_class = WholeNumberField


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", StrictBooleanWidget)
        super().__init__(**kwargs)


# Filters that only mean something for one topic.
NEEDS_TOPIC = ("stance", "status", "relation", "relation_to_article", "thread_mix", "both_sides", "model_disagrees")


class CommentFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("topic"):
            for field in NEEDS_TOPIC:
                if data.get(field) not in (None, ""):
                    self.add_error(field, "needs a topic: add topic=<slug>")
        return data


def item_of_row(model: type[Any]) -> dict[str, Any]:
    """How a label row points at the item of an outer comment or article row (`OuterRef("pk")`): a comment's
    labels by their comment, an article's own labels by their article and no comment."""
    if model is Article:
        return {"article": OuterRef("pk"), "comment": None}
    return {"comment": OuterRef("pk")}


class LabelFilterMixin(filters.FilterSet):
    """Items (comments or articles) by their labels: consensus (`topic` + `stance`/`status`), one annotator's
    labels (`annotator` + `topic` + `stance`), or the caller's queue (`unannotated=true`, optionally per topic)."""

    topic = TopicFilter(method=_ignore, label="Topic")
    stance = StanceFilter(method=_ignore, label="Stance")
    status = filters.ChoiceFilter(choices=STATUS_CHOICES, method=_ignore, label="Consensus status")
    annotator = filters.CharFilter(method=_ignore, label="Annotator (username)")
    unannotated = StrictBooleanFilter(method=_ignore, label="Not yet labelled by me")

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        user = _user_of(self.request)
        item = item_of_row(queryset.model)
        topic: Topic | None = data.get("topic")
        stance, status, annotator, unannotated = (
            data.get(name) for name in ("stance", "status", "annotator", "unannotated")
        )

        if (status or (stance and not annotator)) and not sees_all_labels(user):
            raise PermissionDenied(f"{BLIND}: filter by annotator=<your username> instead of consensus")
        if annotator:
            if not sees_labels_of(user, annotator):
                raise PermissionDenied(BLIND)
            theirs = Annotation.objects.filter(**item, annotator__username=annotator)
            labels = _where(theirs, topic=topic, stance=stance)
            queryset = queryset.filter(Exists(labels))
            # With an annotator, `stance` is theirs; `status` is still the consensus's, and both apply.
            if status:
                queryset = queryset.filter(Exists(Consensus.objects.filter(**item, topic=topic, status=status)))
        elif stance or status:
            queryset = queryset.filter(
                Exists(_where(Consensus.objects.filter(**item, topic=topic), stance=stance, status=status))
            )
        elif topic and not unannotated:
            # A topic alone: items with labels on it, as far as the caller may see labels.
            if sees_all_labels(user):
                queryset = queryset.filter(Exists(Consensus.objects.filter(**item, topic=topic).exclude(status=None)))
            else:
                queryset = queryset.filter(Exists(Annotation.objects.filter(**item, topic=topic, annotator_id=user.pk)))

        if unannotated and user.is_authenticated:
            if queryset.model is Comment:  # the caller's queue: only what is assigned to them (all, by default)
                queryset = restrict_to_queue(queryset, user)
            queryset = unfinished_by(queryset, user, topic)
        return queryset


def _where(rows: QuerySet[Any], **conditions: object) -> QuerySet[Any]:
    """`rows` narrowed by each condition that is given (not empty)."""
    return rows.filter(**{name: value for name, value in conditions.items() if value})


RELATION_CHOICES = [
    (Relation.AGREES.value, "agrees with its parent"),
    (Relation.OPPOSES.value, "opposes its parent"),
    (Relation.SHIFTS.value, "shifts from its parent"),
]
# Top-level comments and comments quoting the article, by their stance against the article's own.
ARTICLE_RELATION_CHOICES = [
    (Relation.AGREES.value, "agrees with the article"),
    (Relation.OPPOSES.value, "opposes the article"),
    (Relation.SHIFTS.value, "shifts from the article"),
]
THREAD_MIX_CHOICES = [
    ("contested", "favor and against"),
    (Stance.FAVOR.value, "favor, no against"),
    (Stance.AGAINST.value, "against, no favor"),
    ("neither", "labelled, neither favor nor against"),
]


class CommentFilter(LabelFilterMixin, CorpusCommentFilter):
    """Comments by their labels: consensus (`topic` + `stance`/`status`), one annotator's labels
    (`annotator` + `topic` + `stance`), or the caller's queue (`unannotated=true`, optionally per topic); and by
    how their stance relates to their parent's or to their article's."""

    has_replies = StrictBooleanFilter(method="filter_has_replies", label="Has replies")
    relation = filters.ChoiceFilter(choices=RELATION_CHOICES, method="filter_relation", label="Relation to parent")
    relation_to_article = filters.ChoiceFilter(
        choices=ARTICLE_RELATION_CHOICES,
        method="filter_relation_to_article",
        label="Relation to the article",
        help_text="Top-level comments and comments quoting the article, compared with the article's consensus",
    )
    thread_mix = filters.ChoiceFilter(choices=THREAD_MIX_CHOICES, method="filter_thread_mix", label="Thread's stances")
    both_sides = StrictBooleanFilter(method="filter_both_sides", label="Author takes both sides in the article")
    outdated = StrictBooleanFilter(
        method="filter_outdated", label="Has labels made under older guidelines (mine, for annotators)"
    )

    model_disagrees = StrictBooleanFilter(
        method="filter_model_disagrees", label="The topic's model suggests another stance than the consensus"
    )

    class Meta(CorpusCommentFilter.Meta):
        fields = [
            *CorpusCommentFilter.Meta.fields,
            "topic",
            "stance",
            "status",
            "annotator",
            "unannotated",
            "relation",
            "relation_to_article",
            "thread_mix",
            "both_sides",
            "outdated",
            "model_disagrees",
        ]
        form = CommentFilterForm

    def _consensus_topic(self, name: str) -> Topic:
        """The topic of a consensus-derived filter, once the caller may use one."""
        if not sees_all_labels(_user_of(self.request)):
            raise PermissionDenied(f"{BLIND}: {name} is computed from everyone's labels")
        topic: Topic = self.form.cleaned_data["topic"]
        return topic

    def filter_relation(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Replies whose consensus on the topic agrees with, opposes or shifts from their parent's."""
        on_topic = Consensus.objects.filter(topic=self._consensus_topic(name))
        queryset = queryset.annotate(
            own_stance=Subquery(on_topic.filter(comment=OuterRef("pk")).values("stance")[:1]),
            parent_stance=Subquery(on_topic.filter(comment=OuterRef("parent_id")).values("stance")[:1]),
        )
        return _related_by(queryset, "parent_stance", value)

    def filter_relation_to_article(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Comments that answer the article (top-level, or quoting it) whose consensus on the topic agrees
        with, opposes or shifts from the article's own consensus."""
        on_topic = Consensus.objects.filter(topic=self._consensus_topic(name))
        queryset = queryset.filter(Q(parent=None) | Q(quotes_article=True)).annotate(
            own_stance=Subquery(on_topic.filter(comment=OuterRef("pk")).values("stance")[:1]),
            article_stance=Subquery(on_topic.filter(article=OuterRef("article_id"), comment=None).values("stance")[:1]),
        )
        return _related_by(queryset, "article_stance", value)

    def filter_thread_mix(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Comments of threads (a top-level comment and its replies) by the consensus stances found in them."""
        in_thread = Consensus.objects.filter(topic=self._consensus_topic(name), comment__root_id=OuterRef("root_id"))
        favor, against = Exists(in_thread.filter(stance=Stance.FAVOR)), Exists(in_thread.filter(stance=Stance.AGAINST))
        mixes = {
            "contested": favor & against,
            Stance.FAVOR: favor & ~against,
            Stance.AGAINST: against & ~favor,
            "neither": Exists(in_thread.exclude(stance=None)) & ~favor & ~against,
        }
        return queryset.filter(mixes[value])

    def filter_both_sides(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        """Comments whose author, in the same article, has comments with consensus favor and against."""
        if value is None:
            return queryset
        by_author = Consensus.objects.filter(
            topic=self._consensus_topic(name),
            comment__article_id=OuterRef("article_id"),
            comment__author_id=OuterRef("author_id"),
        )
        both = Exists(by_author.filter(stance=Stance.FAVOR)) & Exists(by_author.filter(stance=Stance.AGAINST))
        return queryset.filter(both if value else ~both)

    def filter_outdated(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        """Comments with a label made under an older version of its topic's guidelines: the caller's own
        labels for annotators (blind annotation), anyone's for those who see every label; on `topic` if given."""
        if value is None:
            return queryset
        labels = Annotation.objects.filter(
            comment=OuterRef("pk"), guideline_version__lt=F("topic__guideline_version")
        ).visible_to(_user_of(self.request))
        topic = self.form.cleaned_data.get("topic")
        if topic is not None:
            labels = labels.filter(topic=topic)
        return queryset.filter(Exists(labels) if value else ~Exists(labels))

    def filter_model_disagrees(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        """Comments with a consensus stance on the topic that its current (usable) model does not suggest: a quick
        way to find labelling mistakes. `false`: those where both exist and agree."""
        if value is None:
            return queryset
        topic = self._consensus_topic(name)
        consensus = Consensus.objects.filter(topic=topic, comment=OuterRef("pk")).exclude(stance=None)
        suggested = Suggestion.objects.filter(topic=topic, comment=OuterRef("pk"), model__usable=True)
        # Inside the suggestion's subquery, the consensus is that of the suggestion's comment.
        its_consensus = Subquery(
            Consensus.objects.filter(topic=topic, comment=OuterRef("comment_id")).values("stance")[:1]
        )
        differs = suggested.exclude(stance=its_consensus)
        agrees = suggested.filter(stance=its_consensus)
        return queryset.filter(Exists(consensus), Exists(differs if value else agrees))


def _related_by(queryset: QuerySet[Any], other: str, value: str) -> QuerySet[Any]:
    """Rows whose `own_stance` agrees with, opposes or shifts from their `other` stance (both annotated)."""
    queryset = queryset.filter(own_stance__isnull=False, **{f"{other}__isnull": False})
    return relation_condition(queryset, Relation(value), answered=other, reply="own_stance")


class ArticleFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("topic"):
            for field in ("stance", "status"):
                if data.get(field) not in (None, ""):
                    self.add_error(field, "needs a topic: add topic=<slug>")
        return data


class ArticleFilter(LabelFilterMixin):
    """Articles by their own stance: its consensus (`topic` + `stance`/`status`), one annotator's label
    (`annotator` + `topic` + `stance`), or the articles the caller has not labelled (`unannotated=true`)."""

    class Meta:
        model = Article
        fields = ["topic", "stance", "status", "annotator", "unannotated"]
        form = ArticleFilterForm


def _user_of(request: HttpRequest | None) -> AbstractBaseUser | AnonymousUser:
    return request.user if request is not None else AnonymousUser()


def unfinished_by(queryset: QuerySet[Any], user: Any, topic: Topic | None = None) -> QuerySet[Any]:
    """Comments (or articles) the user has not labelled on `topic`, or, without one, on some active topic."""
    item = item_of_row(queryset.model)
    mine = Annotation.objects.filter(**item, annotator=user)
    if topic is not None:
        return queryset.exclude(Exists(mine.filter(topic=topic)))
    active = Topic.objects.active().count()
    done = mine.filter(topic__is_active=True).values(*item).annotate(n=Count("*")).values("n")
    unfinished: QuerySet[Any] = queryset.annotate(my_label_count=Subquery(done)).filter(
        Q(my_label_count__lt=active) | Q(my_label_count__isnull=True)
    )
    return unfinished


ITEM_TYPE_CHOICES = [("article", "the article's own labels"), ("comment", "comment labels")]


class AnnotationFilter(filters.FilterSet):
    article = filters.ModelChoiceFilter(
        queryset=Article.objects.all(), help_text="The article's labels: its own and its comments'"
    )
    comment = filters.ModelChoiceFilter(queryset=Comment.objects.all())
    item_type = filters.ChoiceFilter(choices=ITEM_TYPE_CHOICES, method="filter_item_type", label="Item type")
    topic = TopicFilter()
    stance = StanceFilter()
    annotator = filters.CharFilter(method="filter_annotator", label="Annotator (username)")
    updated_since = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    outdated = StrictBooleanFilter(method="filter_outdated", label="Made under older guidelines (to review)")

    class Meta:
        model = Annotation
        fields = ["article", "comment", "item_type", "topic", "stance", "annotator", "updated_since", "outdated"]

    def filter_item_type(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(comment__isnull=value == "article")

    def filter_outdated(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        older = Q(guideline_version__lt=F("topic__guideline_version"))
        return queryset.filter(older) if value else queryset.exclude(older)

    def filter_annotator(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        user = _user_of(self.request)
        if not sees_labels_of(user, value):
            raise PermissionDenied(BLIND)
        return queryset.filter(annotator__username=value)


class ChangeEventFilter(filters.FilterSet):
    """The history, filtered by the names records use. The values are snapshots, so an unknown topic or
    annotator simply matches nothing; the `*_id`/`*_slug`/`*_username` names are older aliases."""

    comment = WholeNumberFilter(field_name="comment_id")
    article = WholeNumberFilter(field_name="article_id")
    item_type = filters.ChoiceFilter(choices=ITEM_TYPE_CHOICES)
    topic = filters.CharFilter(field_name="topic_slug")
    annotator = filters.CharFilter(method="filter_annotator", label="Annotator (username)")
    kind = filters.ChoiceFilter(choices=ChangeEvent.Kind.choices)
    action = filters.ChoiceFilter(choices=ChangeEvent.Action.choices)
    since = UtcIsoDateTimeFilter(field_name="at", lookup_expr="gte")
    comment_id = WholeNumberFilter(field_name="comment_id")
    topic_slug = filters.CharFilter(field_name="topic_slug")
    annotator_username = filters.CharFilter(method="filter_annotator")

    class Meta:
        model = ChangeEvent
        fields = ["comment", "article", "item_type", "topic", "annotator", "kind", "action", "since"]

    def filter_annotator(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        user = _user_of(self.request)
        if not sees_labels_of(user, value):
            raise PermissionDenied(BLIND)
        return queryset.filter(annotator_username=value)


ADJUDICATION_RELATED = ("topic", "article__author", "comment__author", "comment__parent__author")


class AdjudicationFilter(filters.FilterSet):
    """Items to adjudicate (consensus rows with labels): unresolved by default, or `status=any`; optionally one
    topic and one article. Each article's own items first, then its comments' in thread order."""

    status = filters.ChoiceFilter(
        choices=[("any", "any"), *STATUS_CHOICES],
        method="filter_status",
        error_messages={"invalid_choice": "unknown status %(value)r"},
    )
    topic = filters.CharFilter(field_name="topic__slug")
    article = filters.NumberFilter(field_name="article_id")

    class Meta:
        model = Consensus
        fields = ["status", "topic", "article"]

    def __init__(self, data: QueryDict | None = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and "status" not in data:
            data = data.copy()
            data["status"] = ConsensusStatus.UNRESOLVED.value
        if kwargs.get("queryset") is None:
            kwargs["queryset"] = Consensus.objects.exclude(status=None).select_related(*ADJUDICATION_RELATED)
        super().__init__(data, *args, **kwargs)

    def filter_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset if value == "any" else queryset.filter(status=value)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            super()
            .filter_queryset(queryset)
            .order_by("article_id", F("comment__thread_order").asc(nulls_first=True), "topic__ordering", "topic__slug")
        )
