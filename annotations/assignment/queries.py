"""The read side of assignment: whose queue holds what, progress per annotator, attention-check accuracy, and
which labels agreement rests on. A fixed number of queries each, whatever the corpus size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from annotations.assignment.actions import must_qualify, plan_settings, pool, status_of
from annotations.models import (
    GOLD_REASONS,
    ORDINARY_REASONS,
    Annotation,
    AnnotatorStatus,
    Assignment,
    AssignmentReason,
    AssignmentSettings,
    QualificationStatus,
    Topic,
)
from debate.models import Comment
from debate.roles import Role, has_role


def assignment_mode(settings: AssignmentSettings) -> bool:
    """Whether queues come from stored assignments (otherwise every annotator's queue is every item)."""
    return not plan_settings(settings).everyone_labels_everything


@dataclass(frozen=True)
class QueueSelection:
    """What the caller's queue may serve now.

    `state`: "all" (every item, the default), "assigned" (their assignments), "qualification" (their
    qualification items only), "paused" or "failed" (nothing, with `message` saying why), "no_items"
    (qualification required but no qualification items set)."""

    state: str
    comments: QuerySet[Comment]  # ordered as the queue serves them; annotated with `queue_position` if assigned
    message: str = ""

    @property
    def ordered_by_position(self) -> bool:
        return self.state in ("assigned", "qualification")


def in_plan(user: Any) -> bool:
    """Annotators are planned for; curators and admins annotate too, but their queue is every item."""
    return has_role(user, Role.ANNOTATOR) and not has_role(user, Role.CURATOR, Role.ADMIN)


def serves_everything(user: Any) -> tuple[bool, AssignmentSettings | None]:
    """Whether the user's queue is every item (articles and comments), as without assignment: true for
    curators and admins, and for annotators while the default settings hold and nothing stops them. Also the
    settings read on the way (None if none were), for `queue_for`."""
    if not in_plan(user):
        return True, None
    from annotations.assignment.actions import ensure_plan

    settings = ensure_plan()
    return queue_selection(user, Comment.objects.none(), settings).state == "all", settings


def queue_selection(user: Any, comments: QuerySet[Comment], settings: AssignmentSettings) -> QueueSelection:
    """The caller's queue out of `comments`: only what is assigned to them, in queue order."""
    if not in_plan(user):
        return QueueSelection("all", comments.order_by("article_id", "thread_order"))
    status = status_of(user)
    if status.paused:
        return QueueSelection("paused", comments.none(), f"Your annotation is paused: {status.pause_reason}")
    if must_qualify(user, settings, status):
        if status.qualification == QualificationStatus.FAILED:
            return QueueSelection(
                "failed",
                comments.none(),
                f"You answered {status.qualification_correct} of {status.qualification_scored} qualification "
                f"questions as the gold labels, below the {settings.qualification_pass:.0%} needed. "
                "A curator can let you try again.",
            )
        return QueueSelection("qualification", _assigned(comments, user, [AssignmentReason.QUALIFICATION]))
    if assignment_mode(settings):
        return QueueSelection("assigned", _assigned(comments, user, [*ORDINARY_REASONS, AssignmentReason.CHECK]))
    return QueueSelection("all", comments.order_by("article_id", "thread_order"))


def _assigned(comments: QuerySet[Comment], user: User, reasons: list[Any]) -> QuerySet[Comment]:
    # One join, filtered and read in the same call so that the position is that assignment's.
    return (
        comments.filter(assignments__annotator=user, assignments__reason__in=reasons)
        .annotate(queue_position=F("assignments__position"))
        .order_by("queue_position")
    )


def done_labels(active: int) -> Coalesce:
    """For an Assignment row: how many active topics its annotator labelled on its comment."""
    labels = (
        Annotation.objects.filter(annotator=OuterRef("annotator"), comment=OuterRef("comment"), topic__is_active=True)
        .order_by()
        .values("annotator")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(labels), 0)


def check_accuracy(users: QuerySet[User] | None = None) -> dict[str, dict[str, Any]]:
    """Per annotator: labels on their attention-check items compared with the gold labels, overall and per
    topic (`checked`, `correct`, `accuracy`)."""
    checks = Assignment.objects.filter(
        annotator=OuterRef("annotator"), comment=OuterRef("comment"), reason=AssignmentReason.CHECK
    )
    labels = (
        Annotation.objects.filter(Exists(checks))
        .annotate(gold=FilteredRelation("comment__gold_labels", condition=Q(comment__gold_labels__topic=F("topic"))))
        .filter(gold__isnull=False)
    )
    if users is not None:
        labels = labels.filter(annotator__in=users)
    rows = (
        labels.order_by()
        .values("annotator__username", "topic__slug")
        .annotate(checked=Count("pk"), correct=Count("pk", filter=Q(stance=F("gold__stance"))))
        .values_list("annotator__username", "topic__slug", "checked", "correct")
    )
    result: dict[str, dict[str, Any]] = {}
    for username, slug, checked, correct in rows:
        entry = result.setdefault(username, {"checked": 0, "correct": 0, "accuracy": None, "by_topic": {}})
        entry["checked"] += checked
        entry["correct"] += correct
        entry["by_topic"][slug] = {"checked": checked, "correct": correct, "accuracy": correct / checked}
    for entry in result.values():
        entry["accuracy"] = entry["correct"] / entry["checked"] if entry["checked"] else None
    return result


def assignment_summary(settings: AssignmentSettings) -> list[dict[str, Any]]:
    """Per annotator (annotator role, or anyone holding assignments): assigned, done, overlap done,
    remaining; attention checks; qualification; flag and pause."""
    active = Topic.objects.active().count()
    planned_ids = set(pool(settings).values_list("pk", flat=True))
    people = (
        User.objects.filter(Q(groups__name=Role.ANNOTATOR.value) | Q(assignments__isnull=False))
        .distinct()
        .order_by("username")
    )
    users = {user.pk: user for user in people}
    statuses = {status.annotator_id: status for status in AnnotatorStatus.objects.filter(annotator__in=people)}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    stored = Assignment.objects.filter(annotator__in=people)
    if not assignment_mode(settings):
        stored = stored.filter(reason__in=GOLD_REASONS)  # ordinary work is every item, stored nowhere
    rows = (
        stored.annotate(n=done_labels(active))
        .order_by()
        .values("annotator_id", "reason")
        .annotate(assigned=Count("pk"), done=Count("pk", filter=Q(n__gte=active)))
        .values_list("annotator_id", "reason", "assigned", "done")
    )
    for annotator, reason, assigned, done in rows:
        counts[annotator][f"{reason}_assigned"] += assigned
        counts[annotator][f"{reason}_done"] += done
    if not assignment_mode(settings):
        total = Comment.objects.count()
        per_item = (
            Annotation.objects.filter(topic__is_active=True, annotator__in=people, comment__isnull=False)
            .order_by()
            .values("annotator_id", "comment_id")
            .annotate(n=Count("pk"))
            .filter(n__gte=active)
            .values("annotator_id")
            .annotate(done=Count("comment_id"))
            .values_list("annotator_id", "done")
        )
        finished = dict(per_item)
        for pk in users:
            if pk in planned_ids:
                counts[pk]["overlap_assigned"] = total
                counts[pk]["overlap_done"] = finished.get(pk, 0)
    accuracy = check_accuracy(people)
    result = []
    for pk, user in users.items():
        mine = counts[pk]
        assigned = mine["overlap_assigned"] + mine["single_assigned"]
        done = mine["overlap_done"] + mine["single_done"]
        status = statuses.get(pk) or AnnotatorStatus(annotator=user)
        # No row yet, while qualification is required: a new annotator, who has it still to do.
        standing = QualificationStatus(status.qualification)
        if status._state.adding and must_qualify(user, settings, status):
            standing = QualificationStatus.PENDING
        checks = accuracy.get(user.username, {"checked": 0, "correct": 0, "accuracy": None, "by_topic": {}})
        result.append(
            {
                "annotator": user.username,
                "in_pool": pk in planned_ids,
                "assigned": assigned,
                "done": done,
                "overlap_assigned": mine["overlap_assigned"],
                "overlap_done": mine["overlap_done"],
                "remaining": assigned - done,
                "checks": {"assigned": mine["check_assigned"], **checks},
                "qualification": {
                    "status": standing.value,
                    "label": standing.label,
                    "items": mine["qualification_assigned"],
                    "answered": mine["qualification_done"],
                    "correct": status.qualification_correct,
                    "scored": status.qualification_scored,
                    "accuracy": status.qualification_correct / status.qualification_scored
                    if status.qualification_scored
                    else None,
                },
                "flagged": status.flagged,
                "flag_reason": status.flag_reason,
                "paused": status.paused,
                "pause_reason": status.pause_reason,
            }
        )
    return result


def ordinary_labels(labels: QuerySet[Annotation]) -> QuerySet[Annotation]:
    """Labels without those on the annotator's own check and qualification items: what agreement, consensus
    summaries and exports count as annotation."""
    gold_work = Assignment.objects.filter(
        annotator=OuterRef("annotator"), comment=OuterRef("comment"), reason__in=GOLD_REASONS
    )
    return labels.exclude(Exists(gold_work))


def agreement_sample(labels: QuerySet[Annotation], settings: AssignmentSettings) -> tuple[QuerySet[Annotation], str]:
    """The labels agreement rests on: ordinary labels, on the overlap sample when work is assigned."""
    if Assignment.objects.filter(reason__in=GOLD_REASONS).exists():
        labels = ordinary_labels(labels)
    if not assignment_mode(settings):
        return labels, "all"
    in_sample = Assignment.objects.filter(comment=OuterRef("comment"), reason=AssignmentReason.OVERLAP)
    # Articles' own items are not assigned (everyone labels them): they stay.
    return labels.filter(Q(comment__isnull=True) | Exists(in_sample)), "overlap"


def restrict_to_queue(comments: QuerySet[Comment], user: Any) -> QuerySet[Comment]:
    """`comments` narrowed to what the user's queue may serve (their assignments, qualification items while
    they qualify, nothing while paused), keeping the caller's order: for `?unannotated=true` in the API."""
    from annotations.assignment.actions import ensure_plan, start_qualification

    if not in_plan(user):
        return comments
    settings = ensure_plan()
    selection = queue_selection(user, comments, settings)
    if selection.state == "all":
        return comments
    if selection.state == "qualification":
        start_qualification(annotator=user, settings=settings)
        reasons: list[Any] = [AssignmentReason.QUALIFICATION]
    elif selection.state == "assigned":
        reasons = [*ORDINARY_REASONS, AssignmentReason.CHECK]
    else:
        return comments.none()
    return comments.filter(
        Exists(Assignment.objects.filter(annotator=user, comment=OuterRef("pk"), reason__in=reasons))
    )


@dataclass(frozen=True)
class Queue:
    selection: QueueSelection
    next_id: int | None  # the comment to show, if any
    total: int  # items in the queue
    remaining: int  # of which not finished


def queue_for(
    user: User, *, after: int | None = None, settings: AssignmentSettings | None = None, steering: Any = None
) -> Queue:
    """The user's queue: the next unfinished item (after `after`, wrapping around) and the counts. `settings`:
    as `ensure_plan` returned them earlier in the request, if it was called; `steering`: the suggestion
    settings, likewise (active learning picks the single items, see `_steered`)."""
    from annotations.assignment.actions import ensure_plan, start_qualification
    from annotations.filters import unfinished_by

    settings = settings or ensure_plan()
    selection = queue_selection(user, Comment.objects.all(), settings)
    if selection.state == "qualification":
        start_qualification(annotator=user, settings=settings)
    pending = unfinished_by(selection.comments, user)
    candidate = None
    if after is not None and selection.ordered_by_position:
        position = (
            Assignment.objects.filter(annotator=user, comment_id=after).values_list("position", flat=True).first()
        )
        if position is not None:
            candidate = pending.filter(queue_position__gt=position).values_list("pk", flat=True).first()
    elif after is not None:
        anchor = Comment.objects.filter(pk=after).values_list("article_id", "thread_order").first()
        if anchor is not None:
            article_id, order = anchor
            candidate = (
                pending.filter(Q(article_id__gt=article_id) | Q(article_id=article_id, thread_order__gt=order))
                .values_list("pk", flat=True)
                .first()
            )
    candidate = candidate or pending.values_list("pk", flat=True).first()
    if candidate is not None and selection.state == "assigned":
        candidate = _steered(user, pending, candidate, steering)
    total = selection.comments.count() if selection.state != "all" else Comment.objects.count()
    return Queue(selection, candidate, total, pending.count())


def _steered(user: User, pending: QuerySet[Comment], candidate: int, steering: Any = None) -> int:
    """With active learning on, a single-annotator item's slot in the queue goes to the item the model picks
    (issue 16); overlap and check items keep their places, so agreement still grows from the start."""
    from annotations.models import SuggestionSettings
    from annotations.suggestions.queries import active_learning_pick

    settings = steering or SuggestionSettings.current()
    if not settings.active_learning:
        return candidate
    if not Assignment.objects.filter(annotator=user, comment_id=candidate, reason=AssignmentReason.SINGLE).exists():
        return candidate
    return active_learning_pick(user, pending, settings) or candidate


def steered_order(user: Any, comments: QuerySet[Comment]) -> list[int] | None:
    """The order of the caller's queue in the API (`?unannotated=true`), as the queue page serves it: with
    active learning on, the ids of `comments` with the single-annotator items' places given to them by the
    model's uncertainty and the random share (issue 16); None (the list keeps its own order) otherwise."""
    from annotations.models import SuggestionSettings
    from annotations.suggestions.queries import active_learning_order

    if not in_plan(user):
        return None
    settings = SuggestionSettings.current()
    if not settings.active_learning:
        return None
    if queue_selection(user, Comment.objects.none(), AssignmentSettings.current()).state != "assigned":
        return None
    return active_learning_order(user, comments, settings)


def qualification_feedback(user: User, comment_id: int) -> dict[str, Any] | None:
    """After a qualification item is answered: the user's labels beside the gold ones, and the guidelines;
    None unless `comment_id` is one of the user's answered qualification items."""
    from annotations.models import GoldLabel

    assignment = (
        Assignment.objects.filter(
            annotator=user, comment_id=comment_id, reason=AssignmentReason.QUALIFICATION, scored_at__isnull=False
        )
        .select_related("comment")
        .first()
    )
    if assignment is None or assignment.comment is None:
        return None
    topics = list(Topic.objects.active())
    mine = dict(Annotation.objects.filter(annotator=user, comment_id=comment_id).values_list("topic_id", "stance"))
    gold = {row.topic_id: row for row in GoldLabel.objects.filter(comment_id=comment_id)}
    rows = [
        {
            "topic": topic,
            "yours": mine.get(topic.pk),
            "gold": gold[topic.pk].stance if topic.pk in gold else None,
            "note": gold[topic.pk].note if topic.pk in gold else "",
            "correct": topic.pk in gold and mine.get(topic.pk) == gold[topic.pk].stance,
        }
        for topic in topics
    ]
    answered = Assignment.objects.filter(
        annotator=user, reason=AssignmentReason.QUALIFICATION, scored_at__isnull=False
    ).aggregate(items=Count("pk"), correct=Coalesce(Sum("correct"), 0), scored=Coalesce(Sum("scored"), 0))
    return {"comment": assignment.comment, "rows": rows, "answered": answered}


@dataclass(frozen=True)
class OpenQueue:
    """The queue while everyone labels everything: items article by article, the article itself first, then its
    comments in thread order. `article_id` and `comment_id` name the next unfinished item (`comment_id` None
    for the article itself); both None when everything is done."""

    article_id: int | None
    comment_id: int | None
    total: int
    remaining: int


# A place in the open queue: (article id, thread order), the article itself at thread order -1.
QueuePosition = tuple[int, int]


def queue_position(*, comment_id: int | None = None, article_id: int | None = None) -> QueuePosition | None:
    """The place of the item the annotator leaves: an article (`after_article`) or a comment (`after`)."""
    if article_id is not None:
        return (article_id, -1)
    return Comment.objects.filter(pk=comment_id or 0).values_list("article_id", "thread_order").first()


def next_unfinished(user: User, *, after: QueuePosition | None = None) -> OpenQueue:
    """The first item after `after` that the user has not labelled on every active topic, wrapping around."""
    from annotations.filters import unfinished_by
    from debate.models import Article

    comments = unfinished_by(Comment.objects.all(), user).order_by("article_id", "thread_order")
    articles = unfinished_by(Article.objects.all(), user).order_by("pk")

    def first(after: QueuePosition | None) -> tuple[int, int | None] | None:
        pending_articles, pending_comments = articles, comments
        if after is not None:
            article_id, order = after
            pending_articles = articles.filter(pk__gt=article_id)
            pending_comments = comments.filter(
                Q(article_id__gt=article_id) | Q(article_id=article_id, thread_order__gt=order)
            )
        first_article = pending_articles.values_list("pk", flat=True).first()
        first_comment = pending_comments.values_list("article_id", "thread_order", "pk").first()
        if first_comment is not None and (first_article is None or first_comment[0] < first_article):
            return (first_comment[0], first_comment[2])
        return None if first_article is None else (first_article, None)

    found = (first(after) if after else None) or first(None)
    return OpenQueue(
        article_id=found[0] if found else None,
        comment_id=found[1] if found else None,
        total=Comment.objects.count() + Article.objects.count(),
        remaining=comments.count() + articles.count(),
    )
