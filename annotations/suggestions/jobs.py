"""Training as a background job (`debate.jobs`): on demand (the command with `--job`, the curator's button,
`POST /api/models/train/`) and after every `retrain_every` new consensus labels on a topic."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import transaction

from annotations.models import SuggestionModel, SuggestionSettings, Topic
from annotations.suggestions.actions import train_topic
from annotations.suggestions.queries import consensus_count
from debate.jobs import JobRun, enqueue_job
from debate.models import Job

PENDING = (Job.Status.QUEUED, Job.Status.RUNNING)


def run_training(job: Job, run: JobRun) -> dict[str, Any]:
    """The handler of `train` jobs: train each named topic in turn. Safe to run again (a new version)."""
    slugs: list[str] = list(job.options.get("topics", []))
    topics = list(Topic.objects.filter(slug__in=slugs).order_by("ordering", "slug"))
    run.progress(done=0, total=len(topics), message="training")
    results = []
    for done, topic in enumerate(topics, start=1):
        training = train_topic(topic=topic, actor=job.created_by)
        model = training.model
        results.append(
            {
                "topic": topic.slug,
                "version": model.version,
                "usable": model.usable,
                "reason": model.reason,
                "label_count": model.label_count,
                "suggestions": training.suggestions,
            }
        )
        run.progress(done=done, total=len(topics), message=f"trained {topic.slug} v{model.version}")
    return {"models": results}


def pending_topics() -> set[str]:
    """Topics a queued or running training job will train."""
    pending: set[str] = set()
    for options in Job.objects.filter(kind=Job.Kind.TRAIN, status__in=PENDING).values_list("options", flat=True):
        pending.update(options.get("topics", []))
    return pending


def enqueue_training(*, topics: list[Topic], actor: User | None) -> Job | None:
    """A training job for these topics, unless one already waits for (or runs) each of them."""
    wanted = [topic.slug for topic in topics if topic.slug not in pending_topics()]
    if not wanted:
        return None
    return enqueue_job(
        kind=Job.Kind.TRAIN,
        actor=actor,
        max_attempts=2,
        total=len(wanted),
        message="training queued",
        options={"topics": wanted},
    )


def due_for_training(topic: Topic, settings: SuggestionSettings | None = None) -> bool:
    """Whether the topic has `retrain_every` more consensus labels than its latest model was trained on."""
    settings = settings or SuggestionSettings.current()
    latest = SuggestionModel.objects.filter(topic=topic).order_by("-version").values_list("label_count", flat=True)
    trained_on = latest.first() or 0
    return consensus_count(topic) - trained_on >= settings.retrain_every


_LAST_CHECK: dict[int, float] = {}


def train_when_due(*, topic: Topic, settings: SuggestionSettings | None = None) -> None:
    """After a label write commits: queue the topic's training when enough new consensus labels came in.

    Counting a topic's consensus labels reads all of them, too much for every write of a big corpus: each
    process counts at most once every `SUGGESTION_CHECK_SECONDS` (10) per topic. A label that made the topic
    due inside that window, with no write after it, is caught by the workers (`train_due_topics`), so a
    training starts within about that time of the label that made it due either way."""
    interval = float(getattr(django_settings, "SUGGESTION_CHECK_SECONDS", 10))

    def check() -> None:
        now = time.monotonic()
        if now - _LAST_CHECK.get(topic.pk, -interval - 1) < interval:
            return
        _LAST_CHECK[topic.pk] = now
        if due_for_training(topic, settings) and topic.slug not in pending_topics():
            enqueue_training(topics=[topic], actor=None)

    transaction.on_commit(check)


def train_due_topics() -> bool:
    """Queue training for every active topic that is due and has none waiting: what the job workers check
    between jobs, every `SUGGESTION_CHECK_SECONDS`. Always False: the jobs it queues are the next round's."""
    pending = pending_topics()
    settings = SuggestionSettings.current()
    due = [topic for topic in Topic.objects.active() if topic.slug not in pending and due_for_training(topic, settings)]
    if due:
        enqueue_training(topics=due, actor=None)
    return False
