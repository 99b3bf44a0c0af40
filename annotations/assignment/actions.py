"""Use cases of assignment: the settings, the stored plan, qualification, attention checks and pauses.

The plan itself is computed by the pure `annotations.assignment.plan`; here are its facts (read in a fixed
number of queries) and its storage. The plan is made again only when what it depends on changes: the
settings, the pool of annotators (one joins, leaves, is paused or qualifies), the items or the gold items.
`ensure_plan` notices that from a digest of those facts, so the queue needs no hook in every place that
changes them; while nothing changes, nobody's queue moves.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from annotations.assignment.plan import Facts, Plan, PlanSettings, plan
from annotations.models import (
    ORDINARY_REASONS,
    Annotation,
    AnnotatorStatus,
    Assignment,
    AssignmentReason,
    AssignmentSettings,
    GoldLabel,
    QualificationItem,
    QualificationStatus,
    Topic,
)
from annotations.permissions import can_curate
from debate.db import stream_rows
from debate.models import Comment
from debate.roles import Role, has_role

# The fields a curator sets through the API and the settings page, with their checks.
SETTING_FIELDS = (
    "overlap_share",
    "overlap_annotators",
    "per_annotator_cap",
    "check_share",
    "check_threshold",
    "check_minimum",
    "pause_on_failed_checks",
    "qualification_required",
    "qualification_size",
    "qualification_pass",
)


def can_manage_assignment(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return can_curate(user)


def plan_settings(settings: AssignmentSettings) -> PlanSettings:
    return PlanSettings(
        overlap_share=settings.overlap_share,
        overlap_annotators=settings.overlap_annotators,
        per_annotator_cap=settings.per_annotator_cap,
        check_share=settings.check_share,
    )


def pool(settings: AssignmentSettings) -> QuerySet[User]:
    """Annotators who take new work: annotator role, active account, not paused, qualified if that is
    required. Curators and admins annotate too, but are not planned for: their queue is every item."""
    users = User.objects.filter(is_active=True, groups__name=Role.ANNOTATOR.value).exclude(
        annotator_status__paused=True
    )
    if settings.qualification_required:
        users = users.filter(
            annotator_status__qualification__in=[QualificationStatus.NOT_REQUIRED, QualificationStatus.PASSED]
        )
    return users.order_by("pk").distinct()


def gold_comment_ids() -> QuerySet[GoldLabel, int]:
    """Comments with a gold label on some active topic: the items checks and qualification draw from."""
    return (
        GoldLabel.objects.filter(topic__is_active=True, comment__isnull=False)
        .values_list("comment_id", flat=True)
        .distinct()
    )


def _digest(settings: AssignmentSettings) -> str:
    """What the plan depends on, in four small queries."""
    parts: list[Any] = [plan_settings(settings), list(pool(settings).values_list("pk", flat=True))]
    parts.append(Comment.objects.aggregate(n=Count("pk"), last=Max("pk")))
    parts.append(QualificationItem.objects.aggregate(n=Count("pk"), last=Max("comment_id")))
    if settings.check_share > 0:
        parts.append(GoldLabel.objects.filter(topic__is_active=True).aggregate(n=Count("pk"), last=Max("pk")))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def ensure_plan() -> AssignmentSettings:
    """Make the plan again if its facts changed since it was stored; returns the settings read."""
    settings = AssignmentSettings.current()
    if settings.pk is None or (settings.planned_for and _digest(settings) == settings.planned_for):
        return settings
    if settings.planned_for == "" and plan_settings(settings).everyone_labels_everything:
        return settings  # never planned, and the default needs no plan
    return replan()


@transaction.atomic
def replan(*, force: bool = False) -> AssignmentSettings:
    """Compute the plan from the current facts and store it; one planner at a time (the settings row lock)."""
    AssignmentSettings.objects.get_or_create(pk=1)
    settings = AssignmentSettings.objects.select_for_update().get(pk=1)
    digest = _digest(settings)
    if digest == settings.planned_for and not force:
        return settings  # another request planned while this one waited for the lock
    options = plan_settings(settings)
    if options.everyone_labels_everything:
        # Every item for every annotator: nothing to store. Labelled checks stay marked as checks.
        Assignment.objects.filter(reason__in=ORDINARY_REASONS).delete()
        _unlabelled(Assignment.objects.filter(reason=AssignmentReason.CHECK)).delete()
    else:
        _store(plan(_facts(settings), options))
    settings.planned_for = digest
    settings.save(update_fields=["planned_for"])
    return settings


def _unlabelled(assignments: QuerySet[Assignment]) -> QuerySet[Assignment]:
    from django.db.models import Exists, OuterRef

    labels = Annotation.objects.filter(comment=OuterRef("comment"), annotator=OuterRef("annotator"))
    return assignments.exclude(Exists(labels))


def _facts(settings: AssignmentSettings) -> Facts[int, int]:
    active = Topic.objects.active().count()
    qualification = set(QualificationItem.objects.values_list("comment_id", flat=True))
    gold = set(gold_comment_ids()) - qualification if settings.check_share > 0 else set()
    items = [pk for (pk,) in stream_rows(Comment.objects.order_by("article_id", "thread_order").values_list("pk"))]
    reasons: dict[tuple[int, int], str] = {}
    current: dict[int, list[int]] = defaultdict(list)
    current_checks: dict[int, list[int]] = defaultdict(list)
    for annotator, comment, reason in (
        Assignment.objects.filter(comment__isnull=False)
        .values_list("annotator_id", "comment_id", "reason")
        .iterator(chunk_size=20_000)
    ):
        reasons[(annotator, comment)] = reason
        if reason == AssignmentReason.CHECK:
            current_checks[annotator].append(comment)
        elif reason != AssignmentReason.QUALIFICATION:
            current[comment].append(annotator)
    labelled: dict[int, list[int]] = defaultdict(list)
    done: set[tuple[int, int]] = set()
    answered: set[tuple[int, int]] = set()
    per_item = (
        Annotation.objects.filter(topic__is_active=True, comment__isnull=False)
        .order_by()
        .values("annotator_id", "comment_id")
        .annotate(n=Count("pk"))
        .values_list("annotator_id", "comment_id", "n")
    )
    for annotator, comment, n in per_item.iterator(chunk_size=20_000):
        held = reasons.get((annotator, comment))
        if held == AssignmentReason.CHECK:
            answered.add((annotator, comment))
        elif held != AssignmentReason.QUALIFICATION:
            labelled[comment].append(annotator)
            if n >= active:
                done.add((annotator, comment))
    closed = qualification | gold
    return Facts(
        items=items,
        annotators=list(pool(settings).values_list("pk", flat=True)),
        labelled=labelled,
        done=done,
        current=current,
        check_items=[item for item in items if item in gold],
        current_checks=current_checks,
        answered_checks=answered,
        closed=closed,
    )


def _store(result: Plan[int, int]) -> None:
    """Write the plan: new rows created, moved ones updated, dropped ones deleted (qualification rows are not
    the plan's and stay)."""
    wanted = {
        (annotator, item): (reason, position)
        for annotator, queue in result.queues.items()
        for position, (item, reason) in enumerate(queue)
    }
    planned = Assignment.objects.filter(comment__isnull=False, reason__in=[*ORDINARY_REASONS, AssignmentReason.CHECK])
    existing = {
        (annotator, comment): (pk, reason, position)
        for pk, annotator, comment, reason, position in planned.values_list(
            "pk", "annotator_id", "comment_id", "reason", "position"
        ).iterator(chunk_size=20_000)
    }
    qualification = set(
        Assignment.objects.filter(reason=AssignmentReason.QUALIFICATION).values_list("annotator_id", "comment_id")
    )
    gone = [pk for key, (pk, _, _) in existing.items() if key not in wanted]
    for start in range(0, len(gone), 10_000):
        Assignment.objects.filter(pk__in=gone[start : start + 10_000]).delete()
    changed = [
        key
        for key, (reason, position) in wanted.items()
        if key not in qualification and existing.get(key, (None, None, None))[1:] != (reason.value, position)
    ]
    articles = (
        dict(Comment.objects.filter(pk__in={comment for _, comment in changed}).values_list("pk", "article_id"))
        if len(changed) < 50_000
        else dict(Comment.objects.values_list("pk", "article_id"))
    )
    Assignment.objects.bulk_create(
        (
            Assignment(
                annotator_id=annotator,
                comment_id=comment,
                article_id=articles[comment],
                reason=wanted[(annotator, comment)][0].value,
                position=wanted[(annotator, comment)][1],
            )
            for annotator, comment in changed
        ),
        batch_size=5_000,
        update_conflicts=True,
        unique_fields=["annotator", "comment"],
        update_fields=["reason", "position"],
    )


def _number(values: Mapping[str, object], name: str, low: float, high: float, *, below_high: bool = False) -> float:
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError({name: f"{value!r} is not a number"})
    if not low <= value <= high or (below_high and value >= high):
        bound = f"below {high}" if below_high else f"at most {high}"
        raise ValidationError({name: f"{value} is out of range: at least {low} and {bound}"})
    return float(value)


# The largest value the settings' PositiveIntegerFields hold in PostgreSQL (a larger one was a 500).
MAX_WHOLE = 2**31 - 1


def _whole(values: Mapping[str, object], name: str, low: int, *, nullable: bool) -> int | None:
    value = values[name]
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({name: f"{value!r} is not a whole number{' or null' if nullable else ''}"})
    if not low <= value <= MAX_WHOLE:
        raise ValidationError(
            {name: f"must be at least {low} and at most {MAX_WHOLE}{' (or null)' if nullable else ''}, not {value}"}
        )
    return value


def _flag(values: Mapping[str, object], name: str) -> bool:
    value = values[name]
    if not isinstance(value, bool):
        raise ValidationError({name: f"{value!r} is not true or false"})
    return value


def clean_settings(values: Mapping[str, object]) -> dict[str, float | int | bool | None]:
    """The given settings checked one by one; fields left out keep their value."""
    unknown = sorted(set(values) - set(SETTING_FIELDS))
    if unknown:
        raise ValidationError({name: f"unknown setting; known: {', '.join(SETTING_FIELDS)}" for name in unknown})
    checks: dict[str, Callable[[], float | int | bool | None]] = {
        "overlap_share": lambda: _number(values, "overlap_share", 0, 1),
        "overlap_annotators": lambda: _whole(values, "overlap_annotators", 2, nullable=True),
        "per_annotator_cap": lambda: _whole(values, "per_annotator_cap", 1, nullable=True),
        "check_share": lambda: _number(values, "check_share", 0, 0.5),
        "check_threshold": lambda: _number(values, "check_threshold", 0, 1),
        "check_minimum": lambda: _whole(values, "check_minimum", 1, nullable=False),
        "pause_on_failed_checks": lambda: _flag(values, "pause_on_failed_checks"),
        "qualification_required": lambda: _flag(values, "qualification_required"),
        "qualification_size": lambda: _whole(values, "qualification_size", 1, nullable=False),
        "qualification_pass": lambda: _number(values, "qualification_pass", 0, 1),
    }
    cleaned: dict[str, float | int | bool | None] = {}
    errors: dict[str, str] = {}
    for name in values:
        try:
            cleaned[name] = checks[name]()
        except ValidationError as invalid:
            errors.update({field: " ".join(messages) for field, messages in invalid.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def update_assignment_settings(*, actor: User, values: Mapping[str, object]) -> AssignmentSettings:
    """A curator's or admin's assignment settings; the plan follows at once.

    Switching qualification on exempts the annotators who have labelled already: qualification is for new
    annotators."""
    if not can_manage_assignment(actor):
        raise PermissionDenied("only curators and admins set how work is assigned")
    cleaned = clean_settings(values)
    AssignmentSettings.objects.get_or_create(pk=1)
    settings = AssignmentSettings.objects.select_for_update().get(pk=1)
    switching_on = cleaned.get("qualification_required") and not settings.qualification_required
    for name, value in cleaned.items():
        setattr(settings, name, value)
    settings.updated_by = actor
    settings.save()
    if switching_on:
        veterans = (
            User.objects.filter(groups__name=Role.ANNOTATOR.value, annotations__isnull=False)
            .exclude(annotator_status__isnull=False)
            .distinct()
        )
        AnnotatorStatus.objects.bulk_create(
            [AnnotatorStatus(annotator=user, qualification=QualificationStatus.NOT_REQUIRED) for user in veterans],
            ignore_conflicts=True,
        )
    return replan(force=True)


def status_of(user: User) -> AnnotatorStatus:
    """The user's standing (unsaved defaults when there is no row)."""
    found = AnnotatorStatus.objects.filter(annotator=user).first()
    return found if found is not None else AnnotatorStatus(annotator=user)


def must_qualify(user: User, settings: AssignmentSettings, status: AnnotatorStatus) -> bool:
    """An annotator (not a curator or admin) who has not passed qualification while it is required."""
    if not settings.qualification_required or has_role(user, Role.CURATOR, Role.ADMIN):
        return False
    if not has_role(user, Role.ANNOTATOR):
        return False
    if status._state.adding:  # no row: a new annotator
        return True
    return status.qualification in (QualificationStatus.PENDING, QualificationStatus.FAILED)


@transaction.atomic
def start_qualification(*, annotator: User, settings: AssignmentSettings) -> list[int]:
    """Give a new annotator their qualification items (once); returns their comment ids, in order."""
    from annotations.assignment.plan import qualification_set

    AnnotatorStatus.objects.get_or_create(annotator=annotator, defaults={"qualification": QualificationStatus.PENDING})
    existing = list(
        Assignment.objects.filter(annotator=annotator, reason=AssignmentReason.QUALIFICATION)
        .order_by("position")
        .values_list("comment_id", flat=True)
    )
    if existing:
        return [pk for pk in existing if pk is not None]
    gold = set(gold_comment_ids())
    candidates = [pk for pk in QualificationItem.objects.values_list("comment_id", flat=True) if pk in gold]
    chosen = qualification_set(candidates, settings.qualification_size)
    articles = dict(Comment.objects.filter(pk__in=chosen).values_list("pk", "article_id"))
    Assignment.objects.bulk_create(
        [
            Assignment(
                annotator=annotator,
                comment_id=pk,
                article_id=articles[pk],
                reason=AssignmentReason.QUALIFICATION,
                position=position,
            )
            for position, pk in enumerate(chosen)
        ],
        ignore_conflicts=True,
    )
    return chosen


def check_may_label(*, actor: User, comment: Comment | None) -> str | None:
    """Refuse a label from a paused annotator, or from one still qualifying on anything but their
    qualification items; returns the actor's assignment reason for the comment (or None)."""
    if has_role(actor, Role.CURATOR, Role.ADMIN) or not has_role(actor, Role.ANNOTATOR):
        if comment is None:
            return None  # a label of the article itself: articles are not assigned yet
        return Assignment.objects.filter(annotator=actor, comment=comment).values_list("reason", flat=True).first()
    standing = _standing(actor, comment)
    if standing.paused:
        raise PermissionDenied(f"your annotation is paused: {standing.pause_reason or 'ask a curator'}")
    if standing.reason != AssignmentReason.QUALIFICATION and standing.must_qualify:
        raise PermissionDenied("finish your qualification items first: open your queue at /annotate/")
    return standing.reason


@dataclass(frozen=True)
class MayLabel:
    """`check_may_label` for several comments at once: `refusal(comment_id)` is the PermissionDenied a label
    of that comment (None: the article itself) would meet, or None; `reason(comment_id)` its assignment."""

    reasons: Mapping[int, str]
    paused: str | None  # the pause reason, when paused
    must_qualify: bool

    def reason(self, comment_id: int | None) -> str | None:
        return None if comment_id is None else self.reasons.get(comment_id)

    def __call__(self, comment_id: int | None) -> PermissionDenied | None:
        if self.paused is not None:
            return PermissionDenied(f"your annotation is paused: {self.paused or 'ask a curator'}")
        if self.must_qualify and self.reason(comment_id) != AssignmentReason.QUALIFICATION:
            return PermissionDenied("finish your qualification items first: open your queue at /annotate/")
        return None


def may_label(*, actor: User, comment_ids: set[int | None]) -> MayLabel:
    """What `check_may_label` decides, for a batch of comments, in two queries."""
    ids = [comment_id for comment_id in comment_ids if comment_id is not None]
    reasons = dict(
        Assignment.objects.filter(annotator=actor, comment_id__in=ids).values_list("comment_id", "reason")
        if ids
        else []
    )
    if has_role(actor, Role.CURATOR, Role.ADMIN) or not has_role(actor, Role.ANNOTATOR):
        return MayLabel(reasons=reasons, paused=None, must_qualify=False)
    standing = _standing(actor, None)
    return MayLabel(
        reasons=reasons,
        paused=standing.pause_reason if standing.paused else None,
        must_qualify=standing.must_qualify,
    )


@dataclass(frozen=True)
class _Standing:
    reason: str | None
    paused: bool
    pause_reason: str
    must_qualify: bool


def _standing(annotator: User, comment: Comment | None) -> _Standing:
    """What `check_may_label` asks of an annotator, in one query: their assignment reason for the comment,
    their pause and their qualification (as `status_of`, `AssignmentSettings.current` and `must_qualify`)."""
    status_table, settings_table = AnnotatorStatus._meta.db_table, AssignmentSettings._meta.db_table
    assignment_table = Assignment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT reason FROM {assignment_table} WHERE annotator_id = %s AND comment_id = %s),"  # noqa: S608
            f" s.paused, s.pause_reason, s.qualification, s.annotator_id IS NOT NULL,"
            f" (SELECT qualification_required FROM {settings_table} WHERE id = 1)"
            f" FROM (SELECT 1 AS one) AS one LEFT JOIN {status_table} AS s ON s.annotator_id = %s",
            [annotator.pk, comment.pk if comment is not None else None, annotator.pk],
        )
        reason, paused, pause_reason, qualification, has_row, required = cursor.fetchone()
    if required is None:
        required = AssignmentSettings._meta.get_field("qualification_required").get_default()
    must = bool(required) and (
        not has_row or qualification in (QualificationStatus.PENDING, QualificationStatus.FAILED)
    )
    return _Standing(reason=reason, paused=bool(paused), pause_reason=pause_reason or "", must_qualify=must)


def after_label_write(*, actor: User, comment: Comment, reason: str | None) -> None:
    """What a label on a gold item sets off: scoring a qualification item, re-judging attention checks."""
    if reason == AssignmentReason.QUALIFICATION:
        _score_qualification_item(actor, comment)
    elif reason == AssignmentReason.CHECK:
        evaluate_checks(annotator=actor)


def _score_qualification_item(annotator: User, comment: Comment) -> None:
    """Score the first complete answer to a qualification item; the last one decides pass or fail."""
    assignment = (
        Assignment.objects.select_for_update()
        .filter(annotator=annotator, comment=comment, reason=AssignmentReason.QUALIFICATION)
        .first()
    )
    if assignment is None or assignment.scored_at is not None:
        return
    active = set(Topic.objects.active().values_list("pk", flat=True))
    given = dict(
        Annotation.objects.filter(annotator=annotator, comment=comment, topic_id__in=active).values_list(
            "topic_id", "stance"
        )
    )
    if set(given) != active:
        return  # not finished on every topic yet
    gold = dict(GoldLabel.objects.filter(comment=comment, topic_id__in=active).values_list("topic_id", "stance"))
    assignment.correct = sum(1 for topic, stance in gold.items() if given.get(topic) == stance)
    assignment.scored = len(gold)
    assignment.scored_at = timezone.now()
    assignment.save(update_fields=["correct", "scored", "scored_at"])
    rows = Assignment.objects.filter(annotator=annotator, reason=AssignmentReason.QUALIFICATION).values_list(
        "correct", "scored"
    )
    if any(scored is None for _, scored in rows):
        return  # items left to answer
    correct = sum(c or 0 for c, _ in rows)
    scored = sum(s or 0 for _, s in rows)
    settings = AssignmentSettings.current()
    passed = scored > 0 and correct / scored >= settings.qualification_pass
    AnnotatorStatus.objects.update_or_create(
        annotator=annotator,
        defaults={
            "qualification": QualificationStatus.PASSED if passed else QualificationStatus.FAILED,
            "qualification_correct": correct,
            "qualification_scored": scored,
            "qualified_at": timezone.now(),
        },
    )


def evaluate_checks(*, annotator: User) -> AnnotatorStatus:
    """Flag an annotator whose attention-check accuracy fell below the threshold (and pause them, if the
    settings say so); lift the flag when it is back above. A pause stays until a curator lifts it."""
    from annotations.assignment.queries import check_accuracy

    settings = AssignmentSettings.current()
    result = check_accuracy(User.objects.filter(pk=annotator.pk)).get(annotator.get_username())
    status, _ = AnnotatorStatus.objects.select_for_update().get_or_create(annotator=annotator)
    if result is None or result["checked"] < settings.check_minimum:
        return status
    below = result["accuracy"] < settings.check_threshold
    if below and not status.flagged:
        status.flagged, status.flagged_at = True, timezone.now()
        status.flag_reason = (
            f"attention checks: {result['correct']} of {result['checked']} correct "
            f"({result['accuracy']:.0%}), below the threshold of {settings.check_threshold:.0%}"
        )
        if settings.pause_on_failed_checks and not status.paused:
            status.paused, status.pause_reason = True, status.flag_reason
        status.save()
    elif not below and status.flagged:
        status.flagged, status.flag_reason, status.flagged_at = False, "", None
        status.save()
    return status


@transaction.atomic
def update_annotator_status(*, actor: User, annotator: User, values: Mapping[str, object]) -> AnnotatorStatus:
    """A curator pauses or resumes an annotator, clears a flag, or decides a qualification by hand."""
    if not can_manage_assignment(actor):
        raise PermissionDenied("only curators and admins manage annotators")
    unknown = sorted(set(values) - {"paused", "pause_reason", "flagged", "qualification"})
    if unknown:
        raise ValidationError(
            dict.fromkeys(unknown, "unknown field; known: paused, pause_reason, flagged, qualification")
        )
    status, _ = AnnotatorStatus.objects.select_for_update().get_or_create(annotator=annotator)
    if "paused" in values:
        status.paused = _flag(values, "paused")
        reason = values.get("pause_reason", "")
        if not isinstance(reason, str):
            raise ValidationError({"pause_reason": "must be text"})
        status.pause_reason = (reason or f"paused by {actor.get_username()}") if status.paused else ""
    if "flagged" in values:
        if _flag(values, "flagged"):
            raise ValidationError({"flagged": "attention checks raise flags; a curator can only clear one (false)"})
        status.flagged, status.flag_reason, status.flagged_at = False, "", None
    if "qualification" in values:
        qualification = values["qualification"]
        if not isinstance(qualification, str) or qualification not in QualificationStatus.values:
            raise ValidationError({"qualification": f"choose one of {', '.join(QualificationStatus.values)}"})
        status.qualification = qualification
        if status.qualification == QualificationStatus.PENDING:
            Assignment.objects.filter(
                annotator=annotator, reason=AssignmentReason.QUALIFICATION, scored_at__isnull=True
            ).delete()
    status.save()
    return status


@transaction.atomic
def mark_qualification_item(*, actor: User, comment: Comment) -> bool:
    """Make a gold item a qualification item; returns whether it was not one already."""
    if not can_manage_assignment(actor):
        raise PermissionDenied("only curators and admins choose qualification items")
    if not GoldLabel.objects.filter(comment=comment, topic__is_active=True).exists():
        raise ValidationError({"comment": f"comment {comment.pk} has no gold label yet; adjudicate it first"})
    _, created = QualificationItem.objects.get_or_create(comment=comment, defaults={"added_by": actor})
    return created


@transaction.atomic
def unmark_qualification_item(*, actor: User, comment: Comment) -> None:
    if not can_manage_assignment(actor):
        raise PermissionDenied("only curators and admins choose qualification items")
    deleted, _ = QualificationItem.objects.filter(comment=comment).delete()
    if not deleted:
        raise QualificationItem.DoesNotExist(f"comment {comment.pk} is not a qualification item")
