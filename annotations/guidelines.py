"""Versioned topic guidelines: each change of a topic's statement or guidelines is a new version, every label
records the version it was made under, and labels made under an older version are flagged for review.

`guideline_history()` is what a release carries: every version of every topic, oldest first.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Min, QuerySet

from annotations.models import Annotation, AnnotatorStatus, GuidelineVersion, Topic
from debate.roles import Role, has_role

MAX_NOTE_LENGTH = 2000


def outdated(labels: QuerySet[Annotation]) -> QuerySet[Annotation]:
    """Labels made under an older version of their topic's guidelines than the current one."""
    return labels.filter(guideline_version__lt=F("topic__guideline_version"))


@transaction.atomic
def revise_guidelines(
    *, actor: User, topic: Topic, statement: object, guidelines: object, note: object = ""
) -> GuidelineVersion | None:
    """An admin's change of a topic's statement or guidelines: a new version, which flags the labels made
    under the older ones. The same text again changes nothing (returns None). Updates `topic` in place."""
    if not has_role(actor, Role.ADMIN):
        raise PermissionDenied("only admins change guidelines")
    errors = {
        name: "must be text"
        for name, value in (("statement", statement), ("guidelines", guidelines), ("note", note))
        if not isinstance(value, str)
    }
    if errors or not isinstance(statement, str) or not isinstance(guidelines, str) or not isinstance(note, str):
        raise ValidationError(errors)
    if not statement.strip():
        errors["statement"] = "must not be empty"
    elif len(note) > MAX_NOTE_LENGTH:
        errors["note"] = f"is {len(note)} characters long; at most {MAX_NOTE_LENGTH} are allowed"
    if errors:
        raise ValidationError(errors)
    stored = Topic.objects.select_for_update().get(pk=topic.pk)
    if (stored.statement, stored.guidelines) == (statement, guidelines):
        return None
    _ensure_recorded(stored)
    number = stored.guideline_version + 1
    version = GuidelineVersion.objects.create(
        topic=stored, number=number, statement=statement, guidelines=guidelines, note=note, created_by=actor
    )
    Topic.objects.filter(pk=stored.pk).update(statement=statement, guidelines=guidelines, guideline_version=number)
    topic.statement, topic.guidelines, topic.guideline_version = statement, guidelines, number
    return version


def record_first_version(*, topic: Topic, actor: User | None = None) -> None:
    """A new topic's guidelines as version 1 (or whatever version it says it is at)."""
    _ensure_recorded(topic, actor)


def _ensure_recorded(topic: Topic, actor: User | None = None) -> None:
    """The topic's current text stored as its current version, if it is not yet (topics made before
    versions, or outside the admin)."""
    GuidelineVersion.objects.get_or_create(
        topic=topic,
        number=topic.guideline_version,
        defaults={"statement": topic.statement, "guidelines": topic.guidelines, "created_by": actor},
    )


def guideline_history(topics: QuerySet[Topic] | None = None) -> list[dict[str, Any]]:
    """Every version of every topic's guidelines, by topic order and then oldest first: for releases, and
    the API. A topic whose current text was never stored as a version (made outside the admin) shows it as
    its current version, with no date."""
    topics = Topic.objects.all() if topics is None else topics
    versions = {
        (version.topic_id, version.number): version
        for version in GuidelineVersion.objects.filter(topic__in=topics).select_related("created_by")
    }
    label_counts: dict[tuple[int, int], int] = {
        (topic_id, number): n
        for topic_id, number, n in Annotation.objects.filter(topic__in=topics)
        .order_by()
        .values("topic_id", "guideline_version")
        .annotate(n=Count("pk"))
        .values_list("topic_id", "guideline_version", "n")
    }
    history = []
    for topic in topics.order_by("ordering", "slug"):
        numbers = sorted({number for topic_id, number in versions if topic_id == topic.pk} | {topic.guideline_version})
        for number in numbers:
            version = versions.get((topic.pk, number))
            history.append(
                {
                    "topic": topic.slug,
                    "version": number,
                    "current": number == topic.guideline_version,
                    "statement": version.statement if version else topic.statement,
                    "guidelines": version.guidelines if version else topic.guidelines,
                    "note": version.note if version else "",
                    "created_at": version.created_at.isoformat() if version else None,
                    "created_by": version.created_by.get_username() if version and version.created_by else None,
                    "labels": label_counts.get((topic.pk, number), 0),
                }
            )
    return history


@dataclass(frozen=True)
class GuidelineChange:
    """What changed in a topic's guidelines since the version an annotator last saw."""

    topic: Topic
    seen: int
    current: int
    note: str
    statement_diff: list[tuple[str, str]]  # (kind, text): kind is "same", "removed" or "added"
    guidelines_diff: list[tuple[str, str]]


def _diff(old: str, new: str) -> list[tuple[str, str]]:
    kinds = {" ": "same", "-": "removed", "+": "added"}
    return [
        (kinds[line[0]], line[2:]) for line in difflib.ndiff(old.splitlines(), new.splitlines()) if line[0] in kinds
    ]


def changes_for(user: User, topics: list[Topic]) -> list[GuidelineChange]:
    """Topics whose guidelines changed since the annotator last acknowledged them (or, without that, since
    the oldest version any of their labels on the topic was made under)."""
    if all(topic.guideline_version == 1 for topic in topics):
        return []  # nothing ever changed: no query
    status = AnnotatorStatus.objects.filter(annotator=user).first()
    seen: dict[str, int] = dict(status.guidelines_seen) if status else {}
    oldest = dict(
        Annotation.objects.filter(annotator=user, topic__in=topics)
        .order_by()
        .values("topic_id")
        .annotate(v=Min("guideline_version"))
        .values_list("topic_id", "v")
    )
    behind = {}
    for topic in topics:
        known = seen.get(topic.slug, oldest.get(topic.pk))
        if known is not None and known < topic.guideline_version:
            behind[topic.pk] = known
    if not behind:
        return []
    versions = {
        (version.topic_id, version.number): version for version in GuidelineVersion.objects.filter(topic_id__in=behind)
    }
    changes = []
    for topic in topics:
        if topic.pk not in behind:
            continue
        old = versions.get((topic.pk, behind[topic.pk]))
        notes = [
            versions[(topic.pk, number)].note
            for number in range(behind[topic.pk] + 1, topic.guideline_version + 1)
            if (topic.pk, number) in versions and versions[(topic.pk, number)].note
        ]
        changes.append(
            GuidelineChange(
                topic=topic,
                seen=behind[topic.pk],
                current=topic.guideline_version,
                note=" ".join(notes),
                statement_diff=_diff(old.statement if old else "", topic.statement),
                guidelines_diff=_diff(old.guidelines if old else "", topic.guidelines),
            )
        )
    return changes


@transaction.atomic
def acknowledge_guidelines(*, annotator: User, topics: list[Topic]) -> None:
    """The annotator has read the current guidelines of these topics."""
    status, _ = AnnotatorStatus.objects.select_for_update().get_or_create(annotator=annotator)
    status.guidelines_seen = {**status.guidelines_seen, **{topic.slug: topic.guideline_version for topic in topics}}
    status.save(update_fields=["guidelines_seen"])


def outdated_counts() -> dict[str, int]:
    """Per topic slug: labels made under an older version of its guidelines, for the dashboard."""
    return dict(
        outdated(Annotation.objects.all())
        .order_by()
        .values("topic__slug")
        .annotate(n=Count("pk"))
        .values_list("topic__slug", "n")
    )
