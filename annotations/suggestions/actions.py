"""Writes of the suggestion side: train a topic's model and store its suggestions; record on a label what its
annotator was shown; the settings. Training reads the labels and fits outside any transaction (it takes
seconds); what it stores is written in one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from annotations.assignment.queries import in_plan
from annotations.models import Annotation, Suggestion, SuggestionModel, SuggestionSettings, Topic
from annotations.permissions import can_curate, sees_all_labels
from annotations.suggestions.queries import (
    hint_eligible,
    hint_for_label,
    hint_state,
    item_texts,
    stream_of,
    training_examples,
)
from debate.db import insert_rows
from debate.models import Comment

if TYPE_CHECKING:
    from annotations.suggestions import model as learning

ONLY_CURATORS_TRAIN = "only curators and admins train suggestion models or change their settings"


@dataclass(frozen=True)
class Training:
    model: SuggestionModel
    suggestions: int  # stored for the topic's comments (0 when the model is not used)


def train_topic(*, topic: Topic, actor: User | None = None) -> Training:
    """Measure and train the topic's model on its consensus labels, store it as the next version with its
    quality, and store its suggestions for every comment (or remove the topic's suggestions if the model does
    not beat the baseline). `actor` None: the system (a job, the command)."""
    if actor is not None and not can_curate(actor):
        raise PermissionDenied(ONLY_CURATORS_TRAIN)
    # Imported here, in the job that trains, not with the module: the label write imports this module, and
    # scikit-learn with scipy and pandas would add about 90 MB to every web worker that never trains.
    from annotations.suggestions import model as learning

    examples = training_examples(topic)
    try:
        result = learning.train(examples)
    except learning.InsufficientData as error:
        return _store(topic=topic, actor=actor, label_count=len(examples), result=None, reason=str(error))
    data = learning.dumps(result.model) if result.metrics.usable else b""
    return _store(
        topic=topic, actor=actor, label_count=len(examples), result=result, reason=result.metrics.reason, data=data
    )


def _predict_all(topic: Topic, result: learning.TrainResult, model: SuggestionModel) -> list[Suggestion]:
    """A suggestion for every comment: for the ones it was trained on, the cross-validated prediction (a model
    that never saw the item; the final model would only repeat their labels), for the others the final model's."""
    rows: list[Suggestion] = []
    for batch in item_texts(Comment.objects.all()):
        fresh = [text for comment_id, _, text in batch if comment_id not in result.held_out]
        predicted = iter(result.model.predict(fresh))
        for comment_id, article_id, _ in batch:
            prediction = result.held_out.get(comment_id) or next(predicted)
            rows.append(
                Suggestion(
                    model=model,
                    topic=topic,
                    article_id=article_id,
                    comment_id=comment_id,
                    stance=prediction.stance,
                    probability=prediction.probability,
                    band=prediction.band or "",
                    uncertainty=prediction.uncertainty,
                )
            )
    return rows


@transaction.atomic
def _store(
    *,
    topic: Topic,
    actor: User | None,
    label_count: int,
    result: learning.TrainResult | None,
    reason: str,
    data: bytes = b"",
) -> Training:
    Topic.objects.select_for_update().filter(pk=topic.pk).values("pk").first()  # one trainer of a topic at a time
    version = (SuggestionModel.objects.filter(topic=topic).aggregate(v=Max("version"))["v"] or 0) + 1
    usable = result is not None and result.metrics.usable
    model = SuggestionModel.objects.create(
        topic=topic,
        version=version,
        trained_by=actor,
        label_count=label_count,
        usable=usable,
        reason=reason,
        metrics=result.metrics.as_dict() if result is not None else {},
        seconds=result.metrics.seconds if result is not None else 0.0,
        data=data if usable else b"",
    )
    # Only the latest model suggests; older ones stay as the learning curve, without their bytes.
    SuggestionModel.objects.filter(topic=topic).exclude(pk=model.pk).exclude(data=b"").update(data=b"")
    Suggestion.objects.filter(topic=topic).delete()
    rows = _predict_all(topic, result, model) if result is not None and usable else []
    insert_rows(rows)
    return Training(model=model, suggestions=len(rows))


def train_topics(*, topics: Sequence[Topic], actor: User | None = None) -> list[Training]:
    return [train_topic(topic=topic, actor=actor) for topic in topics]


def record_shown(*, annotation: Annotation, actor: User, comment: Comment) -> None:
    """Note on an annotator's label what they were shown when setting it: the hint (if any) and, while queues
    are ordered by uncertainty, the stream the item belongs to. Runs inside the label write's transaction;
    nothing for curators, researchers and admins, who are not planned for."""
    _train_when_due(annotation.topic)  # after commit, anyone's label may complete a consensus
    if sees_all_labels(actor) or not in_plan(actor):
        return
    settings = SuggestionSettings.current()
    hint = hint_for_label(actor, comment, annotation.topic) if hint_state(actor, settings=settings).on else None
    # Only single-annotator items come from a stream: overlap and check items keep their queue places.
    steered = settings.active_learning and hint_eligible(actor).filter(comment=comment).exists()
    values: dict[str, Any] = {
        "suggestion_shown": hint is not None,
        "suggested_stance": hint.stance if hint is not None else "",
        "suggestion_model_version": hint.model.version if hint is not None else None,
        "stream": stream_of(settings, comment.pk) if steered else "",
    }
    if any(getattr(annotation, name) != value for name, value in values.items()):
        Annotation.objects.filter(pk=annotation.pk).update(**values)
        for name, value in values.items():
            setattr(annotation, name, value)


def _train_when_due(topic: Topic) -> None:
    from annotations.suggestions.jobs import train_when_due  # jobs build on these actions

    train_when_due(topic=topic)


# What the PositiveIntegerField holds in PostgreSQL (a larger value was a 500).
MAX_RETRAIN_EVERY = 2**31 - 1


def _share(values: Mapping[str, object], name: str) -> float:
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValidationError({name: "must be a number from 0 to 1"})
    return float(value)


@transaction.atomic
def update_suggestion_settings(*, actor: User, values: Mapping[str, object]) -> SuggestionSettings:
    """Set the named fields: `hints` and `active_learning` (true/false), `random_share` (0 to 1),
    `retrain_every` (a whole number from 1)."""
    if not can_curate(actor):
        raise PermissionDenied(ONLY_CURATORS_TRAIN)
    known = {"hints", "active_learning", "random_share", "retrain_every"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "is not a setting"))
    settings = SuggestionSettings.current()
    for name in ("hints", "active_learning"):
        if name in values:
            if not isinstance(values[name], bool):
                raise ValidationError({name: "must be true or false"})
            setattr(settings, name, values[name])
    if "random_share" in values:
        settings.random_share = _share(values, "random_share")
    if "retrain_every" in values:
        every = values["retrain_every"]
        if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= MAX_RETRAIN_EVERY:
            raise ValidationError({"retrain_every": f"must be a whole number from 1 to {MAX_RETRAIN_EVERY}"})
        settings.retrain_every = every
    settings.save()
    return settings
