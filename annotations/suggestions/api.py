"""Suggestion API: the models with their measured quality, training on demand, and the settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api import SettingsView, json_object
from annotations.models import SuggestionModel, SuggestionSettings, Topic
from annotations.permissions import CanCurate, SeesAllLabels
from annotations.suggestions import actions
from annotations.suggestions.jobs import enqueue_training
from annotations.suggestions.queries import HINTS_OFF_OVERLAP, hint_usage
from debate.roles import authenticated_user


class ManagesSuggestions(CanCurate):
    message = actions.ONLY_CURATORS_TRAIN


def model_data(model: SuggestionModel) -> dict[str, Any]:
    return {
        "topic": model.topic.slug,
        "version": model.version,
        "trained_at": model.trained_at,
        "trained_by": model.trained_by.get_username() if model.trained_by else None,
        "label_count": model.label_count,
        "usable": model.usable,
        "reason": model.reason,
        "seconds": model.seconds,
        "metrics": model.metrics,
    }


class SuggestionModelList(APIView):
    """Every topic's models, newest first, with what they learned from and their cross-validated quality
    (macro-F1 and accuracy per stage against the majority-class baseline, calibration error). `current`: the
    model that suggests now, per topic (null when the latest one does not beat the baseline); `hints`: per topic,
    how often annotators accepted the hint, how often the model matches labels set without one, and accuracy
    against gold labels with and without hints. `topic` filters."""

    permission_classes = [SeesAllLabels]

    @extend_schema(
        parameters=[OpenApiParameter("topic", OpenApiTypes.STR, description="Only this topic's models (a slug)")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        models = SuggestionModel.objects.defer("data").select_related("topic", "trained_by")
        slug = request.query_params.get("topic")
        if slug:
            if not Topic.objects.filter(slug=slug).exists():
                raise ValidationError({"topic": [f"unknown topic {slug!r}; use a slug from /api/topics/"]})
            models = models.filter(topic__slug=slug)
        rows = [model_data(model) for model in models.order_by("topic__ordering", "topic__slug", "-version")]
        current: dict[str, int | None] = {}
        for row in rows:
            current.setdefault(row["topic"], row["version"] if row["usable"] else None)
        topics = Topic.objects.filter(slug__in=current)
        usage = {topic.slug: hint_usage(topic) for topic in topics}
        return Response({"current": current, "models": rows, "hints": usage})


class TrainSuggestionModels(APIView):
    """Curators: queue a training job for the named topic's model (`{"topic": slug}`) or every active topic's
    (`{}`); 202 with the job (follow it at `/api/jobs/{id}/` where served, or watch `/api/models/`). A topic whose
    training is already queued or running is not queued twice."""

    permission_classes = [ManagesSuggestions]

    @extend_schema(
        request=json_object(
            {
                "topic": {
                    "type": "string",
                    "nullable": True,
                    "minLength": 1,
                    "description": "a topic's slug; every active topic if null or left out",
                }
            },
            "Which topic's model to train",
        ),
        responses={202: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationError({"detail": ['send a JSON object: {"topic": slug}, or {} for every active topic']})
        data = request.data
        slug = data.get("topic")
        if slug is not None:
            topic = Topic.objects.filter(slug=slug).first() if isinstance(slug, str) else None
            if topic is None:
                raise ValidationError({"topic": [f"unknown topic {slug!r}; use a slug from /api/topics/"]})
            topics = [topic]
        else:
            topics = list(Topic.objects.active())
        job = enqueue_training(topics=topics, actor=authenticated_user(request))
        return Response(
            {
                "job": job.pk if job is not None else None,
                "topics": job.options["topics"] if job is not None else [],
                "already_pending": sorted({t.slug for t in topics} - set(job.options["topics"] if job else [])),
            },
            status=status.HTTP_202_ACCEPTED,
        )


def settings_data(settings: SuggestionSettings) -> dict[str, Any]:
    return {
        "hints": settings.hints,
        "active_learning": settings.active_learning,
        "random_share": settings.random_share,
        "retrain_every": settings.retrain_every,
        "overlap_rule": HINTS_OFF_OVERLAP.split(": ", 1)[1],
    }


@extend_schema_view(
    put=extend_schema(
        request=json_object(
            {
                "hints": {"type": "boolean"},
                "active_learning": {"type": "boolean"},
                "random_share": {"type": "number", "minimum": 0, "maximum": 1},
                "retrain_every": {"type": "integer", "minimum": 1, "maximum": actions.MAX_RETRAIN_EVERY},
            },
            "The settings to change; those left out keep their value",
        ),
        responses=OpenApiTypes.OBJECT,
    )
)
class SuggestionSettingsView(SettingsView[SuggestionSettings]):
    """Curators: `hints` (annotators see hints on their single-annotator items), `active_learning` (queues
    ordered by the model's uncertainty), `random_share` (of those queues, drawn at random; default 0.2),
    `retrain_every` (new consensus labels on a topic before its model is trained again). PUT sets the fields it
    names."""

    permission_classes = [ManagesSuggestions]

    def current(self) -> SuggestionSettings:
        return SuggestionSettings.current()

    def update(self, *, actor: User, values: Mapping[str, object]) -> SuggestionSettings:
        return actions.update_suggestion_settings(actor=actor, values=values)

    def present(self, settings: SuggestionSettings) -> dict[str, Any]:
        return settings_data(settings)
